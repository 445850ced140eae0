/**
 * A bridge process for the import crash test (test/e2e/import-crash.test.ts), configured from the environment like
 * the real server; one test-only knob: IMPORT_TEST_LEASE_MS, how long a dead process's run waits before another
 * takes it over. Prints `{"port": n}` once listening.
 */
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'

const config = loadConfig(process.env)
const app = await buildApp(config, {
  imports: { leaseMs: Number(process.env.IMPORT_TEST_LEASE_MS ?? 15_000) },
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
