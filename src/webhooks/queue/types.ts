/** A job of a durable queue: flat string fields, as a Redis stream entry holds them. */
export interface Job {
  /** Queue-assigned id (the stream entry id in Redis). */
  id: string
  fields: Record<string, string>
  /** 1 on the first delivery, +1 on each retry. */
  attempt: number
  /** Epoch ms when the job was enqueued (the acknowledgement time of a webhook). */
  enqueuedAt: number
}

/** Throwing from a handler means "not done": the job is retried later, and dead-lettered after maxAttempts. */
export type JobHandler = (job: Job) => Promise<void>

export interface DeadLetter {
  job: Job
  error: string
}

export interface JobQueue {
  /** Where jobs live: 'redis' survives a crash of this process, 'memory' does not. */
  readonly kind: 'redis' | 'memory'
  /** Persist a job; resolves once it is durable (Redis) or queued (memory). */
  enqueue(fields: Record<string, string>): Promise<string>
  /** Start consuming with `handler`. */
  start(handler: JobHandler): Promise<void>
  /** Stop taking new jobs, finish the ones in hand (bounded by drainMs), release connections. */
  stop(): Promise<void>
  /** Jobs enqueued and not yet done (including those being retried). */
  pending(): Promise<number>
}

export interface QueueTuning {
  /** Attempts before a job is dead-lettered. */
  maxAttempts: number
  /** How long a failed or orphaned (crashed consumer) job waits before it is retried. */
  retryAfterMs: number
  /** Jobs handled concurrently per batch. */
  batchSize: number
  /** How long stop() waits for jobs in hand. */
  drainMs: number
  onDeadLetter?: (dead: DeadLetter) => void
  onError?: (error: unknown) => void
}
