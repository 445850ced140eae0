import { pathToFileURL } from 'node:url'
import { buildSimulator } from './app.ts'
import { simulatorOptionsFromEnv } from './options.ts'

/**
 * Standalone simulator: `npm run simulator` (or `recharge-bridge simulator`). Env: PORT or SIM_PORT (4010), HOST
 * (127.0.0.1), and the SIM_* variables documented in docs/simulator.md.
 */
export async function startSimulatorServer(
  env: NodeJS.ProcessEnv = process.env,
  overrides: { port?: number; seed?: string; seedCustomers?: number } = {},
) {
  const options = {
    ...simulatorOptionsFromEnv(env),
    ...(overrides.seed ? { seed: overrides.seed } : {}),
    ...(overrides.seedCustomers === undefined ? {} : { seedCustomers: overrides.seedCustomers }),
  }
  const app = await buildSimulator(options)
  const port = overrides.port ?? Number(env.SIM_PORT ?? env.PORT ?? 4010)
  const host = env.HOST ?? '127.0.0.1'
  const address = await app.listen({ port, host })
  const sim = app.sim
  // Handlers go in before the address is printed: whoever reads it may signal us right away.
  const close = async () => {
    await app.close()
    process.exit(0)
  }
  process.once('SIGINT', close)
  process.once('SIGTERM', close)
  process.stdout.write(
    [
      `Recharge 2021-11 simulator listening on ${address}`,
      `  X-Recharge-Access-Token: ${sim.options.apiTokens[0]}`,
      `  store: ${sim.options.storeName} (${sim.options.storeSubdomain}, ${sim.options.currency}), seed "${sim.options.seed}"${sim.options.seedCustomers > 0 ? `, ${sim.options.seedCustomers} generated customers` : ''}`,
      `  bucket: ${sim.options.bucketSize} calls, leaking ${sim.options.leakRate}/s`,
      `  point the bridge at it: RECHARGE_API_URL=${address} RECHARGE_API_TOKEN=${sim.options.apiTokens[0]} RECHARGE_WEBHOOK_SECRET=${sim.options.clientSecret}`,
      '',
    ].join('\n'),
  )
  return app
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isEntry) {
  try {
    await startSimulatorServer()
  } catch (error) {
    process.stderr.write(
      `recharge-bridge simulator: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exitCode = 78 // EX_CONFIG
  }
}
