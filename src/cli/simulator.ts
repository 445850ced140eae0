import type { Command } from 'commander'

/**
 * `recharge-bridge simulator [--port 4010] [--seed <seed>] [--seed-customers <n>]`: the Recharge 2021-11 simulator,
 * standalone.
 */
export function registerSimulatorCommand(program: Command): void {
  program
    .command('simulator')
    .description('Run the stateful Recharge 2021-11 simulator (env: SIM_*, see docs/simulator.md)')
    .option('-p, --port <port>', 'port to listen on (default: SIM_PORT, PORT or 4010)')
    .option('-s, --seed <seed>', 'seed for the deterministic data set (default: SIM_SEED)')
    .option('--seed-customers <n>', 'add n generated customers to the data set (default: SIM_SEED_CUSTOMERS or 0)')
    .action(async (flags: { port?: string; seed?: string; seedCustomers?: string }) => {
      const port = flags.port === undefined ? undefined : Number(flags.port)
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
        program.error(`--port must be a port number, got "${flags.port}"`)
      }
      const seedCustomers = flags.seedCustomers === undefined ? undefined : Number(flags.seedCustomers)
      if (seedCustomers !== undefined && (!Number.isInteger(seedCustomers) || seedCustomers < 0)) {
        program.error(`--seed-customers must be a whole number, got "${flags.seedCustomers}"`)
      }
      const { startSimulatorServer } = await import('../simulator/server.ts')
      try {
        await startSimulatorServer(process.env, {
          ...(port === undefined ? {} : { port }),
          ...(flags.seed ? { seed: flags.seed } : {}),
          ...(seedCustomers === undefined ? {} : { seedCustomers }),
        })
      } catch (error) {
        program.error(`simulator: cannot start: ${error instanceof Error ? error.message : String(error)}`, {
          exitCode: 78,
        })
      }
    })
}

/** `recharge-bridge shopify-simulator [--port 4020]`: the Shopify stand-in, standalone (docs/simulator.md). */
export function registerShopifySimulatorCommand(program: Command): void {
  program
    .command('shopify-simulator')
    .description('Run the Shopify stand-in for Sign in with Shopify (env: SHOPIFY_SIM_*, see docs/simulator.md)')
    .option('-p, --port <port>', 'port to listen on (default: SHOPIFY_SIM_PORT, PORT or 4020)')
    .action(async (flags: { port?: string }) => {
      const port = flags.port === undefined ? undefined : Number(flags.port)
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
        program.error(`--port must be a port number, got "${flags.port}"`)
      }
      const { startShopifySimulatorServer } = await import('../shopify-simulator/server.ts')
      try {
        await startShopifySimulatorServer(process.env, port)
      } catch (error) {
        program.error(`shopify-simulator: cannot start: ${error instanceof Error ? error.message : String(error)}`, {
          exitCode: 78,
        })
      }
    })
}
