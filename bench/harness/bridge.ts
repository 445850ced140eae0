/**
 * A bridge replica exactly as users run it: `node dist/server.js`, NODE_ENV=production, configured only through its
 * environment.
 */
import { mintCustomerToken, secretKey } from '../../src/identity/customer-token.ts'
import { freePort } from '../../tools/free-port.ts'
import { repoRoot, type Spawned, spawnNode, waitForHttp } from './processes.ts'
import type { SimulatorProcess } from './simulator.ts'

const BENCH_CUSTOMER_TOKEN_SECRET = 'bench-customer-token-secret-0123456789abcdef'
export const BENCH_ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef'
export const BENCH_WEBHOOK_SECRET = 'bench_webhook_secret_0123456789'

export interface BridgeProcess {
  name: string
  url: string
  process: Spawned
}

export interface BridgeSettings {
  name: string
  simulator: SimulatorProcess
  redisUrl: string
  /** The token's budget as the bridge's queue sees it (the throughput suite uses an unlimited one). */
  bucketSize: number
  leakRate: number
  /** 0 disables L1: every cached read goes to Redis. */
  l1MaxBytes?: number
  extraEnv?: Record<string, string>
}

export async function startBridge(settings: BridgeSettings): Promise<BridgeProcess> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const process_ = spawnNode(`${repoRoot}dist/server.js`, [], {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    RECHARGE_API_URL: settings.simulator.url,
    RECHARGE_API_TOKEN: settings.simulator.apiToken,
    RECHARGE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    RECHARGE_STORE_SUBDOMAIN: settings.simulator.storeSubdomain,
    RECHARGE_BUCKET_SIZE: String(settings.bucketSize),
    RECHARGE_LEAK_RATE: String(settings.leakRate),
    REDIS_URL: settings.redisUrl,
    CUSTOMER_TOKEN_SECRET: BENCH_CUSTOMER_TOKEN_SECRET,
    ADMIN_API_KEY: BENCH_ADMIN_API_KEY,
    CORS_ORIGINS: 'https://shop.example',
    PUBLIC_URL: url,
    // Explicit, whatever the default: the suites measure the queue and cache path, and the account mirror would add
    // its background sync to their budget. The mirror suite turns it on.
    MIRROR: 'off',
    ...(settings.l1MaxBytes !== undefined ? { CACHE_L1_MAX_BYTES: String(settings.l1MaxBytes) } : {}),
    ...settings.extraEnv,
  })
  await waitForHttp(`${url}/healthz`, process_, `bridge ${settings.name}`)
  return { name: settings.name, url, process: process_ }
}

/** The simulator's first customer, with a customer token for it that outlives a whole run (an hour). */
export async function benchShopper(simulator: SimulatorProcess): Promise<{ id: number; email: string; token: string }> {
  const response = await fetch(`${simulator.url}/customers?limit=1`, { headers: simulator.headers })
  const { customers } = (await response.json()) as { customers: { id: number; email: string }[] }
  const first = customers[0]
  if (!first) throw new Error('the simulator has no customers')
  const { token } = await mintCustomerToken(
    { kind: 'email', email: first.email },
    secretKey(BENCH_CUSTOMER_TOKEN_SECRET),
    { lifetimeS: 3600 },
  )
  return { id: first.id, email: first.email, token }
}
