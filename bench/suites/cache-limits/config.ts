import { type Config, loadConfig } from '../../../src/config.ts'

/** The bridge's config for the benchmark: the simulator as upstream, a budget that never limits, quiet logs. */
export function testConfigValues(env: NodeJS.ProcessEnv): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    RECHARGE_API_URL: env.SIM_URL,
    RECHARGE_API_TOKEN: env.SIM_TOKEN,
    RECHARGE_BUCKET_SIZE: '1000000000',
    RECHARGE_LEAK_RATE: '1000000000',
    REDIS_URL: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    CACHE_L1_MAX_BYTES: env.CACHE_L1_MAX_BYTES,
    CUSTOMER_TOKEN_SECRET: 'bench-customer-token-secret-0123456789abcdef',
    ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef',
    CORS_ORIGINS: 'https://shop.example',
    PUBLIC_URL: 'https://bridge.example',
  })
}
