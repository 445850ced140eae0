import { readFile } from 'node:fs/promises'
import { SingleBar } from 'cli-progress'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { parseNdjson } from '../import/ndjson.ts'
import type { RecordOutcome } from '../import/outcome.ts'
import { importRecordJsonSchema } from '../import/record.ts'
import { formatDryRunRecord, formatDryRunSummary, formatRunSummary } from '../import/report-format.ts'
import type { RunStatus } from '../import/runner.ts'

interface ImportOptions {
  file?: string
  dryRun?: boolean
  json?: boolean
  schema?: boolean
}

/** A JSON array, or NDJSON (one record per line; a line that is not JSON is kept and reported as a bad record). */
export function parseRecordsFile(text: string): unknown[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as unknown[]
  return parseNdjson(trimmed)
}

function progressBar(total: number, interactive: boolean) {
  const bar = new SingleBar({
    format:
      'import [{bar}] {value}/{total} records | created {created} found {found} failed {failed} | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    stream: process.stderr,
    etaBuffer: 50,
  })
  if (interactive) bar.start(total, 0, { created: 0, found: 0, failed: 0 })
  let lastLine = 0
  return {
    update(done: number, counts: { created: number; found: number; failed: number }) {
      if (interactive) return bar.update(done, counts)
      // Not a terminal: a line every 10 % instead of a redrawn bar.
      const step = Math.max(1, Math.ceil(total / 10))
      if (done - lastLine >= step || done === total) {
        lastLine = done
        process.stderr.write(`import: ${done}/${total} records, ${counts.failed} failed\n`)
      }
    },
    stop() {
      if (interactive) bar.stop()
    },
  }
}

/** Dry run: each record looked up (reads only), one line each, then what a run would create. */
async function dryRun(app: FastifyInstance, records: unknown[], options: ImportOptions): Promise<number> {
  const bar = progressBar(records.length, process.stderr.isTTY && !options.json)
  const outcomes: RecordOutcome[] = []
  try {
    for (const [index, record] of records.entries()) {
      const outcome = await app.imports.importOne(record, { dryRun: true })
      outcome.index = index
      outcomes.push(outcome)
      bar.update(outcomes.length, {
        created: outcomes.filter((o) => o.status === 'created').length,
        found: outcomes.filter((o) => o.status === 'found').length,
        failed: outcomes.filter((o) => o.status === 'failed').length,
      })
    }
  } finally {
    bar.stop()
  }
  if (options.json) process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`)
  else
    process.stdout.write(`${[...outcomes.map(formatDryRunRecord), '', ...formatDryRunSummary(outcomes)].join('\n')}\n`)
  return outcomes.some((outcome) => outcome.status === 'failed') ? 1 : 0
}

/** A run like the API's (saved in Redis when configured, so a server replica finishes it if this process stops). */
async function run(app: FastifyInstance, records: unknown[], options: ImportOptions): Promise<number> {
  const started = Date.now()
  const bar = progressBar(records.length, process.stderr.isTTY && !options.json)
  let status: RunStatus = await app.imports.create(records, 'cli')
  const interrupt = () => void app.imports.pause(status.id)
  process.once('SIGINT', interrupt)
  try {
    // This process works on the run until it is done, paused, or gives it up (see ImportRuns.work).
    while (app.imports.isWorking(status.id)) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      status = (await app.imports.status(status.id).catch(() => null)) ?? status
      bar.update(status.done, status)
    }
    status = (await app.imports.status(status.id)) ?? status
    bar.update(status.done, status)
  } finally {
    bar.stop()
    process.off('SIGINT', interrupt)
  }
  if (options.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`)
  else process.stdout.write(`${formatRunSummary(status, (Date.now() - started) / 1000).join('\n')}\n`)
  if (status.state === 'paused') {
    process.stderr.write(`Paused. Resume with POST /v1/admin/imports/${status.id}/resume.\n`)
    return 130
  }
  if (status.state === 'running') {
    process.stderr.write(
      'The run stopped before its end (its state store failing?). A server replica sharing this Redis continues it; ' +
        'or import the same file again: what exists is found, not created twice.\n',
    )
    return 1
  }
  return status.failed > 0 ? 1 : 0
}

/** `recharge-bridge import --file orders.ndjson [--dry-run]`; `import --schema` prints the record's JSON Schema. */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('Import externally paid orders (NDJSON or a JSON array of records) into Recharge, exactly once')
    .option('--file <path>', 'the records: NDJSON (one record per line) or a JSON array; docs/import.md')
    .option('--dry-run', 'look each record up and print what exists and what would be created; write nothing')
    .option('--json', 'print the final status (or the dry run’s outcomes) as JSON on stdout')
    .option('--schema', 'print the JSON Schema of one record and exit')
    .action(async (options: ImportOptions) => {
      if (options.schema) {
        process.stdout.write(`${JSON.stringify(importRecordJsonSchema(), null, 2)}\n`)
        return
      }
      if (!options.file) program.error('--file is required (or --schema)')
      const { loadConfig } = await import('../config.ts')
      const { buildApp } = await import('../app.ts')
      const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env })
      if (config.demoMode) program.error('RECHARGE_API_TOKEN must be set: the import writes to a Recharge store')
      let records: unknown[]
      try {
        records = parseRecordsFile(await readFile(options.file as string, 'utf8'))
      } catch (error) {
        program.error(`cannot read ${options.file}: ${(error as Error).message}`)
      }
      if (records.length === 0) program.error(`${options.file} holds no records`)
      const app: FastifyInstance = await buildApp(config, { backgroundWorkers: false })
      try {
        await app.ready()
        process.exitCode = options.dryRun ? await dryRun(app, records, options) : await run(app, records, options)
      } finally {
        await app.close()
      }
    })
}
