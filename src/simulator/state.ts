import { formatMoney, parseMoney } from '../infra/money.ts'
import { dateOnly, isoNaive, isoOffset } from './dates.ts'
import { CustomerMap, CustomerRecords } from './indexed-records.ts'
import { currencyDecimals, type ResolvedOptions } from './options.ts'
import type { RetentionStrategy, StoreDiscount, SubscriptionPause } from './retention-types.ts'
import type {
  Address,
  AsyncBatch,
  AsyncBatchTask,
  Charge,
  Checkout,
  Customer,
  Discount,
  Onetime,
  Order,
  PaymentMethod,
  Plan,
  Product,
  SentNotification,
  Store,
  Subscription,
  Webhook,
} from './types.ts'

/** A state change that registered webhooks hear about: the topic and the resource envelope (the webhook body). */
export interface SimEvent {
  topic: string
  readonly body: Record<string, unknown>
}

const MONEY_MEMO_SIZE = 10_000

/**
 * The simulator's in-memory records and the few facts every route needs (now, currency, ids). Domain rules live in
 * the modules that use this (scheduling.ts, checkout-processing.ts, routes/); the state only stores and emits.
 */
export class SimState {
  readonly options: ResolvedOptions
  readonly now: () => number
  readonly decimals: number

  store!: Store
  /** Indexed by email and external id; by customer below (indexed-records.ts: a large store stays fast). */
  readonly customers = new CustomerMap()
  readonly addresses = new CustomerRecords<Address>((address) => address.customer_id)
  readonly paymentMethods = new CustomerRecords<PaymentMethod>((method) => method.customer_id)
  readonly subscriptions = new CustomerRecords<Subscription>((subscription) => subscription.customer_id)
  readonly onetimes = new CustomerRecords<Onetime>((onetime) => onetime.customer_id)
  readonly charges = new CustomerRecords<Charge>((charge) => charge.customer.id)
  readonly orders = new CustomerRecords<Order>((order) => order.customer.id)
  readonly products = new Map<string, Product>()
  readonly plans = new Map<number, Plan>()
  readonly checkouts = new Map<string, Checkout>()
  readonly webhooks = new Map<number, Webhook>()
  readonly asyncBatches = new Map<number, AsyncBatch>()
  readonly asyncBatchTasks = new Map<number, AsyncBatchTask[]>()
  readonly discounts = new Map<string, Discount>()
  /** The Discounts API's records by id (checkouts still read `discounts`, the codes by name). */
  readonly storeDiscounts = new Map<number, StoreDiscount>()
  readonly retentionStrategies = new Map<number, RetentionStrategy>()
  readonly pauses = new Map<number, SubscriptionPause>()
  readonly notifications: SentNotification[] = []

  #nextId = new Map<string, number>()
  /** Money strings by amount and back: exact decimal arithmetic is slow, and a store repeats a few prices. */
  #formatted = new Map<number, string>()
  #parsed = new Map<string, number | null>()
  #listeners: ((event: SimEvent) => void)[] = []

  constructor(options: ResolvedOptions, now: () => number) {
    this.options = options
    this.now = now
    this.decimals = currencyDecimals(options.currency)
  }

  /** Sequential ids per resource kind, starting at a kind-specific base so ids of different kinds never collide. */
  nextId(kind: string, base: number): number {
    const id = this.#nextId.get(kind) ?? base
    this.#nextId.set(kind, id + 1)
    return id
  }

  onEvent(listener: (event: SimEvent) => void): void {
    this.#listeners.push(listener)
  }

  /**
   * `body` may be a function: it is then rendered only if some listener reads it (a registered webhook for the
   * topic), still synchronously, so the payload is the state at the moment of the change.
   */
  emit(topic: string, body: Record<string, unknown> | (() => Record<string, unknown>)): void {
    if (this.#listeners.length === 0) return
    let rendered: Record<string, unknown> | undefined
    const event: SimEvent = {
      topic,
      get body() {
        rendered ??= typeof body === 'function' ? body() : body
        return rendered
      },
    }
    for (const listener of this.#listeners) listener(event)
  }

  timestamp(): string {
    return isoOffset(this.now())
  }

  naiveTimestamp(): string {
    return isoNaive(this.now())
  }

  today(): string {
    return dateOnly(this.now())
  }

  money(minor: number): string {
    let text = this.#formatted.get(minor)
    if (text === undefined) {
      text = formatMoney(minor, this.decimals)
      if (this.#formatted.size >= MONEY_MEMO_SIZE) this.#formatted.clear()
      this.#formatted.set(minor, text)
    }
    return text
  }

  /** `parseMoney` in the store currency (minor units; null when not a number), memoised like `money`. */
  minor(text: string): number | null {
    let minor = this.#parsed.get(text)
    if (minor === undefined) {
      minor = parseMoney(text, this.decimals)
      if (this.#parsed.size >= MONEY_MEMO_SIZE) this.#parsed.clear()
      this.#parsed.set(text, minor)
    }
    return minor
  }

  customerRef(customer: Customer) {
    return {
      id: customer.id,
      email: customer.email,
      external_customer_id: { ...customer.external_customer_id },
      hash: customer.hash,
    }
  }
}
