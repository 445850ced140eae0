import { type Config, envKeys } from './config.ts'

/** Variables whose values are credentials: the summary says only whether each one is set. */
const SECRET_KEYS = new Set<string>([
  'RECHARGE_API_TOKEN',
  'RECHARGE_WEBHOOK_SECRET',
  'CUSTOMER_TOKEN_SECRET',
  'ADMIN_API_KEY',
  'WEBHOOK_FORWARD_SECRET',
  'METRICS_TOKEN',
  'SHOPIFY_APP_SECRET',
  'SHOPIFY_STOREFRONT_TOKEN',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
])

/** Variables holding URLs: a password or user name in them (redis://:pass@host) is dropped. */
const URL_KEYS = new Set<string>([
  'RECHARGE_API_URL',
  'REDIS_URL',
  'PUBLIC_URL',
  'WEBHOOK_FORWARD_URL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'SHOPIFY_API_URL',
])

/**
 * The effective configuration as one log line's fields: every variable of the env contract, secrets as "set" or
 * "unset", URLs without credentials or query strings. Operators read it to see what a replica actually runs with.
 */
export function configSummary(config: Config): Record<string, unknown> {
  const summary: Record<string, unknown> = { mode: config.demoMode ? 'demo' : 'recharge' }
  for (const key of envKeys) {
    const value = (config as unknown as Record<string, unknown>)[key]
    if (SECRET_KEYS.has(key)) summary[key] = value ? 'set' : 'unset'
    else if (URL_KEYS.has(key) && typeof value === 'string') summary[key] = withoutCredentials(value)
    else if (value !== undefined) summary[key] = value
  }
  return summary
}

function withoutCredentials(value: string): string {
  try {
    const url = new URL(value)
    url.username = ''
    url.password = ''
    url.search = ''
    url.hash = ''
    return url.toString().replace(/\/$/, '')
  } catch {
    // A cluster seed list (redis+cluster://:password@h:p,h:p) is not a WHATWG URL: drop the credentials by hand.
    return /^rediss?\+cluster:\/\//.test(value) ? value.replace(/\/\/[^@/]*@/, '//') : '(unparseable)'
  }
}
