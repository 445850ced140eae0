import { randomBytes } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import { z } from 'zod'
import { parseRedisTopology, type RedisTopology, type RedisTopologySettings } from './infra/redis-topology.ts'

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

/**
 * One CORS_ORIGINS entry, normalised to the origin a browser sends (`https://shop.example`: lower-case, no default
 * port, no trailing slash). Anything that is more than an origin (a path, query, fragment, credentials) or a wildcard
 * would never match a browser's Origin header, so it is refused rather than silently ignored.
 */
const corsOrigin = z.string().transform((entry, context) => {
  const refuse = (why: string) => {
    context.addIssue({ code: 'custom', message: `"${entry}" ${why}; give the origin only, as https://shop.example` })
    return z.NEVER
  }
  if (entry.includes('*')) return refuse('is a wildcard, never allowed')
  let url: URL
  try {
    url = new URL(entry)
  } catch {
    return refuse('is not a URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('is not http(s)')
  if (url.username || url.password) return refuse('has credentials')
  if (url.pathname !== '/' || url.search || url.hash || /[?#]/.test(entry))
    return refuse('has a path, query or fragment')
  return url.origin
})

export const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe(
      'production refuses to start without RECHARGE_API_TOKEN, CUSTOMER_TOKEN_SECRET, ADMIN_API_KEY and PUBLIC_URL (docs/production.md)',
    ),
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
    .string()
    .optional()
    .describe(
      'Shared cache, limiter, idempotency and webhook queue: redis://[:password@]host:port (rediss:// for TLS), or a cluster seed list redis+cluster://[:password@]host:port,host:port (rediss+cluster:// for TLS). Unset (and no REDIS_SENTINELS) = in-process state (one replica)',
    ),
  REDIS_SENTINELS: z
    .string()
    .optional()
    .describe('Redis behind Sentinel instead of REDIS_URL: the sentinels as host:port,host:port'),
  REDIS_SENTINEL_NAME: z
    .string()
    .optional()
    .describe("With REDIS_SENTINELS: the primary's name in the sentinels' config (sentinel monitor <name> …)"),
  REDIS_SENTINEL_PASSWORD: z
    .string()
    .optional()
    .describe('With REDIS_SENTINELS: the password of the sentinels themselves (their requirepass), when they have one'),
  REDIS_PASSWORD: z
    .string()
    .optional()
    .describe('With REDIS_SENTINELS: the password of the primary and replicas (REDIS_URL carries its own in the URL)'),
  REDIS_TLS: z
    .enum(['on', 'off'])
    .optional()
    .describe('With REDIS_SENTINELS: on = TLS to the sentinels, the primary and replicas (REDIS_URL uses rediss://)'),
  MIRROR: z
    .enum(['auto', 'on', 'off'])
    .default('off')
    .describe(
      "Keep a webhook-fed mirror of the store's account data in Redis so account pages cost no Recharge calls (on needs a Redis); auto = on when a Redis and PUBLIC_URL (where webhooks arrive) are set, outside demo mode",
    ),
  MIRROR_RECONCILE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(300)
    .describe(
      'How often the mirror re-lists records changed since its last pass (updated_at_min), healing lost webhooks',
    ),
  REDIS_IDEMPOTENCY_REPLICAS: z.coerce
    .number()
    .int()
    .min(0)
    .max(5)
    .optional()
    .describe(
      'Cluster or Sentinel: replicas that must hold an idempotency key (WAIT) before its write is sent, else 503 IDEMPOTENCY_STORE_UNAVAILABLE; 0 = no WAIT. Default 1 there; ignored (0) on one Redis',
    ),
  REDIS_IDEMPOTENCY_WAIT_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(1_000)
    .default(250)
    .describe('How long a keyed write waits for those replicas (WAIT timeout; the connection is blocked meanwhile)'),
  MIRROR_SWEEP_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(21_600)
    .describe(
      'How often the mirror re-lists customers, addresses, subscriptions and onetimes whole and drops what Recharge no longer has (deletions whose webhook was lost)',
    ),
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
    .pipe(z.array(corsOrigin))
    .optional()
    .describe(
      'Comma-separated storefront origins allowed by CORS (origins only, never *); production requires it, set empty for server-to-server use',
    ),
  PUBLIC_URL: optionalUrl.describe(
    "The bridge's public base URL (webhook registration, redirect links); required in production, and public when Recharge is",
  ),
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
  CATALOG_FEED_ALLOW_PRIVATE: z
    .stringbool()
    .default(false)
    .describe(
      'Let POST /v1/admin/catalog/sync feed_url reach loopback, private and link-local addresses (a feed on the internal network, a local simulator); off by default',
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
  METRICS_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters')
    .optional()
    .describe('Bearer token /metrics requires (Authorization: Bearer …); unset = /metrics is open on its port'),
  METRICS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe('Serve /metrics on this port (on HOST) instead of the API port'),
  SHOPIFY_SHOP_DOMAIN: z
    .string()
    .transform((value) => value.trim().toLowerCase())
    .pipe(
      z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/,
          "must be the shop's permanent domain, as my-store.myshopify.com",
        ),
    )
    .optional()
    .describe(
      'The Shopify shop (my-store.myshopify.com): enables Sign in with Shopify (POST /v1/auth/shopify) with the Customer Account API; each other method also needs its own setting',
    ),
  SHOPIFY_API_URL: optionalUrl.describe(
    "Where the shop's Shopify APIs answer; default https://<SHOPIFY_SHOP_DOMAIN> (point it at the Shopify stand-in for development)",
  ),
  SHOPIFY_APP_SECRET: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe(
      "The Shopify app's client secret: enables signed app-proxy requests under /v1/app-proxy/ (and, with SHOPIFY_APP_CLIENT_ID, session tokens)",
    ),
  SHOPIFY_APP_CLIENT_ID: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe("The Shopify app's client id, the audience of customer-account extension session tokens"),
  SHOPIFY_STOREFRONT_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('Storefront API access token: enables sign-in with Storefront API customer access tokens'),
  SHOPIFY_STOREFRONT_API_VERSION: z
    .string()
    .regex(/^\d{4}-\d{2}$/, 'must look like 2025-07')
    .default('2025-07')
    .describe('Storefront API version the customer query is sent to'),
  SHOPIFY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(30_000)
    .default(3000)
    .describe('Deadline of one Shopify verification (discovery and query together); past it the sign-in answers 503'),
  SHOPIFY_APP_PROXY_MAX_AGE_S: z.coerce
    .number()
    .int()
    .min(10)
    .max(3600)
    .default(300)
    .describe('Oldest app-proxy timestamp accepted (seconds): how long a captured proxy URL could be replayed'),
  SHOPIFY_SIGN_IN_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(60)
    .describe(
      'Sign-ins (POST /v1/auth/shopify) one client IP may make per minute (a storefront server exchanging for its shoppers is one client)',
    ),
  SHOPIFY_SIGN_IN_SHOP_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(600)
    .describe('Sign-ins the whole shop may make per minute (all clients together): bounds the calls made to Shopify'),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl.describe(
    'OTLP/HTTP collector base URL (…/v1/traces is appended): set it to export OpenTelemetry traces',
  ),
  OTEL_SERVICE_NAME: z.string().min(1).default('recharge-bridge').describe('service.name of the exported traces'),
})

export type Env = z.infer<typeof envSchema>

export interface Config
  extends Omit<Env, 'CUSTOMER_TOKEN_SECRET' | 'ADMIN_API_KEY' | 'CORS_ORIGINS' | 'PUBLIC_URL' | 'MIRROR'> {
  /** MIRROR after `auto` is decided (see mirrorSetting). */
  readonly MIRROR: 'on' | 'off'
  /** True when RECHARGE_API_TOKEN is unset: the app embeds the simulator and fills demo secrets. */
  readonly demoMode: boolean
  readonly CUSTOMER_TOKEN_SECRET: string
  readonly ADMIN_API_KEY: string
  readonly CORS_ORIGINS: readonly string[]
  readonly PUBLIC_URL: string
  /** Where the shared Redis is (one server, a cluster or Sentinel), from REDIS_URL / REDIS_SENTINELS; null = none. */
  readonly redis: RedisTopology | null
  /**
   * Replicas that must acknowledge an idempotency key's dispatched marker before its write is sent: the setting on a
   * cluster or Sentinel (default 1), always 0 on one Redis or none (there is no replica to promote).
   */
  readonly idempotencyReplicas: number
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
    // Unset is a forgotten setting (every cross-origin storefront call would fail); empty is a decision.
    if (env.CORS_ORIGINS === undefined) {
      problems.push(
        'CORS_ORIGINS: required when NODE_ENV=production: list the storefront origins, or set it empty (CORS_ORIGINS=) when no browser calls the bridge',
      )
    }
  }
  // Read from the raw values so a bad REDIS_URL is reported beside the other variables' problems.
  const redis = parseRedisTopology(cleaned as Record<string, string | undefined> as RedisTopologySettings)
  problems.push(...redis.problems)
  if (parsed.success && parsed.data.MIRROR === 'on' && !redis.topology && redis.problems.length === 0) {
    problems.push(
      'MIRROR: on needs REDIS_URL or REDIS_SENTINELS (the mirror lives in Redis); set one of them or MIRROR=off',
    )
  }
  if (parsed.success) problems.push(...shopifyProblems(parsed.data))
  if (parsed.success && cleaned.NODE_ENV === 'production') problems.push(...productionProblems(parsed.data))
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
    // Set but empty: no browser origin at all (server-to-server). Unset outside production: the bridge's own origin.
    CORS_ORIGINS: Object.freeze(
      values.CORS_ORIGINS ?? (env.CORS_ORIGINS !== undefined ? [] : [new URL(publicUrl).origin]),
    ),
    PUBLIC_URL: publicUrl.replace(/\/$/, ''),
    MIRROR: mirrorSetting(values.MIRROR, { redis: redis.topology !== null, demoMode, publicUrl: values.PUBLIC_URL }),
    redis: redis.topology ? Object.freeze(redis.topology) : null,
    idempotencyReplicas: idempotencyReplicas(redis.topology, values.REDIS_IDEMPOTENCY_REPLICAS),
  })
}

/** A replicated topology replicates keys asynchronously: one replica must hold a key unless the operator says 0. */
function idempotencyReplicas(topology: RedisTopology | null, setting: number | undefined): number {
  if (!topology || topology.kind === 'single') return 0
  return setting ?? 1
}

/**
 * `auto` turns the mirror on where it stays fresh and pays off: a Redis to hold it, and a PUBLIC_URL Recharge can send
 * its webhooks to (without them a mirrored record could lag a whole reconciliation period). Demo mode keeps it off:
 * its store is small and lives in-process.
 */
function mirrorSetting(
  value: 'auto' | 'on' | 'off',
  context: { redis: boolean; demoMode: boolean; publicUrl: string | undefined },
): 'on' | 'off' {
  if (value !== 'auto') return value
  return context.redis && !context.demoMode && context.publicUrl !== undefined ? 'on' : 'off'
}

/**
 * Settings production must not run with although each one parses. A loopback or private PUBLIC_URL is refused while
 * Recharge is a public host (Recharge could never deliver a webhook there); a simulator on a loopback or private
 * address may be paired with one (docs/production.md).
 */
function productionProblems(values: Env): string[] {
  const problems: string[] = []
  if (!values.PUBLIC_URL) {
    problems.push(
      'PUBLIC_URL: required when NODE_ENV=production (webhooks are registered there; it would default to http://localhost)',
    )
  } else if (isPrivateHost(values.PUBLIC_URL) && !isPrivateHost(values.RECHARGE_API_URL)) {
    problems.push(
      `PUBLIC_URL: ${new URL(values.PUBLIC_URL).hostname} is a loopback or private address, which ${new URL(values.RECHARGE_API_URL).hostname} can never reach to deliver webhooks; set the bridge's public https URL`,
    )
  }
  return problems
}

/**
 * Shopify settings that only make sense together: every method needs the shop, and a client id without the app
 * secret is half a setting, most likely a forgotten one. Shoppers' Shopify tokens travel to SHOPIFY_API_URL: plain
 * http only to a loopback or private stand-in.
 */
function shopifyProblems(values: Env): string[] {
  const problems: string[] = []
  const needsShop = [
    'SHOPIFY_APP_SECRET',
    'SHOPIFY_APP_CLIENT_ID',
    'SHOPIFY_STOREFRONT_TOKEN',
    'SHOPIFY_API_URL',
  ] as const
  if (!values.SHOPIFY_SHOP_DOMAIN) {
    for (const key of needsShop) {
      if (values[key]) problems.push(`${key}: needs SHOPIFY_SHOP_DOMAIN (the shop it belongs to)`)
    }
  }
  if (values.SHOPIFY_APP_CLIENT_ID && !values.SHOPIFY_APP_SECRET) {
    problems.push('SHOPIFY_APP_CLIENT_ID: needs SHOPIFY_APP_SECRET (session tokens are signed with it)')
  }
  if (values.SHOPIFY_API_URL?.startsWith('http:') && !isPrivateHost(values.SHOPIFY_API_URL)) {
    problems.push(
      "SHOPIFY_API_URL: shoppers' Shopify tokens are sent there; use https (plain http only for a loopback or private stand-in)",
    )
  }
  return problems
}

/** Loopback, private, link-local and unique-local IP ranges, plus the names that only resolve inside a network. */
const privateRanges = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv6')
}

/** True when `url`'s host is loopback or private: an IP in those ranges, localhost, or a name without a public suffix. */
export function isPrivateHost(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const family = isIP(host)
  if (family === 4) return privateRanges.check(host, 'ipv4')
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)?.[1]
    return mapped ? privateRanges.check(mapped, 'ipv4') : privateRanges.check(host, 'ipv6')
  }
  // A single-label name (a compose service, "localhost") or a reserved local suffix never resolves publicly.
  return !host.includes('.') || /\.(localhost|local|internal|lan|home\.arpa)$/.test(host)
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
