import { RechargeError, RechargeValidationError } from '../recharge/errors.ts'
import { RecordRejected, type ResolvedLine, resolveLines } from './lines.ts'
import { addressBody, addressKey, firstChargeDate, normaliseEmail } from './normalise.ts'
import { emptyOutcome, type ImportStep, type RecordOutcome } from './outcome.ts'
import { externalOrderIdOf, type ImportRecord, parseImportRecord } from './record.ts'
import type { CustomerWithRecords, ImportUpstream } from './upstream.ts'

/**
 * The exactly-once saga of one record: customer → payment method → address → one subscription per line. Each step
 * first looks for what an earlier attempt may have created, in Recharge itself, so a retry after the bridge lost all
 * its own state creates nothing twice:
 * - the customer: looked up by its external id when the record has one and the mirror cannot vouch that it is new
 *   (Recharge refuses a duplicate email, not a duplicate external id), then created; Recharge's "email already
 *   exists" leads to the lookup (by external customer id, then email). A lookup brings the customer's addresses,
 *   payment methods and subscriptions in the same call (`include`);
 * - the payment method: the one with the same processor and both processor tokens;
 * - the address: the one with the same normalised postal fields;
 * - each subscription: the one whose properties carry this record's marker (`_import_order` = external_order_id,
 *   `_import_line` = the line's index), written with the subscription itself, so it can never exist unmarked.
 * A customer this attempt created has nothing yet: its later steps create without looking. With the account mirror
 * on, a customer it knows is read straight away (one call fewer: no refused create).
 */

export const ORDER_MARKER = '_import_order'
export const LINE_MARKER = '_import_line'

export interface RecordSagaDeps {
  upstream: ImportUpstream
  /**
   * The Recharge customer id of an email or external id when something the bridge keeps can vouch for it at no
   * upstream cost (the account mirror, MIRROR=on), else null: a customer known to exist is read, not created first.
   */
  knownCustomer?:
    | ((reference: { email: string } | { externalCustomerId: string }) => Promise<string | null>)
    | undefined
  /**
   * True while `knownCustomer` knows every customer of the store (the mirror is ready), so an external id it does not
   * know is new. Otherwise a record with an external id is looked up by it before the create.
   */
  knowsEveryCustomer?: (() => boolean) | undefined
  catalog: Parameters<typeof resolveLines>[1]
  allowPriceOverride: boolean
  now: () => number
}

class StepFailure extends Error {
  readonly step: ImportStep
  readonly code: string
  readonly retryable: boolean

  constructor(step: ImportStep, code: string, message: string, retryable: boolean) {
    super(message)
    this.step = step
    this.code = code
    this.retryable = retryable
  }
}

const RETRYABLE_CODES = new Set([
  'UPSTREAM_BUSY',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'CONFLICT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
])

/** A client-safe code and message for a failed step (field names and Recharge's short messages, no tokens). */
export function describeStepError(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof RecordRejected) return { code: error.code, message: error.message, retryable: false }
  if (error instanceof RechargeError) {
    const app = error.toAppError()
    const fields = error.fieldErrors.map((field) => `${field.field}: ${field.message}`).join('; ')
    return {
      code: app.code,
      message: fields || app.detail || app.title,
      retryable: RETRYABLE_CODES.has(app.code),
    }
  }
  return { code: 'INTERNAL', message: 'unexpected error', retryable: true }
}

async function step<T>(name: ImportStep, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof StepFailure) throw error
    const { code, message, retryable } = describeStepError(error)
    throw new StepFailure(name, code, message, retryable)
  }
}

function isEmailTaken(error: unknown): boolean {
  return (
    error instanceof RechargeValidationError &&
    error.fieldErrors.some((field) => field.field.split('.').at(-1) === 'email')
  )
}

async function lookupCustomer(upstream: ImportUpstream, record: ImportRecord): Promise<CustomerWithRecords | null> {
  const externalId = record.customer.external_customer_id
  if (externalId) {
    const byExternalId = await upstream.findCustomer({ external_customer_id: externalId })
    if (byExternalId) return byExternalId
  }
  return upstream.findCustomer({ email: normaliseEmail(record.customer.email) })
}

async function knownCustomerId(deps: RecordSagaDeps, record: ImportRecord): Promise<string | null> {
  if (!deps.knownCustomer) return null
  const externalId = record.customer.external_customer_id
  const byExternalId = externalId ? await deps.knownCustomer({ externalCustomerId: externalId }) : null
  return byExternalId ?? deps.knownCustomer({ email: normaliseEmail(record.customer.email) })
}

/** Import one record (or, dry, say what it would create). Never throws: a failure is the outcome. */
export async function importRecord(
  deps: RecordSagaDeps,
  index: number,
  input: unknown,
  options: { dryRun?: boolean } = {},
): Promise<RecordOutcome> {
  const outcome = emptyOutcome(index, externalOrderIdOf(input))
  try {
    const parsed = parseImportRecord(input)
    if (!parsed.ok) throw new StepFailure('validate', 'INVALID_RECORD', parsed.message, false)
    const record = parsed.record
    const tomorrow = new Date(deps.now() + 86_400_000).toISOString().slice(0, 10)
    if (record.first_charge_date !== undefined && record.first_charge_date < tomorrow)
      // Recharge refuses a past date only at the subscription step, after the customer, card and address exist.
      throw new StepFailure('validate', 'INVALID_RECORD', 'first_charge_date: must be after today', false)
    const lines = await step('validate', () => resolveLines(record.lines, deps.catalog, deps.allowPriceOverride))
    await runSteps(deps, record, lines, outcome, options.dryRun ?? false)
    const anyCreated =
      outcome.created.customer ||
      outcome.created.payment_method ||
      outcome.created.address ||
      outcome.created.subscriptions > 0
    outcome.status = anyCreated ? 'created' : 'found'
  } catch (error) {
    const failure =
      error instanceof StepFailure ? error : new StepFailure('validate', 'INTERNAL', 'unexpected error', true)
    outcome.status = 'failed'
    outcome.step = failure.step
    outcome.code = failure.code
    outcome.message = failure.message
    outcome.retryable = failure.retryable
  }
  return outcome
}

async function runSteps(
  deps: RecordSagaDeps,
  record: ImportRecord,
  lines: ResolvedLine[],
  outcome: RecordOutcome,
  dryRun: boolean,
): Promise<void> {
  const { upstream } = deps
  // Customer: create first; "email already exists" means it exists: find it with its records.
  let existing: CustomerWithRecords | null = null
  let customerId: string | null = null
  await step('customer', async () => {
    if (dryRun) {
      existing = await lookupCustomer(upstream, record)
      customerId = existing?.id ?? null
      return
    }
    const knownId = await knownCustomerId(deps, record)
    if (knownId) {
      // The mirror may lag a deletion: a customer it names but Recharge no longer has is created below.
      existing = await upstream.findCustomer({ ids: knownId })
      if (existing) {
        customerId = existing.id
        return
      }
    } else if (record.customer.external_customer_id && !deps.knowsEveryCustomer?.()) {
      // Recharge refuses a second customer by email only: a customer whose email changed on the merchant's platform
      // would be created again under the new one. Nothing vouches that this external id is new, so ask first.
      existing = await upstream.findCustomer({ external_customer_id: record.customer.external_customer_id })
      if (existing) {
        customerId = existing.id
        return
      }
    }
    try {
      customerId = await upstream.createCustomer({
        email: normaliseEmail(record.customer.email),
        first_name: record.customer.first_name,
        last_name: record.customer.last_name,
        ...(record.customer.phone ? { phone: record.customer.phone } : {}),
        ...(record.customer.external_customer_id
          ? { external_customer_id: { ecommerce: record.customer.external_customer_id } }
          : {}),
      })
    } catch (error) {
      if (!isEmailTaken(error)) throw error
      existing = await lookupCustomer(upstream, record)
      if (!existing) throw new StepFailure('customer', 'UPSTREAM_REJECTED', 'email: already exists on store', true)
      customerId = existing.id
    }
  })
  const found = existing as CustomerWithRecords | null
  outcome.customer_id = customerId
  // Dry: what a run would create. Otherwise: what this attempt created (set once the create succeeded).
  outcome.created.customer = found === null

  const method = record.payment_method
  const matchingMethod = found?.include.payment_methods.find(
    (candidate) =>
      candidate.processor_name === method.processor_name &&
      candidate.processor_customer_token === method.processor_customer_token &&
      candidate.processor_payment_method_token === method.processor_payment_method_token,
  )
  let paymentMethodId: string | null = matchingMethod?.id ?? null
  if (!paymentMethodId && !dryRun) {
    paymentMethodId = await step('payment_method', () =>
      upstream.createPaymentMethod({
        customer_id: Number(customerId),
        default: (found?.include.payment_methods.length ?? 0) === 0,
        payment_type: method.payment_type ?? 'CREDIT_CARD',
        processor_name: method.processor_name,
        processor_customer_token: method.processor_customer_token,
        processor_payment_method_token: method.processor_payment_method_token,
        billing_address: addressBody(method.billing_address),
      }),
    )
  }
  outcome.payment_method_id = paymentMethodId
  outcome.created.payment_method = !matchingMethod

  const key = addressKey(record.shipping_address)
  const matchingAddress = found?.include.addresses.find((candidate) => addressKey(candidate) === key)
  let addressId: string | null = matchingAddress?.id ?? null
  if (!addressId && !dryRun) {
    addressId = await step('address', () =>
      upstream.createAddress({
        customer_id: Number(customerId),
        payment_method_id: Number(paymentMethodId),
        ...addressBody(record.shipping_address),
      }),
    )
  }
  outcome.address_id = addressId
  outcome.created.address = !matchingAddress

  for (const line of lines) {
    const marked = found?.include.subscriptions.find(
      (subscription) =>
        subscription.properties.some(
          (entry) => entry.name === ORDER_MARKER && entry.value === record.external_order_id,
        ) && subscription.properties.some((entry) => entry.name === LINE_MARKER && entry.value === String(line.index)),
    )
    if (marked) {
      outcome.subscription_ids.push(marked.id)
      continue
    }
    if (dryRun) {
      outcome.created.subscriptions += 1
      continue
    }
    const subscriptionId = await step('subscription', () =>
      upstream.createSubscription({
        address_id: Number(addressId),
        external_product_id: { ecommerce: line.externalProductId },
        external_variant_id: { ecommerce: line.externalVariantId },
        quantity: line.quantity,
        price: line.price,
        charge_interval_frequency: line.chargeEvery,
        order_interval_frequency: line.orderEvery,
        order_interval_unit: line.unit,
        next_charge_scheduled_at: firstChargeDate(
          record.order_date,
          { unit: line.unit, every: line.orderEvery },
          record.first_charge_date,
          deps.now(),
        ),
        properties: [
          { name: ORDER_MARKER, value: record.external_order_id },
          { name: LINE_MARKER, value: String(line.index) },
        ],
      }),
    )
    outcome.subscription_ids.push(subscriptionId)
    outcome.created.subscriptions += 1
  }
}
