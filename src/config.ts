import { randomBytes } from 'node:crypto'
import { z } from 'zod'

/**
 * The environment contract (see README "Configuration"). `.env.example` must list exactly these keys: a unit test
 * compares the two. Every variable is described, and the description is what `recharge-bridge --help` and the README
 * table show.
 */
const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
)

const optionalUrl = z.url({ protocol: /^https?$/ }).optional()

export const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('production refuses to start without RECHARGE_API_TOKEN, CUSTOMER_TOKEN_SECRET and ADMIN_API_KEY'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP listen port'),
  HOST: z.string().min(1).default('0.0.0.0').describe('HTTP listen address'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  RECHARGE_API_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe('Server-held Recharge API token. Unset = demo mode (embedded simulator). Never logged or returned'),
  RECHARGE_API_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://api.rechargeapps.com')
    .describe('Recharge API base URL; point it at the simulator for development'),
  RECHARGE_API_VERSION: z
    .string()
    .regex(/^\d{4}-\d{2}$/, 'must look like 2021-11')
    .default('2021-11')
    .describe('Sent as X-Recharge-Version on every upstream call'),
  RECHARGE_WEBHOOK_SECRET: z
    .string()
    .min(1)
    .optional()
    .describe("The API token's Client Secret, used to verify webhook signatures"),
  RECHARGE_STORE_SUBDOMAIN: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/i, 'must be a bare subdomain such as my-store')
    .optional()
    .describe('Hosted portal host: https://<subdomain>.admin.rechargeapps.com/portal/<hash>/…'),
  RECHARGE_BUCKET_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(40)
    .describe("The token's leaky bucket size (calls)"),
  RECHARGE_LEAK_RATE: z.coerce.number().positive().default(2).describe("The token's leak rate (calls per second)"),
  RECHARGE_EXPECTED_REPLICAS: z.coerce
    .number()
    .int()
    .positive()
    .default(2)
    .describe('Replicas sharing the token: while Redis is down each one spends only its share of the bucket'),
  PUBLIC_BUDGET_SHARE: z.coerce
    .number()
    .gt(0)
    .max(1)
    .default(0.25)
    .describe(
      'Share of the Recharge bucket all anonymous traffic together may spend (catalog misses, checkout creation)',
    ),
  PUBLIC_CLIENT_CALLS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('Recharge calls one anonymous client (by IP) may cause, at once and per minute'),
  SHOPPER_REREADS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(2)
    .default(6)
    .describe("Recharge calls one shopper's ownership re-reads (an id not in their cached list) may cost, per minute"),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/ })
    .optional()
    .describe('Shared cache, limiter, idempotency and webhook queue. Unset = in-process state (one replica)'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'letters, digits, _ . - only (at most 40)')
    .default('rb')
    .describe('Prefix of every Redis key and channel: separate environments or stores sharing one Redis'),
  CUSTOMER_TOKEN_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('HS256 key for customer tokens minted by the merchant backend'),
  ADMIN_API_KEY: z
    .string()
    .min(24, 'must be at least 24 characters')
    .optional()
    .describe('Bearer key for merchant-backend routes and the CLI'),
  CORS_ORIGINS: commaList
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'each origin must be an http(s) URL, never *' })))
    .optional()
    .describe('Comma-separated storefront origins allowed by CORS; never *'),
  PUBLIC_URL: optionalUrl.describe("The bridge's public base URL (webhook registration, redirect links)"),
  WEBHOOK_FORWARD_URL: optionalUrl.describe('Optional merchant endpoint that receives normalised, signed events'),
  WEBHOOK_FORWARD_SECRET: z
    .string()
    .min(16)
    .optional()
    .describe('HMAC key for events forwarded to WEBHOOK_FORWARD_URL'),
  POLICY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'JSON file with the merchant self-serve policy (allowed actions, cancel reasons, windows); built-in defaults otherwise',
    ),
  TRUST_PROXY: z
    .string()
    .optional()
    .describe('Proxies whose X-Forwarded-For is trusted (comma-separated IPs/CIDRs, or "true"); per-IP limits use it'),
  CHECKOUT_RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(6)
    .default(60)
    .describe('Checkout reads per client IP per minute; creates get 1/3 of it, updates 1/2, charge attempts 1/6'),
  SHUTDOWN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('How long in-flight requests may take to finish after SIGTERM'),
  CACHE_L1_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024)
    .describe('Bound of the in-process (L1) read cache in bytes of stored JSON; 0 disables L1 (Redis L2 only)'),
  DEMO_STOREFRONT: z
    .stringbool()
    .optional()
    .describe(
      'Serve the /demo storefront and its demo-only login outside demo mode (a bridge pointed at the simulator); never in production',
    ),
})

export type Env = z.infer<typeof envSchema>

export interface Config extends Omit<Env, 'CUSTOMER_TOKEN_SECRET' | 'ADMIN_API_KEY' | 'CORS_ORIGINS' | 'PUBLIC_URL'> {
  /** True when RECHARGE_API_TOKEN is unset: the app embeds the simulator and fills demo secrets. */
  readonly demoMode: boolean
  readonly CUSTOMER_TOKEN_SECRET: string
  readonly ADMIN_API_KEY: string
  readonly CORS_ORIGINS: readonly string[]
  readonly PUBLIC_URL: string
}

/** Variables production cannot run without (the rest have safe defaults). */
const requiredInProduction = ['RECHARGE_API_TOKEN', 'CUSTOMER_TOKEN_SECRET', 'ADMIN_API_KEY'] as const

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((line) => `  - ${line}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/**
 * Parse the environment into a frozen Config. Pure: reads only `env`, never process.env. Throws ConfigError with
 * one line per missing or invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(
    Object.keys(envSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  )
  const parsed = envSchema.safeParse(cleaned)
  const problems: string[] = []
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '')
      problems.push(`${key}: ${issue.message}`)
    }
  }
  if (cleaned.NODE_ENV === 'production') {
    for (const key of requiredInProduction) {
      if (!cleaned[key]) problems.push(`${key}: required when NODE_ENV=production (${describe(key)})`)
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)

  const values = parsed.data
  const demoMode = !values.RECHARGE_API_TOKEN
  const publicUrl = values.PUBLIC_URL ?? `http://localhost:${values.PORT}`
  return Object.freeze({
    ...values,
    demoMode,
    // Demo mode fills secrets nobody else knows; they last as long as the process.
    CUSTOMER_TOKEN_SECRET: values.CUSTOMER_TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
    ADMIN_API_KEY: values.ADMIN_API_KEY ?? `demo_${randomBytes(18).toString('base64url')}`,
    CORS_ORIGINS: Object.freeze(values.CORS_ORIGINS ?? [new URL(publicUrl).origin]),
    PUBLIC_URL: publicUrl.replace(/\/$/, ''),
  })
}

function describe(key: keyof typeof envSchema.shape): string {
  return envSchema.shape[key].description ?? ''
}

/** TRUST_PROXY as Fastify's `trustProxy` option: off, every hop, or the listed addresses and subnets. */
export function trustProxySetting(value: string | undefined): boolean | string[] {
  if (!value || value === 'false') return false
  if (value === 'true') return true
  return value.split(',').map((entry) => entry.trim())
}

/** Keys of the env contract, for the `.env.example` parity test and docs. */
export const envKeys = Object.keys(envSchema.shape) as (keyof Env)[]
