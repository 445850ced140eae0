import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { closeRedisClient, type RedisClient, RedisDeadlineError, withReplyDeadline } from '../../infra/redis.ts'
import type { Job, JobHandler, JobQueue, QueueTuning } from './types.ts'

export interface RedisStreamQueueOptions extends QueueTuning {
  /** Client for short commands (XADD, XACK): the app's client, with its command timeout. */
  redis: RedisClient
  /** Creates the connection used for blocking reads; owned (connected and closed) by the queue. */
  createBlockingClient: () => RedisClient
  stream: string
  /** Stream that receives jobs which failed maxAttempts times, with the last error. */
  deadLetterStream: string
  group: string
  /** Safety cap on the stream length (approximate trim). Done jobs are deleted, so the stream stays short. */
  maxLen: number
  /** How long one XREADGROUP blocks; also the longest stop() waits for an idle consumer. */
  blockMs: number
}

const SWEEP_EVERY_MS = 10 * 60_000
/**
 * How long past its BLOCK time a read may take before its connection counts as dead; also the deadline of the short
 * commands (claims, acknowledgements) sent on that connection between reads.
 */
const READ_MARGIN_MS = 2_000
const DEAD_CONSUMER_IDLE_MS = 60 * 60_000
/**
 * A connection not ready for this long is stuck in its handshake (a reconnect into a black-holed network never gets
 * the HELLO reply, and node-redis's connect timeout stops at the TCP connect): it is replaced. A reconnect to a Redis
 * that is down tries at least every 2 s, so a mere outage is only restarted, never made worse.
 */
const STUCK_CONNECT_MS = 5_000

type StreamMessage = { id: string; message: Record<string, string> }

function entryTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')))
}

/**
 * A durable job queue on a Redis stream and consumer group. A job is in the stream before enqueue() resolves; a
 * consumer reads it with XREADGROUP (it then sits in the group's pending list under this consumer), and it is removed
 * (XACK + XDEL) only after the handler succeeded. A job whose consumer died or whose handler failed stays pending and
 * is taken over by any consumer with XAUTOCLAIM once it has been idle retryAfterMs; after maxAttempts deliveries it
 * moves to the dead-letter stream. So a crash between acknowledgement and processing loses nothing.
 */
export class RedisStreamQueue implements JobQueue {
  readonly kind = 'redis' as const
  /** Unique per process: a restarted process reclaims its predecessor's jobs through XAUTOCLAIM. */
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  private readonly options: RedisStreamQueueOptions
  private blocking: RedisClient | null = null
  /**
   * The blocking connection for its short commands, each with a reply deadline: node-redis's own timeout stops at the
   * write, so a command written into a black-holed connection (XACK after a job, XAUTOCLAIM) would wait forever and
   * stall the loop; past the deadline the loop replaces the connection instead.
   */
  private commands: RedisClient | null = null
  private handler: JobHandler | null = null
  private running = false
  private loop: Promise<void> | null = null
  private lastClaimAt = 0
  private lastSweepAt = 0

  constructor(options: RedisStreamQueueOptions) {
    this.options = options
  }

  async enqueue(fields: Record<string, string>): Promise<string> {
    return this.options.redis.xAdd(this.options.stream, '*', fields, {
      TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.options.maxLen },
    })
  }

  async pending(): Promise<number> {
    try {
      const summary = await this.options.redis.xPending(this.options.stream, this.options.group)
      const unread = await this.options.redis.xLen(this.options.stream)
      // Entries are deleted when done, so the stream length is what is left to do (read or not).
      return Math.max(Number(summary.pending), Number(unread))
    } catch {
      return Number(await this.options.redis.xLen(this.options.stream))
    }
  }

  /** Starts consuming. Never waits for Redis: while it is unreachable the loop retries in the background. */
  async start(handler: JobHandler): Promise<void> {
    this.handler = handler
    const client = this.options.createBlockingClient()
    client.on('error', (error: unknown) => this.options.onError?.(error))
    // connect() keeps retrying while Redis is down; start-up must not hang on it.
    client.connect().catch((error: unknown) => this.options.onError?.(error))
    this.blocking = client
    this.commands = withReplyDeadline(client, READ_MARGIN_MS)
    this.running = true
    this.loop = this.run()
  }

  private async ensureGroup(): Promise<void> {
    const client = this.commands as RedisClient
    try {
      // From the stream's beginning: jobs enqueued before the first consumer ever started are not skipped.
      await client.xGroupCreate(this.options.stream, this.options.group, '0', { MKSTREAM: true })
    } catch (error) {
      if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error
    }
  }

  private async run(): Promise<void> {
    let failures = 0
    let grouped = false
    let notReadySince: number | null = null
    while (this.running) {
      try {
        if (!(this.blocking as RedisClient).isReady) {
          notReadySince ??= Date.now()
          if (Date.now() - notReadySince >= STUCK_CONNECT_MS) {
            this.replaceConnection()
            notReadySince = Date.now()
          }
          await sleep(100)
          continue
        }
        notReadySince = null
        if (!grouped) {
          await this.ensureGroup()
          grouped = true
        }
        if (Date.now() - this.lastClaimAt >= Math.min(this.options.retryAfterMs, 5_000)) {
          this.lastClaimAt = Date.now()
          await this.claimStale()
        }
        if (Date.now() - this.lastSweepAt >= SWEEP_EVERY_MS) {
          this.lastSweepAt = Date.now()
          await this.sweepConsumers()
        }
        if (!this.running) break
        const replies = await withReplyDeadline(
          this.blocking as RedisClient,
          this.options.blockMs + READ_MARGIN_MS,
        ).xReadGroup(
          this.options.group,
          this.consumer,
          { key: this.options.stream, id: '>' },
          { COUNT: this.options.batchSize, BLOCK: this.options.blockMs },
        )
        failures = 0
        const messages = (replies as { messages: StreamMessage[] }[] | null)?.[0]?.messages ?? []
        await this.handleBatch(messages.map((message) => this.toJob(message, 1)))
      } catch (error) {
        if (error instanceof Error && error.message.includes('NOGROUP')) {
          await this.ensureGroup().catch(() => {})
          continue
        }
        // A read that outlives its BLOCK, or a short command past its deadline, is on a dead connection (a killed
        // Redis container black-holes it; TCP would notice after minutes): replace it, or the queue would stall.
        if (error instanceof RedisDeadlineError) this.replaceConnection()
        this.options.onError?.(error)
        failures++
        if (this.running) await sleep(Math.min(100 * 2 ** failures, 2_000))
      }
    }
  }

  private replaceConnection(): void {
    const client = this.blocking
    if (!client) return
    // A Sentinel client's destroy() is asynchronous (connecting again before it finished is refused), and a cluster's
    // connect() may throw at once: neither may escape as an unhandled rejection.
    void Promise.resolve()
      .then(() => client.destroy())
      .catch(() => {})
      .then(() => (this.running ? client.connect() : undefined))
      .catch((error: unknown) => this.options.onError?.(error))
  }

  /** Take over jobs idle longer than retryAfterMs: a crashed consumer's, or ones whose handler failed. */
  private async claimStale(): Promise<void> {
    const client = this.commands as RedisClient
    let cursor = '0-0'
    do {
      const reply = await client.xAutoClaim(
        this.options.stream,
        this.options.group,
        this.consumer,
        this.options.retryAfterMs,
        cursor,
        { COUNT: this.options.batchSize },
      )
      cursor = reply.nextId
      const messages = reply.messages.filter((message): message is StreamMessage => message !== null)
      if (reply.deletedMessages.length > 0) {
        // Trimmed away while pending (stream over maxLen): nothing to process, only the pending entry to clear.
        await client.xAck(this.options.stream, this.options.group, reply.deletedMessages)
      }
      if (messages.length === 0) continue
      const jobs = await Promise.all(
        messages.map(async (message) => this.toJob(message, await this.deliveries(message.id))),
      )
      await this.handleBatch(jobs)
    } while (cursor !== '0-0' && this.running)
  }

  /**
   * Every restart leaves a consumer name behind in the group. Forget those with nothing pending that have been idle
   * for an hour (their jobs, if any, were claimed by others already).
   */
  private async sweepConsumers(): Promise<void> {
    const client = this.commands as RedisClient
    const consumers = await client.xInfoConsumers(this.options.stream, this.options.group)
    for (const consumer of consumers) {
      if (
        consumer.name === this.consumer ||
        Number(consumer.pending) > 0 ||
        Number(consumer.idle) < DEAD_CONSUMER_IDLE_MS
      )
        continue
      await client.xGroupDelConsumer(this.options.stream, this.options.group, consumer.name)
    }
  }

  private async deliveries(id: string): Promise<number> {
    const [entry] = await (this.commands as RedisClient).xPendingRange(
      this.options.stream,
      this.options.group,
      id,
      id,
      1,
    )
    return entry ? Number(entry.deliveriesCounter) : 1
  }

  private toJob(message: StreamMessage, attempt: number): Job {
    return { id: message.id, fields: { ...message.message }, attempt, enqueuedAt: entryTime(message.id) }
  }

  private async handleBatch(jobs: Job[]): Promise<void> {
    if (jobs.length === 0) return
    await Promise.all(jobs.map((job) => this.handle(job)))
  }

  private async handle(job: Job): Promise<void> {
    const client = this.commands as RedisClient
    try {
      await (this.handler as JobHandler)(job)
    } catch (error) {
      if (job.attempt < this.options.maxAttempts) {
        // Left pending: claimStale() retries it after retryAfterMs.
        this.options.onError?.(error)
        return
      }
      const message = error instanceof Error ? error.message : String(error)
      await client.xAdd(
        this.options.deadLetterStream,
        '*',
        { ...job.fields, error: message.slice(0, 500) },
        {
          TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.options.maxLen },
        },
      )
      this.options.onDeadLetter?.({ job, error: message })
    }
    await client.multi().xAck(this.options.stream, this.options.group, job.id).xDel(this.options.stream, job.id).exec()
  }

  async stop(): Promise<void> {
    if (!this.running && !this.blocking) return
    this.running = false
    // The loop ends after the current XREADGROUP returns (≤ blockMs) and the jobs in hand are done.
    const drained = await Promise.race([
      (this.loop ?? Promise.resolve()).then(() => true),
      sleep(this.options.drainMs + this.options.blockMs).then(() => false),
    ])
    const client = this.blocking
    this.blocking = null
    this.commands = null
    if (!client) return
    // A job still in hand stays pending and is reclaimed by another consumer (or this one after a restart).
    if (drained) await closeRedisClient(client)
    else client.destroy()
  }
}
