/**
 * Simulator settings. `simulatorOptionsFromEnv` maps the documented SIM_* variables; `buildSimulator` fills the
 * rest with `resolveOptions`. Every knob that shapes timing has a default small enough for tests and benchmarks.
 */
export interface SimulatorOptions {
  /** Seed for the deterministic data set (ids, names, hashes). */
  seed?: string
  /** Accepted access tokens; each has its own leaky bucket. The first is the "primary" one. */
  apiTokens?: string[]
  /** The token's API Client Secret (webhook signatures). */
  clientSecret?: string
  storeSubdomain?: string
  storeName?: string
  /** ISO 4217 code; zero-decimal currencies (JPY, KRW…) get integer money strings. */
  currency?: string
  bucketSize?: number
  /** Calls leaked per second. */
  leakRate?: number
  /** How long a write holds its address (a concurrent write under the same address gets 409). 0 disables. */
  addressWriteWindowMs?: number
  /** How long `POST /checkouts/{token}/charge` takes (a concurrent charge of the same checkout gets 409). */
  checkoutChargeMs?: number
  /** Deliver webhooks in the background as events happen (false: only `POST /__sim/webhooks/deliver`). */
  webhookAutoDeliver?: boolean
  /** First retry delay; doubles per attempt (time-compressed from Recharge's 48 h schedule). */
  webhookRetryBaseMs?: number
  /** Consecutive failed deliveries after which the webhook registration is deleted (Recharge: 20). */
  webhookMaxFailures?: number
  /** Per-delivery timeout (Recharge: 5 s). */
  webhookTimeoutMs?: number
  /**
   * Generated shoppers added to the data set (`SIM_SEED_CUSTOMERS`): each with a card, an address, 1–3
   * subscriptions and their queued charges (seed-generated.ts). 0 (default) to 100,000.
   */
  seedCustomers?: number
  /** Start with a frozen clock that only moves through `POST /__sim/clock` (deterministic bucket tests). */
  frozenClock?: boolean
}

export type ResolvedOptions = Required<SimulatorOptions>

/** The most generated shoppers a simulator takes (about 1 GB of records is where a test machine starts to suffer). */
export const MAX_SEED_CUSTOMERS = 100_000

const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
])

export function currencyDecimals(currency: string): number {
  return ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2
}

export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const apiTokens = options.apiTokens?.filter((token) => token.length > 0) ?? []
  return {
    seed: options.seed ?? 'recharge-bridge',
    apiTokens: apiTokens.length > 0 ? apiTokens : ['sk_test_simulator'],
    clientSecret: options.clientSecret ?? 'sim_client_secret',
    storeSubdomain: options.storeSubdomain ?? 'simulator-store',
    storeName: options.storeName ?? 'Simulator Coffee Co.',
    currency: (options.currency ?? 'USD').toUpperCase(),
    bucketSize: positive(options.bucketSize, 40),
    leakRate: positive(options.leakRate, 2),
    addressWriteWindowMs: nonNegative(options.addressWriteWindowMs, 15),
    checkoutChargeMs: nonNegative(options.checkoutChargeMs, 50),
    webhookAutoDeliver: options.webhookAutoDeliver ?? true,
    webhookRetryBaseMs: nonNegative(options.webhookRetryBaseMs, 1000),
    webhookMaxFailures: positive(options.webhookMaxFailures, 20),
    webhookTimeoutMs: positive(options.webhookTimeoutMs, 5000),
    frozenClock: options.frozenClock ?? false,
    seedCustomers: seedCustomerCount(options.seedCustomers),
  }
}

/** SIM_* environment variables → options (unset or empty variables keep the defaults). */
export function simulatorOptionsFromEnv(env: NodeJS.ProcessEnv): SimulatorOptions {
  const text = (name: string) => (env[name] && env[name] !== '' ? env[name] : undefined)
  const num = (name: string) => {
    const value = text(name)
    if (value === undefined) return undefined
    const parsed = Number(value)
    if (!Number.isFinite(parsed)) throw new Error(`${name} must be a number, got "${value}"`)
    return parsed
  }
  const flag = (name: string) => {
    const value = text(name)
    return value === undefined ? undefined : value === 'true' || value === '1'
  }
  return {
    seed: text('SIM_SEED'),
    apiTokens: text('SIM_API_TOKEN')
      ?.split(',')
      .map((token) => token.trim()),
    clientSecret: text('SIM_CLIENT_SECRET'),
    storeSubdomain: text('SIM_STORE_SUBDOMAIN'),
    storeName: text('SIM_STORE_NAME'),
    currency: text('SIM_CURRENCY'),
    bucketSize: num('SIM_BUCKET_SIZE'),
    leakRate: num('SIM_LEAK_RATE'),
    addressWriteWindowMs: num('SIM_ADDRESS_WRITE_WINDOW_MS'),
    checkoutChargeMs: num('SIM_CHECKOUT_CHARGE_MS'),
    webhookAutoDeliver: flag('SIM_WEBHOOK_AUTO_DELIVER'),
    webhookRetryBaseMs: num('SIM_WEBHOOK_RETRY_MS'),
    webhookMaxFailures: num('SIM_WEBHOOK_MAX_FAILURES'),
    webhookTimeoutMs: num('SIM_WEBHOOK_TIMEOUT_MS'),
    seedCustomers: num('SIM_SEED_CUSTOMERS'),
  }
}

/** A whole number from 0 to MAX_SEED_CUSTOMERS; anything else is a configuration mistake worth stopping for. */
function seedCustomerCount(value: number | undefined): number {
  if (value === undefined) return 0
  if (!Number.isInteger(value) || value < 0 || value > MAX_SEED_CUSTOMERS) {
    throw new Error(`SIM_SEED_CUSTOMERS must be a whole number from 0 to ${MAX_SEED_CUSTOMERS}, got "${value}"`)
  }
  return value
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

function nonNegative(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback
}
