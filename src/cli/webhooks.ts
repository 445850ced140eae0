import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import type { WebhooksResource } from '../recharge/resources/webhooks.ts'
import { planRegistration, reconcileWebhooks, webhookAddress } from '../webhooks/registration.ts'

interface WebhookCommandOptions {
  publicUrl?: string
  json?: boolean
}

/** Build the app without background work (no consumers, no watchdog) to reach the configured Recharge client. */
async function withRecharge<T>(
  run: (webhooks: WebhooksResource, publicUrl: string) => Promise<T>,
  options: WebhookCommandOptions,
) {
  const { loadConfig } = await import('../config.ts')
  const { buildApp } = await import('../app.ts')
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env })
  if (config.demoMode) {
    throw new Error(
      'RECHARGE_API_TOKEN is unset: the webhooks commands talk to a real Recharge store (or a simulator via RECHARGE_API_URL)',
    )
  }
  const publicUrl = (options.publicUrl ?? config.PUBLIC_URL).replace(/\/$/, '')
  if (!process.env.PUBLIC_URL && !options.publicUrl) {
    throw new Error('PUBLIC_URL is unset: Recharge must reach this bridge at a public URL (or pass --public-url)')
  }
  const app: FastifyInstance = await buildApp(config, { backgroundWorkers: false })
  try {
    await app.ready()
    const webhooks = app.webhooks.rechargeWebhooks()
    if (!webhooks) throw new Error('the Recharge client is not available')
    return await run(webhooks, publicUrl)
  } finally {
    await app.close()
  }
}

function print(options: WebhookCommandOptions, value: unknown, lines: string[]): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${lines.join('\n')}\n`)
}

function action(run: (options: WebhookCommandOptions) => Promise<number>) {
  return async (options: WebhookCommandOptions) => {
    try {
      process.exitCode = await run(options)
    } catch (error) {
      process.stderr.write(`recharge-bridge webhooks: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exitCode = 1
    }
  }
}

/** `recharge-bridge webhooks register|list|prune`. */
export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('Manage the Recharge webhooks that keep the bridge caches fresh (uses RECHARGE_API_TOKEN, PUBLIC_URL)')

  const shared = (command: Command) =>
    command
      .option('--public-url <url>', 'override PUBLIC_URL (where Recharge delivers)')
      .option('--json', 'print JSON instead of text')

  shared(
    webhooks
      .command('list')
      .description('Show webhooks at Recharge: ours, redundant ones, foreign ones, and missing topics'),
  ).action(
    action((options) =>
      withRecharge(async (resource, publicUrl) => {
        const plan = planRegistration(await resource.list(), publicUrl)
        const row = (mark: string) => (w: { id: string; topic: string; address: string }) =>
          `${mark} ${w.id.padEnd(10)} ${w.topic.padEnd(36)} ${w.address}`
        print(options, plan, [
          `Deliveries go to ${webhookAddress(publicUrl, '<topic>')}`,
          ...plan.kept.map(row('ok  ')),
          ...plan.prunable.map(row('xtra')),
          ...plan.foreign.map(row('othr')),
          ...plan.missing.map((topic) => `miss ${''.padEnd(10)} ${topic}`),
          `${plan.kept.length} registered, ${plan.missing.length} missing, ${plan.prunable.length} redundant (prune), ${plan.foreign.length} at other addresses`,
        ])
        return plan.missing.length > 0 ? 2 : 0
      }, options),
    ),
  )

  shared(webhooks.command('register').description('Create the webhooks the bridge needs (idempotent)')).action(
    action((options) =>
      withRecharge(async (resource, publicUrl) => {
        const result = await reconcileWebhooks(resource, publicUrl)
        print(options, result, [
          ...result.created.map((topic) => `created ${topic}`),
          ...result.failed.map((failure) => `FAILED  ${failure.topic}: ${failure.error}`),
          `${result.plan.kept.length} already registered, ${result.created.length} created, ${result.failed.length} failed`,
        ])
        return result.failed.length > 0 ? 2 : 0
      }, options),
    ),
  )

  shared(
    webhooks
      .command('prune')
      .description(
        'Delete our webhooks that are redundant (duplicates, topics no longer needed); never touches other addresses',
      ),
  )
    .option('--dry-run', 'only show what would be deleted')
    .action(
      action((options: WebhookCommandOptions & { dryRun?: boolean }) =>
        withRecharge(async (resource, publicUrl) => {
          const plan = planRegistration(await resource.list(), publicUrl)
          if (!options.dryRun) for (const webhook of plan.prunable) await resource.delete(webhook.id)
          const verb = options.dryRun ? 'would delete' : 'deleted'
          print(options, { pruned: plan.prunable, dryRun: Boolean(options.dryRun) }, [
            ...plan.prunable.map((w) => `${verb} ${w.id} ${w.topic} ${w.address}`),
            `${plan.prunable.length} ${verb}`,
          ])
          return 0
        }, options),
      ),
    )
}
