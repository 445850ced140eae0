import type { FastifyBaseLogger } from 'fastify'
import type { CatalogService } from '../catalog/types.ts'
import { AppError } from '../errors.ts'
import { currentSpender, spendAs } from '../recharge/budget/spender.ts'
import type { CheckoutsResource } from '../recharge/resources/checkouts.ts'
import type {
  UpstreamAddressInput,
  UpstreamCheckout,
  UpstreamCheckoutCharge,
  UpstreamCheckoutCreateBody,
  UpstreamCheckoutUpdateBody,
} from '../recharge/schemas/checkouts.ts'
import type { CheckoutBinder } from './binding.ts'
import { resolveCart, toUpstreamLineItem } from './cart.ts'
import type { ChargeLock } from './charge-lock.ts'
import {
  classifyChargeFailure,
  notChargedAfterUncertainOutcome,
  outcomeUnknown,
  updateFailure,
} from './charge-outcome.ts'
import { presentCheckout, presentShippingRates } from './present.ts'
import type {
  AddressInput,
  ChargeCheckoutBody,
  ChargeResponse,
  CheckoutResponse,
  CreateCheckoutBody,
  CreatedCheckoutResponse,
  ShippingRatesResponse,
  UpdateCheckoutBody,
} from './schemas.ts'

/** Who bought: what a processed checkout tells us about its customer, for cache invalidation. */
export interface Buyer {
  customerId: string | null
  email: string | null
}

export interface CheckoutServiceDeps {
  checkouts: CheckoutsResource
  catalog: Pick<CatalogService, 'getProduct' | 'getSettings'> & Partial<Pick<CatalogService, 'hasProduct'>>
  binder: CheckoutBinder
  chargeLock: ChargeLock
  checkoutUrl: (token: string) => string
  /** Drops the buyer's cached customer data (subscriptions, charges, identity lookups). Must not throw. */
  invalidateBuyer: (buyer: Buyer) => Promise<void>
  /** Told how each charge attempt ended: `processed`, `recovered`, or the error code in lower case. */
  onChargeOutcome?: (outcome: string) => void
  log: FastifyBaseLogger
}

export interface CallContext {
  requestId: string
  /** Called right before the upstream write; a throw stops the write (the Idempotency-Key guard). */
  beforeWrite?: () => Promise<void>
}

/** How long each step may take. A charge waits for the payment processor, so it gets most of the request timeout. */
const DEADLINES = {
  catalog: 3_000,
  create: 10_000,
  read: 5_000,
  update: 10_000,
  charge: 25_000,
  readBack: 8_000,
} as const

function toUpstreamAddress(address: AddressInput): UpstreamAddressInput {
  return { ...address }
}

export function createCheckoutService(deps: CheckoutServiceDeps) {
  const { checkouts, catalog, binder, chargeLock, log } = deps

  async function storeCurrency(): Promise<string | null> {
    const settings = await catalog.getSettings()
    return settings.currency || null
  }

  async function create(body: CreateCheckoutBody, context: CallContext): Promise<CreatedCheckoutResponse> {
    const cart = await resolveCart(
      body.lines,
      (id) => catalog.getProduct(id, { deadlineMs: DEADLINES.catalog }),
      storeCurrency,
      catalog.hasProduct ? (id) => catalog.hasProduct!(id, { deadlineMs: DEADLINES.catalog }) : undefined,
    )
    const request: UpstreamCheckoutCreateBody = {
      line_items: cart.lines.map(toUpstreamLineItem),
      currency: cart.currency,
      external_checkout_source: 'headless',
      ...(body.email ? { email: body.email } : {}),
      ...(body.shipping_address ? { shipping_address: toUpstreamAddress(body.shipping_address) } : {}),
      ...(body.billing_address ? { billing_address: toUpstreamAddress(body.billing_address) } : {}),
      ...(body.discount_code ? { applied_discounts: [{ discount_code: body.discount_code }] } : {}),
      ...(body.utm ? { analytics_data: { utm_params: [{ ...body.utm }] } } : {}),
    }
    await context.beforeWrite?.()
    // An anonymous caller's create call is charged to the public share only: the route's per-IP limit bounds it per
    // client, and a buyer behind a shared address must not lose a purchase to catalog reads.
    const spender = currentSpender()
    const checkout = await spendAs(spender ? { kind: 'public', client: null } : null, () =>
      checkouts.create(request, { deadlineMs: DEADLINES.create, requestId: context.requestId }),
    )
    const { secret, expiresAt } = binder.mint(checkout.token)
    log.info({ requestId: context.requestId, lines: cart.lines.length }, 'checkout created')
    return {
      ...presentCheckout(checkout, deps.checkoutUrl(checkout.token)),
      checkout_secret: secret,
      checkout_secret_expires_at: expiresAt.toISOString(),
    }
  }

  async function get(token: string, context: CallContext): Promise<CheckoutResponse> {
    const checkout = await checkouts.get(token, { deadlineMs: DEADLINES.read, requestId: context.requestId })
    return presentCheckout(checkout, deps.checkoutUrl(checkout.token))
  }

  async function shippingRates(token: string, context: CallContext): Promise<ShippingRatesResponse> {
    const rates = await checkouts.shippingRates(token, { deadlineMs: DEADLINES.read, requestId: context.requestId })
    return presentShippingRates(rates)
  }

  async function update(token: string, body: UpdateCheckoutBody, context: CallContext): Promise<CheckoutResponse> {
    const request: UpstreamCheckoutUpdateBody = {
      ...(body.email ? { email: body.email } : {}),
      ...(body.shipping_address ? { shipping_address: toUpstreamAddress(body.shipping_address) } : {}),
      ...(body.billing_address ? { billing_address: toUpstreamAddress(body.billing_address) } : {}),
      ...(body.shipping_rate ? { applied_shipping_rate: { handle: body.shipping_rate } } : {}),
      ...(body.discount_code !== undefined
        ? { applied_discounts: body.discount_code === null ? [] : [{ discount_code: body.discount_code }] }
        : {}),
    }
    await context.beforeWrite?.()
    const checkout = await checkouts
      .update(token, request, { deadlineMs: DEADLINES.update, requestId: context.requestId })
      .catch((error: unknown) => {
        throw updateFailure(error)
      })
    return presentCheckout(checkout, deps.checkoutUrl(checkout.token))
  }

  function chargeAnswer(
    token: string,
    result: UpstreamCheckoutCharge | UpstreamCheckout,
    recovered: boolean,
  ): ChargeResponse {
    return {
      token,
      status: 'processed',
      charge_id: result.chargeId,
      order_id: result.orderId,
      completed_at: result.completedAt,
      free: 'free' in result ? result.free : null,
      recovered,
    }
  }

  async function afterProcessed(token: string, buyer: Buyer, context: CallContext): Promise<void> {
    let { customerId, email } = buyer
    if (!customerId || !email) {
      // The charge answer does not always name the customer; the processed checkout does (or its email does).
      try {
        const checkout = await checkouts.get(token, { deadlineMs: DEADLINES.read, requestId: context.requestId })
        customerId ??= checkout.customerId
        email ??= checkout.email
      } catch (error) {
        log.warn(
          { requestId: context.requestId, err: { message: (error as Error).message } },
          'could not read the processed checkout',
        )
      }
    }
    await deps.invalidateBuyer({ customerId, email })
  }

  /**
   * Charge once. The per-checkout lock keeps a second concurrent attempt (another key, another tab) from reaching
   * Recharge; the Idempotency-Key (route config) answers a repeat of the same attempt from memory. A failure after
   * which the charge may have happened is resolved by reading the checkout back, never by sending it again.
   */
  async function charge(token: string, body: ChargeCheckoutBody, context: CallContext): Promise<ChargeResponse> {
    try {
      const answer = await chargeOnce(token, body, context)
      deps.onChargeOutcome?.(answer.recovered ? 'recovered' : 'processed')
      return answer
    } catch (error) {
      deps.onChargeOutcome?.(error instanceof AppError ? error.code.toLowerCase() : 'error')
      throw error
    }
  }

  async function chargeOnce(token: string, body: ChargeCheckoutBody, context: CallContext): Promise<ChargeResponse> {
    const owner = await chargeLock.acquire(token)
    if (!owner) {
      throw new AppError('CHECKOUT_IN_PROGRESS', {
        detail:
          'Another request is charging this checkout right now. Do not charge again: read the checkout in a moment to see the outcome.',
        retryAfter: 2,
      })
    }
    try {
      let result: UpstreamCheckoutCharge
      await context.beforeWrite?.()
      try {
        result = await checkouts.charge(
          token,
          {
            payment_processor: body.payment_processor,
            payment_token: body.payment_token,
            ...(body.payment_type ? { payment_type: body.payment_type } : {}),
          },
          { deadlineMs: DEADLINES.charge, requestId: context.requestId },
        )
      } catch (error) {
        const failure = classifyChargeFailure(error)
        if (failure.kind === 'final') throw failure.error
        log.warn(
          { requestId: context.requestId, reason: failure.reason },
          'charge outcome uncertain; reading the checkout back',
        )
        let checkout: UpstreamCheckout
        try {
          checkout = await checkouts.get(token, { deadlineMs: DEADLINES.readBack, requestId: context.requestId })
        } catch (readError) {
          throw outcomeUnknown(readError)
        }
        if (!checkout.completedAt && !checkout.chargeId) throw notChargedAfterUncertainOutcome()
        await afterProcessed(token, { customerId: checkout.customerId, email: checkout.email }, context)
        return chargeAnswer(token, checkout, true)
      }
      log.info({ requestId: context.requestId }, 'checkout charged')
      await afterProcessed(token, { customerId: result.customerId, email: result.email }, context)
      return chargeAnswer(token, result, false)
    } finally {
      await chargeLock.release(token, owner)
    }
  }

  return { create, get, shippingRates, update, charge }
}

export type CheckoutService = ReturnType<typeof createCheckoutService>
