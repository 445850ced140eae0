import { resolve } from 'node:path'
import { SingleBar } from 'cli-progress'
import type { Command } from 'commander'
import { TwoTierCache } from '../cache/cache.ts'
import { cacheKeyPrefix } from '../cache/keys.ts'
import { createCacheMetrics } from '../cache/metrics.ts'
import { feedJsonSchema, validateFeed } from '../catalog/feed.ts'
import { loadFeed } from '../catalog/feed-source.ts'
import { FeedInvalidError } from '../catalog/sync/feed-invalid.ts'
import { CatalogSyncJobs } from '../catalog/sync/jobs.ts'
import { formatIssues, formatReport } from '../catalog/sync/report-format.ts'
import { DEFAULT_STATE_FILE, FileSyncStateStore, RedisSyncStateStore } from '../catalog/sync/state-store.ts'
import type { PlanStrategy, SyncProgress } from '../catalog/sync/types.ts'
import { loadConfig } from '../config.ts'
import { Metrics } from '../infra/metrics/registry.ts'
import { type RedisClient, withReplyDeadline } from '../infra/redis.ts'
import { createTopologyClient } from '../infra/redis-topology.ts'
import { createRecharge, rechargeOptionsFrom } from '../recharge/create.ts'
import { tokenFingerprint } from '../recharge/fingerprint.ts'

const quietLog = { debug() {}, info() {}, warn() {}, error() {} }

interface SyncOptions {
  feed: string
  dryRun?: boolean
  delete: boolean
  allowMassDelete?: boolean
  yes?: boolean
  allowDeletes?: boolean
  strategy: PlanStrategy
  json?: boolean
  stateFile?: string
}

/** Exit codes: 0 done, 1 failed or finished with errors, 2 another sync holds the store, 3 invalid feed, 130 interrupted. */
async function runSync(program: Command, options: SyncOptions): Promise<number> {
  const config = loadConfig(process.env)
  if (!process.env.RECHARGE_API_TOKEN) {
    program.error('RECHARGE_API_TOKEN must be set: the CLI calls Recharge directly, sharing the replicas’ budget')
  }
  const token = process.env.RECHARGE_API_TOKEN as string
  const feed = await loadFeed(options.feed)
  const shape = validateFeed(feed)
  if (!shape.ok) {
    process.stderr.write(`The feed has ${shape.issues.length} problem(s):\n`)
    for (const issue of shape.issues.slice(0, 200)) {
      process.stderr.write(
        `  ${issue.path}${issue.external_product_id ? ` [${issue.external_product_id}]` : ''}: ${issue.message}\n`,
      )
    }
    return 3
  }

  let redis: RedisClient | null = null
  if (config.redis) {
    const client = createTopologyClient(config.redis, { name: 'recharge-bridge-cli' })
    client.on('error', () => {})
    await client.connect()
    // The same per-command deadline as the servers: the limiter and the sync state fall back instead of hanging.
    redis = withReplyDeadline(client)
  }
  const stack = createRecharge({ ...rechargeOptionsFrom(config, token), redis })
  const state = redis
    ? new RedisSyncStateStore(redis, `${config.REDIS_KEY_PREFIX}:{${tokenFingerprint(token)}}`)
    : new FileSyncStateStore(resolve(options.stateFile ?? DEFAULT_STATE_FILE))
  // With Redis, the servers' caches are told what changed (L2 purge + pub/sub to every replica's L1), as when the
  // sync runs inside a server. Without Redis the CLI cannot reach them: their entries expire by TTL (60 s).
  const cache = redis
    ? new TwoTierCache({
        redis,
        keyPrefix: cacheKeyPrefix(config.REDIS_KEY_PREFIX),
        metrics: createCacheMetrics(new Metrics()),
        log: quietLog,
        l1MaxBytes: 0,
      })
    : null
  const jobs = new CatalogSyncJobs({
    transport: stack.client.transport,
    state,
    leakRate: config.RECHARGE_LEAK_RATE,
    ...(cache ? { invalidate: (tags: string[]) => cache.invalidateTags(tags) } : {}),
  })

  const interactive = process.stderr.isTTY && !options.json
  const bar = new SingleBar({
    format: '{phase} [{bar}] {value}/{total} writes | {reads} reads | {products} products | ETA {budgetEta}',
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stderr,
  })
  let barStarted = false
  let lastPhase = ''
  const onProgress = (progress: SyncProgress) => {
    const payload = {
      phase: progress.phase.padEnd(8),
      reads: progress.reads,
      products: `${progress.productsDone}/${progress.productsToChange}`,
      budgetEta: progress.etaSeconds === null ? '-' : `${progress.etaSeconds}s`,
    }
    if (interactive) {
      if (!barStarted && progress.totalWrites > 0) {
        bar.start(progress.totalWrites, progress.writes, payload)
        barStarted = true
      } else if (barStarted) {
        bar.setTotal(Math.max(progress.totalWrites, progress.writes))
        bar.update(progress.writes, payload)
      }
    } else if (progress.phase !== lastPhase && !options.json) {
      process.stderr.write(
        `${progress.phase}: ${progress.writes}/${progress.totalWrites} writes, ETA ${payload.budgetEta}\n`,
      )
    }
    lastPhase = progress.phase
  }

  try {
    const started = await jobs.start({
      feed,
      dryRun: options.dryRun ?? false,
      deleteMissing: options.delete,
      allowMassDelete: options.allowMassDelete ?? false,
      // Deleting what the feed does not list is what a sync is for, but a short or wrong feed must not do it unasked.
      allowDeletes: Boolean(options.yes || options.allowDeletes),
      planStrategy: options.strategy,
      source: 'cli',
    })
    if (!started.ok) {
      process.stderr.write(`Another catalog sync is running for this store (job ${started.holder}); try again later.\n`)
      return 2
    }
    const interrupt = () => jobs.cancel(started.job.id)
    process.once('SIGINT', interrupt)
    process.once('SIGTERM', interrupt)
    // Progress comes from the job's status: poll it (the job runs in this process).
    const ticker = setInterval(() => {
      void jobs.get(started.job.id).then((status) => status && onProgress(status.progress))
    }, 200)
    const status = await started.done.finally(() => clearInterval(ticker))
    onProgress(status.progress)
    if (barStarted) bar.stop()
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)

    if (options.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`)
    if (status.state === 'invalid') {
      process.stderr.write(`The feed does not fit the store:\n${formatIssues(status).join('\n')}\n`)
      return 3
    }
    if (status.state === 'cancelled') {
      process.stderr.write('Interrupted; the checkpoint is kept: run the same command again to finish.\n')
      return 130
    }
    if (status.state === 'failed') {
      process.stderr.write(`Catalog sync failed: ${status.error}\n`)
      return 1
    }
    if (!options.json && status.report) process.stdout.write(`${formatReport(status.report).join('\n')}\n`)
    return status.state === 'succeeded' ? 0 : 1
  } catch (error) {
    if (error instanceof FeedInvalidError) return 3
    throw error
  } finally {
    // Also on an error: stop() ends the bar's line with a newline, so nothing is printed after it on the same line.
    if (barStarted) bar.stop()
    await stack.close(2_000).catch(() => {})
    await redis?.quit().catch(() => {})
  }
}

/** `recharge-bridge catalog sync --feed <file|url> [--dry-run]` and `catalog schema`. */
export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description('Catalog feed → Recharge products and plans')
  catalog
    .command('sync')
    .description('Sync a catalog feed into Recharge: writes only the differences; resumable; one sync per store')
    .requiredOption('--feed <file|url>', 'the catalog feed (JSON file path or http(s) URL)')
    .option('--dry-run', 'read and diff only: print the planned changes, write nothing')
    .option('--no-delete', 'keep Recharge products the feed does not list')
    .option('-y, --yes', 'confirm deleting the Recharge products the feed does not list (refused without it)')
    .option('--allow-deletes', 'the same as --yes')
    .option('--allow-mass-delete', 'also allow deleting more than a quarter of the store’s products in one run')
    .option('--strategy <auto|bulk|batch>', 'plan writes: per-product plans-bulk, async batches, or by cost', 'auto')
    .option('--json', 'print the final job status as JSON on stdout')
    .option('--state-file <path>', `checkpoint file when REDIS_URL is unset (default ./${DEFAULT_STATE_FILE})`)
    .addHelpText(
      'after',
      [
        '',
        'Deletion guard: Recharge products the feed does not list are deleted (with their plans), and a run that would',
        'delete any is refused (exit 3, nothing written) unless --yes (or --allow-deletes) confirms it. --dry-run lists',
        'what would be deleted; --no-delete keeps them. A run deleting more than a quarter of the store (and more than',
        '10 products) also needs --allow-mass-delete.',
      ].join('\n'),
    )
    .action(async (options: SyncOptions) => {
      if (!['auto', 'bulk', 'batch'].includes(options.strategy)) program.error('--strategy must be auto, bulk or batch')
      process.exitCode = await runSync(program, options)
    })
  catalog
    .command('schema')
    .description('Print the JSON Schema of the catalog feed')
    .action(() => {
      process.stdout.write(`${JSON.stringify(feedJsonSchema(), null, 2)}\n`)
    })
}
