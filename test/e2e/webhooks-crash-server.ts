/**
 * A bridge process for the webhook crash test (test/e2e/webhooks-crash.test.ts). Configured from the environment
 * like the real server; two test-only knobs:
 *  - WEBHOOKS_TEST_BLOCK=1: processing blocks forever after acknowledgement (so the test can SIGKILL in between);
 *  - WEBHOOKS_TEST_RETRY_MS: how long an orphaned delivery waits before this process takes it over.
 * Prints `{"port": n}` once listening and `{"processing": "<job id>"}` when a delivery reaches processing.
 */
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'

const config = loadConfig(process.env)
const block = process.env.WEBHOOKS_TEST_BLOCK === '1'
const app = await buildApp(config, {
  webhooks: {
    keyPrefix: process.env.WEBHOOKS_TEST_PREFIX ?? 'rb:webhooks',
    retryAfterMs: Number(process.env.WEBHOOKS_TEST_RETRY_MS ?? 30_000),
    blockMs: 200,
    beforeProcess: async (job) => {
      process.stdout.write(`${JSON.stringify({ processing: job.id })}\n`)
      if (block) await new Promise(() => {})
    },
  },
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
