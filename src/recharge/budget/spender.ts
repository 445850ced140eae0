import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Who an upstream call is spent for. Routes that anyone may call (the catalog, checkout creation) run their work as
 * a `public` spender named by the client address; the queue charges each interactive call made in that context to
 * the public share of the bucket and to that client's allowance (src/recharge/budget/budget.ts).
 *
 * Carried in an AsyncLocalStorage rather than through every call signature: a catalog read passes through the cache,
 * whose single-flight fetch runs in the context of the caller that started it, so a call is charged to exactly the
 * client that made it happen, and followers that share its result spend nothing.
 */
export type Spender =
  | {
      kind: 'public'
      /** The client's address; null charges the public share only (work another limit already bounds per client). */
      client: string | null
    }
  /**
   * A read an answer can do without (e.g. the actions offered beside a list): it books in its own lane, ahead of
   * background work but only halfway into the reserve kept for interactive calls (queue/gcra.ts), so when many
   * shoppers arrive at once the reads their answers need go first.
   */
  | { kind: 'optional' }

const context = new AsyncLocalStorage<Spender | null>()

/** Run `work` with its upstream calls charged to `spender` (`null`: the store's own work, charged to nobody). */
export function spendAs<T>(spender: Spender | null, work: () => T): T {
  return context.run(spender, work)
}

export function currentSpender(): Spender | null {
  return context.getStore() ?? null
}
