import { setTimeout as sleep } from 'node:timers/promises'
import type { DeadLetter, Job, JobHandler, JobQueue, QueueTuning } from './types.ts'

/**
 * In-process queue for a single replica without Redis. Same contract as the Redis stream queue, except durability:
 * jobs queued when the process crashes are lost (Recharge does not redeliver what we acknowledged).
 */
export class MemoryQueue implements JobQueue {
  readonly kind = 'memory' as const
  private readonly ready: Job[] = []
  private readonly retryTimers = new Set<NodeJS.Timeout>()
  private retrying = 0
  private inFlight = 0
  private sequence = 0
  private handler: JobHandler | null = null
  private running = false
  private wake: (() => void) | null = null
  private loop: Promise<void> | null = null
  readonly deadLetters: DeadLetter[] = []
  private readonly tuning: QueueTuning

  constructor(tuning: QueueTuning) {
    this.tuning = tuning
  }

  async enqueue(fields: Record<string, string>): Promise<string> {
    const now = Date.now()
    const id = `${now}-${this.sequence++}`
    this.ready.push({ id, fields, attempt: 1, enqueuedAt: now })
    this.wake?.()
    return id
  }

  async start(handler: JobHandler): Promise<void> {
    this.handler = handler
    this.running = true
    this.loop = this.run()
  }

  async pending(): Promise<number> {
    return this.ready.length + this.retrying + this.inFlight
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.ready.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve
        })
        this.wake = null
        continue
      }
      const batch = this.ready.splice(0, this.tuning.batchSize)
      this.inFlight += batch.length
      await Promise.all(batch.map((job) => this.handle(job)))
    }
  }

  private async handle(job: Job): Promise<void> {
    try {
      await (this.handler as JobHandler)(job)
    } catch (error) {
      this.fail(job, error)
    } finally {
      this.inFlight--
    }
  }

  private fail(job: Job, error: unknown): void {
    if (job.attempt >= this.tuning.maxAttempts) {
      const dead = { job, error: error instanceof Error ? error.message : String(error) }
      if (this.deadLetters.length >= 1_000) this.deadLetters.shift()
      this.deadLetters.push(dead)
      this.tuning.onDeadLetter?.(dead)
      return
    }
    // Exponential backoff from retryAfterMs, capped at 16× (a failing forward target is not hammered).
    const delay = this.tuning.retryAfterMs * 2 ** Math.min(job.attempt - 1, 4)
    this.retrying++
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer)
      this.retrying--
      this.ready.push({ ...job, attempt: job.attempt + 1 })
      this.wake?.()
    }, delay)
    timer.unref()
    this.retryTimers.add(timer)
  }

  async stop(): Promise<void> {
    const deadline = Date.now() + this.tuning.drainMs
    // Drain what is ready or in flight; jobs waiting for a retry are abandoned (documented: memory is not durable).
    while ((this.ready.length > 0 || this.inFlight > 0) && Date.now() < deadline && this.running) await sleep(10)
    this.running = false
    this.wake?.()
    for (const timer of this.retryTimers) clearTimeout(timer)
    this.retryTimers.clear()
    // A handler stuck past the drain budget is left behind rather than holding shutdown hostage.
    await Promise.race([this.loop, sleep(Math.max(0, deadline - Date.now()))])
  }
}
