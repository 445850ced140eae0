import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Where a component gets the time and waits for it. Injected so tests run on virtual time (vi.useFakeTimers with a
 * clock over the faked globals) instead of measuring the wall clock.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /** Resolves after `ms`; rejects (AbortError) when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
}
