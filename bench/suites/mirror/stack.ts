/**
 * The processes of the mirror suite: one private redis-server, the simulator at Recharge's real budget (bucket 40,
 * 2 calls/s) with a store of generated customers, and pairs of bridge replicas (`node dist/server.js`) over the one
 * Redis, as a merchant would run two behind a load balancer.
 */
import type { RedisClientType } from 'redis'
import { createClient } from 'redis'
import { DisposableRedis } from '../../../tools/redis-server.ts'
import { BENCH_ADMIN_API_KEY, type BridgeProcess, startBridge } from '../../harness/bridge.ts'
import { stop } from '../../harness/processes.ts'
import { type SimulatorProcess, startSimulator } from '../../harness/simulator.ts'

export const BUCKET_SIZE = 40
export const LEAK_RATE = 2
/** A second token of the same store with a bucket of its own: changes made "in Recharge", not through the bridge. */
export const DIRECT_TOKEN = 'sk_bench_direct_changes'

export interface Shopper {
  id: number
  email: string
}

export interface MirrorStack {
  redis: DisposableRedis
  redisClient: RedisClientType
  simulator: SimulatorProcess
  /** Headers of the direct token. */
  direct: Record<string, string>
  log(line: string): void
}

export interface MirrorStatus {
  state: 'warming' | 'ready' | 'degraded'
  customers: number
  subscriptions: number
  charges: number
  lag_ms: number | null
  last_reconciled_at: string | null
}

export async function startStack(customers: number, log: (line: string) => void): Promise<MirrorStack> {
  const redis = await DisposableRedis.start()
  const simulator = await startSimulator({
    bucketSize: BUCKET_SIZE,
    leakRate: LEAK_RATE,
    seedCustomers: customers,
    extraTokens: [DIRECT_TOKEN],
    webhookAutoDeliver: true,
  })
  const redisClient = createClient({ url: redis.url }) as RedisClientType
  await redisClient.connect()
  return {
    redis,
    redisClient,
    simulator,
    direct: { 'x-recharge-access-token': DIRECT_TOKEN, 'x-recharge-version': '2021-11' },
    log,
  }
}

export async function stopStack(stack: MirrorStack | undefined): Promise<void> {
  if (!stack) return
  await stack.redisClient.quit().catch(() => undefined)
  await stack.redis.stop()
}

export interface PairSettings {
  name: string
  mirror: boolean
  /** Each pair's keys (cache, budget, mirror) under a prefix of its own. */
  keyPrefix: string
  reconcileSeconds: number
  /** Where Recharge delivers webhooks: the first pair's first replica (registered once, by it). */
  publicUrl?: string
  /** Start the second replica only once the first holds the sync lease (the lease test kills the holder). */
  staggered?: boolean
}

export interface ReplicaPair {
  name: string
  replicas: [BridgeProcess, BridgeProcess]
  /** When the first replica was spawned (epoch ms). */
  startedAt: number
  stop(): Promise<void>
}

export async function startPair(stack: MirrorStack, settings: PairSettings): Promise<ReplicaPair> {
  const env = (publicUrl: string | undefined): Record<string, string> => ({
    MIRROR: settings.mirror ? 'on' : 'off',
    MIRROR_RECONCILE_SECONDS: String(settings.reconcileSeconds),
    REDIS_KEY_PREFIX: settings.keyPrefix,
    // The simulator signs its deliveries with the API client secret.
    RECHARGE_WEBHOOK_SECRET: stack.simulator.clientSecret,
    ...(publicUrl ? { PUBLIC_URL: publicUrl } : {}),
  })
  const common = {
    simulator: stack.simulator,
    redisUrl: stack.redis.url,
    bucketSize: BUCKET_SIZE,
    leakRate: LEAK_RATE,
  }
  const startedAt = Date.now()
  const first = await startBridge({ ...common, name: `${settings.name}1`, extraEnv: env(settings.publicUrl) })
  if (settings.staggered) await waitForLease(stack, settings.keyPrefix)
  const second = await startBridge({
    ...common,
    name: `${settings.name}2`,
    extraEnv: env(settings.publicUrl ?? first.url),
  })
  const replicas: [BridgeProcess, BridgeProcess] = [first, second]
  return {
    name: settings.name,
    replicas,
    startedAt,
    async stop() {
      await Promise.all(replicas.map((replica) => stop(replica.process.child)))
    },
  }
}

/** The mirror keys of a prefix (`<prefix>:mirror:<store fingerprint>:…`). */
export async function mirrorKeys(stack: MirrorStack, keyPrefix: string): Promise<string[]> {
  const keys: string[] = []
  for await (const batch of stack.redisClient.scanIterator({ MATCH: `${keyPrefix}:mirror:*`, COUNT: 1000 })) {
    keys.push(...batch)
  }
  return keys
}

async function waitForLease(stack: MirrorStack, keyPrefix: string): Promise<string> {
  const until = Date.now() + 60_000
  while (Date.now() < until) {
    const lease = (await mirrorKeys(stack, keyPrefix)).find((key) => key.endsWith(':lease'))
    if (lease) return lease
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no replica took the sync lease under ${keyPrefix} within 60 s`)
}

export const adminHeaders = { authorization: `Bearer ${BENCH_ADMIN_API_KEY}` }

export async function mirrorStatus(bridge: BridgeProcess): Promise<MirrorStatus> {
  const response = await fetch(`${bridge.url}/v1/admin/mirror`, { headers: adminHeaders })
  if (!response.ok) throw new Error(`GET /v1/admin/mirror → ${response.status}: ${await response.text()}`)
  return (await response.json()) as MirrorStatus
}

/** A customer token minted by the admin route (POST /v1/admin/customer-tokens), for an hour (the longest allowed). */
export async function mintToken(bridge: BridgeProcess, email: string): Promise<{ status: number; token?: string }> {
  const response = await fetch(`${bridge.url}/v1/admin/customer-tokens`, {
    method: 'POST',
    headers: { ...adminHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ email, expires_in: 3600 }),
    signal: AbortSignal.timeout(60_000),
  })
  const body = await response.text()
  if (response.status !== 201) return { status: response.status }
  return { status: 201, token: (JSON.parse(body) as { token: string }).token }
}

export interface StoreState {
  customers: { id: number; email: string; last_name?: string | null }[]
  addresses: { id: number; customer_id: number; first_name?: string | null }[]
  subscriptions: { id: number; customer_id: number; status: string; quantity: number }[]
  charges: { id: number; status: string }[]
}

/** The simulator's whole store (its control API: no budget spent). */
export async function storeState(simulator: SimulatorProcess): Promise<StoreState> {
  const response = await fetch(`${simulator.url}/__sim/state`)
  if (!response.ok) throw new Error(`GET /__sim/state → ${response.status}`)
  return (await response.json()) as StoreState
}

/**
 * Every healthy shopper of the store (an active subscription, a valid card), in id order: each phase takes its own
 * slice, so no shopper is served twice and no cache flatters a result.
 */
export function healthyShoppers(state: StoreState): Shopper[] {
  const active = new Set(
    state.subscriptions.filter((row) => row.status.toLowerCase() === 'active').map((row) => row.customer_id),
  )
  const rows = state.customers as (StoreState['customers'][number] & {
    has_payment_method_in_dunning?: boolean
    has_valid_payment_method?: boolean
  })[]
  return rows
    .filter(
      (row) =>
        active.has(row.id) && row.has_payment_method_in_dunning !== true && row.has_valid_payment_method !== false,
    )
    .map((row) => ({ id: row.id, email: row.email }))
    .sort((a, b) => a.id - b.id)
}

/** Takes shoppers off the front of the list; throws when the store has too few. */
export class ShopperPool {
  #next = 0
  readonly shoppers: Shopper[]
  constructor(shoppers: Shopper[]) {
    this.shoppers = shoppers
  }
  take(count: number, what: string): Shopper[] {
    if (this.#next + count > this.shoppers.length) {
      throw new Error(
        `${what}: needs ${count} more distinct shoppers, the store has ${this.shoppers.length - this.#next} left`,
      )
    }
    const taken = this.shoppers.slice(this.#next, this.#next + count)
    this.#next += count
    return taken
  }
  get left(): number {
    return this.shoppers.length - this.#next
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Long enough for an empty bucket (40 calls at 2/s) to fill again: the next slice starts from the same budget. */
export const REFILL_MS = (BUCKET_SIZE / LEAK_RATE + 5) * 1000
