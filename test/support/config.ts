import { type Config, loadConfig } from '../../src/config.ts'
import { sentinelEnvFromTestUrl } from './redis-url.ts'

/**
 * A test Config from explicit values only (never process.env). `REDIS_URL: redisUrl()` on a Sentinel run
 * (`redis+sentinel://…`, test/support/redis-url.ts) becomes REDIS_SENTINELS + REDIS_SENTINEL_NAME.
 */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  const sentinel = overrides.REDIS_URL ? sentinelEnvFromTestUrl(overrides.REDIS_URL) : null
  if (sentinel) overrides = { ...overrides, REDIS_URL: undefined, ...sentinel }
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    CUSTOMER_TOKEN_SECRET: 'test-customer-token-secret-0123456789abcdef',
    ADMIN_API_KEY: 'test-admin-key-0123456789abcdef',
    CORS_ORIGINS: 'https://shop.example',
    PUBLIC_URL: 'https://bridge.example',
    // Feature tests make many cold anonymous reads from one loopback address: the anonymous allowances are set to
    // the whole bucket here, and test/security (which proves them) sets them explicitly.
    PUBLIC_BUDGET_SHARE: '1',
    PUBLIC_CLIENT_CALLS_PER_MINUTE: '100000',
    // Explicit, whatever the default: the mirror spends background calls the feature tests' ledgers would count; its
    // own tests turn it on.
    MIRROR: 'off',
    ...overrides,
  })
}
