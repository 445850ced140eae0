import { buildSimulator } from '../../src/simulator/app.ts'
import type { FaultRule } from '../../src/simulator/faults.ts'
import type { LedgerEntry, LedgerFilter } from '../../src/simulator/ledger.ts'
import type { SimulatorOptions } from '../../src/simulator/options.ts'
import type * as SimRetention from '../../src/simulator/retention-types.ts'
import type * as Sim from '../../src/simulator/types.ts'
import type { DeliveryResult } from '../../src/simulator/webhooks/dispatcher.ts'
import type { WebhookDropRule } from '../../src/simulator/webhooks/drops.ts'

/**
 * The Recharge simulator for tests: a real HTTP server on 127.0.0.1:<ephemeral port>, driven through its control
 * API (`/__sim/*`). Point the code under test at `url` with `apiToken`; assert on `ledger()` and `state()`.
 *
 *   const sim = await startTestSimulator()
 *   const config = testConfig({ RECHARGE_API_URL: sim.url, RECHARGE_API_TOKEN: sim.apiToken })
 *   …
 *   expect(await sim.ledger({ method: 'POST', path: '/charges/*' })).toHaveLength(1)
 *   await sim.close()
 */
export interface TestSimulator {
  url: string
  apiToken: string
  clientSecret: string
  storeSubdomain: string
  /** Headers for calling the simulator directly (access token + version). */
  headers: Record<string, string>
  /** Call the Recharge API of the simulator as a client would (with the token); the body parsed, or null. */
  // biome-ignore lint/suspicious/noExplicitAny: any Recharge body; each test asserts the shape it expects
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  ledger(filter?: LedgerFilter): Promise<LedgerEntry[]>
  state(): Promise<SimSnapshot>
  reset(): Promise<void>
  setFaults(rules: FaultRule[]): Promise<void>
  clearFaults(): Promise<void>
  /** How many requests a `gate` fault rule holds at this gate now (0 for a gate nothing reached yet). */
  heldAt(gate: string): Promise<number>
  /** Opens a gate: releases the requests it holds and lets later ones through until the faults change. */
  openGate(gate: string): Promise<void>
  /** Delivers every pending webhook now and reports each attempt. */
  deliverWebhooks(): Promise<DeliveryResult[]>
  /** The delivery log (last 1,000 attempts); `{dropped: true}` keeps the deliveries a drop rule lost. */
  webhookDeliveries(filter?: { dropped?: boolean }): Promise<DeliveryResult[]>
  /** Replaces the webhook drop rules (`POST /__sim/webhooks/faults`); `[]` or `clearWebhookFaults()` ends the loss. */
  setWebhookFaults(rules: WebhookDropRule[]): Promise<void>
  clearWebhookFaults(): Promise<void>
  /** Moves the simulator clock (leaky bucket, timestamps). Freeze it with `{ frozenClock: true }`. */
  advanceClock(ms: number): Promise<void>
  close(): Promise<void>
}

export interface SimSnapshot {
  now: string
  store: Sim.Store
  customers: (Sim.Customer & { subscriptions_active_count: number; subscriptions_total_count: number })[]
  addresses: Sim.Address[]
  payment_methods: Sim.PaymentMethod[]
  subscriptions: (Sim.Subscription & { has_queued_charges: boolean })[]
  onetimes: Sim.Onetime[]
  charges: Sim.Charge[]
  orders: Sim.Order[]
  products: Sim.Product[]
  plans: Sim.Plan[]
  checkouts: Sim.Checkout[]
  webhooks: Sim.Webhook[]
  async_batches: Sim.AsyncBatch[]
  discounts: SimRetention.StoreDiscount[]
  retention_strategies: SimRetention.RetentionStrategy[]
  subscription_pauses: SimRetention.SubscriptionPause[]
  notifications: Sim.SentNotification[]
  buckets: { token_index: number; used: number; size: number }[]
}

export async function startTestSimulator(options: SimulatorOptions = {}): Promise<TestSimulator> {
  const app = await buildSimulator(options)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const { apiTokens, clientSecret, storeSubdomain } = app.sim.options
  const apiToken = apiTokens[0] as string
  const headers = { 'x-recharge-access-token': apiToken, 'x-recharge-version': '2021-11' }

  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!response.ok)
      throw new Error(`simulator control ${method} ${path} → ${response.status}: ${await response.text()}`)
    return (await response.json()) as T
  }

  return {
    url,
    apiToken,
    clientSecret,
    storeSubdomain,
    headers,
    async api(method, path, body) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : null }
    },
    async ledger(filter = {}) {
      const query = new URLSearchParams()
      if (filter.method) query.set('method', filter.method)
      if (filter.path) query.set('path', filter.path)
      if (filter.status !== undefined) query.set('status', String(filter.status))
      const { requests } = await control<{ requests: LedgerEntry[] }>('GET', `/__sim/requests?${query}`)
      return requests
    },
    state: () => control<SimSnapshot>('GET', '/__sim/state'),
    async reset() {
      await control('POST', '/__sim/reset', {})
    },
    async setFaults(rules) {
      await control('POST', '/__sim/faults', { rules })
    },
    async clearFaults() {
      await control('DELETE', '/__sim/faults')
    },
    async heldAt(gate) {
      const { gates } = await control<{ gates: { name: string; held: number }[] }>('GET', '/__sim/gates')
      return gates.find((entry) => entry.name === gate)?.held ?? 0
    },
    async openGate(gate) {
      await control('POST', `/__sim/gates/${encodeURIComponent(gate)}/open`, {})
    },
    async deliverWebhooks() {
      const { deliveries } = await control<{ deliveries: DeliveryResult[] }>('POST', '/__sim/webhooks/deliver', {})
      return deliveries
    },
    async webhookDeliveries(filter = {}) {
      const query = filter.dropped === undefined ? '' : `?dropped=${filter.dropped}`
      const { deliveries } = await control<{ deliveries: DeliveryResult[] }>(
        'GET',
        `/__sim/webhooks/deliveries${query}`,
      )
      return deliveries
    },
    async setWebhookFaults(rules) {
      await control('POST', '/__sim/webhooks/faults', { rules })
    },
    async clearWebhookFaults() {
      await control('DELETE', '/__sim/webhooks/faults')
    },
    async advanceClock(ms) {
      await control('POST', '/__sim/clock', { advanceMs: ms })
    },
    close: () => app.close(),
  }
}
