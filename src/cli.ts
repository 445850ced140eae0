import { existsSync, readFileSync } from 'node:fs'
import { Command } from 'commander'
import { registerCatalogCommands } from './cli/catalog.ts'
import { registerImportCommand } from './cli/import.ts'
import { registerShopifySimulatorCommand, registerSimulatorCommand } from './cli/simulator.ts'
import { registerTokenCommands } from './cli/token.ts'
import { registerWebhookCommands } from './cli/webhooks.ts'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

/**
 * The `.env` of the working directory, as `npm start` reads it (node --env-file-if-exists=.env): variables already in
 * the environment win over the file's.
 */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}

/** `recharge-bridge <serve|simulator|shopify-simulator|catalog|webhooks|token|import>`; each command group lives in src/cli/. */
export function buildCli(): Command {
  const program = new Command('recharge-bridge')
    .description('Headless Recharge middleware: storefront-safe API, shared rate-limit queue, cache and simulator')
    .version(version)
    // A usage error prints the error and one hint, not the whole help text after it.
    .showHelpAfterError('(add --help for usage)')

  program
    .command('serve')
    .description('Start the HTTP server (demo mode when RECHARGE_API_TOKEN is unset)')
    .action(async () => {
      await import('./server.ts')
    })
  registerSimulatorCommand(program)
  registerShopifySimulatorCommand(program)
  registerCatalogCommands(program)
  registerWebhookCommands(program)
  registerTokenCommands(program)
  registerImportCommand(program)
  return program
}

loadDotEnv()
await buildCli().parseAsync(process.argv)
