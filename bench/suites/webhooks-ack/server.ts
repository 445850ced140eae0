/**
 * Servers for the webhook acknowledgement benchmark, one per process so they do not share an event loop with the
 * load generator: `bridge` (the real app: verify, XADD, 200; consumers running) or `baseline` (bare Fastify
 * hello-world that parses the same JSON body). Prints `{"port": n}` when listening; exits on SIGTERM.
 */
import Fastify from 'fastify'
import { buildApp } from '../../../src/app.ts'
import { loadConfig } from '../../../src/config.ts'

const mode = process.argv[2]

async function start() {
  if (mode === 'baseline') {
    const app = Fastify({ logger: false })
    app.post('/hook', async () => ({ received: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return app
  }
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    RECHARGE_API_TOKEN: 'sk_bench_unused',
    RECHARGE_API_URL: 'http://127.0.0.1:9',
    CUSTOMER_TOKEN_SECRET: 'bench-customer-token-secret-0123456789abcdef',
    ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef',
    PUBLIC_URL: 'https://bridge.example',
    CORS_ORIGINS: '',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    RECHARGE_WEBHOOK_SECRET: process.env.BENCH_SECRET ?? '',
  })
  const app = await buildApp(config, {
    // BENCH_NO_CONSUMERS=1 measures the acknowledgement path alone (diagnostics: is processing competing?).
    backgroundWorkers: process.env.BENCH_NO_CONSUMERS !== '1',
    // No registration watchdog: the benchmark has no Recharge to register with.
    webhooks: { keyPrefix: process.env.BENCH_PREFIX ?? 'bench:webhooks', watchdog: false },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

const app = await start()
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
