import { request } from 'undici'
import type { SimEvent, SimState } from '../state.ts'
import type { WebhookDropRules } from './drops.ts'
import { signatureHeaders } from './signing.ts'

/**
 * Delivers events to registered webhooks: one delivery per (event, matching webhook), body = the topic's resource
 * envelope serialised once, signed with both schemes, plus `X-Recharge-Topic`. Deliveries run in the background;
 * a failure (no answer within the timeout, or a non-2xx) is retried with doubling delays from `retryBaseMs`, and a
 * webhook whose deliveries fail `maxFailures` times in a row is deleted, as Recharge does after 20 attempts.
 * A webhook fault rule (drops.ts) may drop a delivery as its event happens: it is logged, never sent.
 */
export interface DeliveryResult {
  webhook_id: number
  topic: string
  address: string
  attempt: number
  status: number | null
  ok: boolean
  error?: string
  webhook_deleted?: boolean
  /** Lost to a webhook fault rule: never sent (`attempt` 0). */
  dropped?: true
  /** On a dropped delivery: the id of the record the event was about (its envelope's `id`), when it has one. */
  resource_id?: number | null
}

interface PendingDelivery {
  webhookId: number
  topic: string
  body: string
  attempts: number
  dueAt: number
}

export interface DispatcherOptions {
  clientSecret: string
  autoDeliver: boolean
  retryBaseMs: number
  maxFailures: number
  timeoutMs: number
  now: () => number
  /** Webhook fault rules that drop a share of the deliveries. */
  drops?: WebhookDropRules
}

const MAX_LOG = 1000

export class WebhookDispatcher {
  readonly #options: DispatcherOptions
  #state: SimState
  #pending: PendingDelivery[] = []
  #failures = new Map<number, number>()
  #log: DeliveryResult[] = []
  #timer: NodeJS.Timeout | null = null
  #running: Promise<DeliveryResult[]> | null = null
  #closed = false

  constructor(state: SimState, options: DispatcherOptions) {
    this.#state = state
    this.#options = options
  }

  /** Points the dispatcher at a fresh state after a reset and forgets everything pending. */
  attach(state: SimState): void {
    this.#state = state
    this.#pending = []
    this.#failures.clear()
    this.#log = []
    state.onEvent((event) => this.enqueue(event))
  }

  enqueue(event: SimEvent): void {
    let matched = false
    let body: string | null = null
    for (const webhook of this.#state.webhooks.values()) {
      if (webhook.topic !== event.topic) continue
      if (this.#options.drops && !this.#options.drops.empty && this.#options.drops.drops(event.topic)) {
        this.#record(droppedResult(webhook, event))
        continue
      }
      body ??= JSON.stringify(event.body)
      this.#pending.push({ webhookId: webhook.id, topic: event.topic, body, attempts: 0, dueAt: Date.now() })
      matched = true
    }
    if (matched) this.#schedule(0)
  }

  /** Sends a one-off delivery to one webhook (`POST /webhooks/{id}/test`). */
  enqueueTo(webhookId: number, topic: string, body: Record<string, unknown>): void {
    this.#pending.push({ webhookId, topic, body: JSON.stringify(body), attempts: 0, dueAt: Date.now() })
    this.#schedule(0)
  }

  get pendingCount(): number {
    return this.#pending.length
  }

  /** The last delivery attempts, oldest first; `dropped` keeps only the dropped ones (true) or the sent ones (false). */
  log(filter: { dropped?: boolean } = {}): DeliveryResult[] {
    if (filter.dropped === undefined) return [...this.#log]
    return this.#log.filter((result) => (result.dropped === true) === filter.dropped)
  }

  /** Delivers every pending delivery now, regardless of its retry time, and reports what happened. */
  async flush(): Promise<DeliveryResult[]> {
    if (this.#running) await this.#running.catch(() => [])
    return this.#run(true)
  }

  close(): void {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }

  #schedule(delayMs: number): void {
    if (!this.#options.autoDeliver || this.#closed || this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      if (this.#running) {
        this.#schedule(10)
        return
      }
      void this.#run(false)
    }, delayMs)
    this.#timer.unref()
  }

  async #run(all: boolean): Promise<DeliveryResult[]> {
    const now = Date.now()
    const due = all ? this.#pending : this.#pending.filter((delivery) => delivery.dueAt <= now)
    this.#pending = all ? [] : this.#pending.filter((delivery) => delivery.dueAt > now)
    const run = Promise.all(due.map((delivery) => this.#deliver(delivery)))
    this.#running = run
    try {
      return await run
    } finally {
      this.#running = null
      const next = this.#pending.reduce((min, delivery) => Math.min(min, delivery.dueAt), Number.POSITIVE_INFINITY)
      if (Number.isFinite(next)) this.#schedule(Math.max(0, next - Date.now()))
    }
  }

  async #deliver(delivery: PendingDelivery): Promise<DeliveryResult> {
    const webhook = this.#state.webhooks.get(delivery.webhookId)
    delivery.attempts += 1
    if (!webhook) {
      return this.#record({
        webhook_id: delivery.webhookId,
        topic: delivery.topic,
        address: '',
        attempt: delivery.attempts,
        status: null,
        ok: false,
        error: 'webhook no longer exists',
      })
    }
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Recharge-Webhooks (recharge-bridge simulator)',
      'x-recharge-topic': delivery.topic,
      ...signatureHeaders(this.#options.clientSecret, delivery.body, Math.floor(this.#options.now() / 1000)),
    }
    let status: number | null = null
    let error: string | undefined
    try {
      const response = await request(webhook.address, {
        method: 'POST',
        headers,
        body: delivery.body,
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      })
      status = response.statusCode
      await response.body.dump()
    } catch (cause) {
      error = cause instanceof Error ? cause.message : String(cause)
    }
    const ok = status !== null && status >= 200 && status < 300
    const result: DeliveryResult = {
      webhook_id: webhook.id,
      topic: delivery.topic,
      address: webhook.address,
      attempt: delivery.attempts,
      status,
      ok,
    }
    if (error) result.error = error
    if (ok) {
      this.#failures.delete(webhook.id)
      return this.#record(result)
    }
    const failures = (this.#failures.get(webhook.id) ?? 0) + 1
    this.#failures.set(webhook.id, failures)
    if (failures >= this.#options.maxFailures) {
      this.#state.webhooks.delete(webhook.id)
      this.#failures.delete(webhook.id)
      this.#pending = this.#pending.filter((pending) => pending.webhookId !== webhook.id)
      result.webhook_deleted = true
    } else {
      const backoff = this.#options.retryBaseMs * 2 ** Math.min(delivery.attempts - 1, 16)
      this.#pending.push({ ...delivery, dueAt: Date.now() + backoff })
    }
    return this.#record(result)
  }

  #record(result: DeliveryResult): DeliveryResult {
    if (this.#log.length >= MAX_LOG) this.#log.shift()
    this.#log.push(result)
    return result
  }
}

function droppedResult(webhook: { id: number; address: string }, event: SimEvent): DeliveryResult {
  const resource = Object.values(event.body)[0] as { id?: unknown } | undefined
  return {
    webhook_id: webhook.id,
    topic: event.topic,
    address: webhook.address,
    attempt: 0,
    status: null,
    ok: false,
    error: 'dropped by a webhook fault rule',
    dropped: true,
    resource_id: typeof resource?.id === 'number' ? resource.id : null,
  }
}
