import pino from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { createCheckoutBinder } from '../../src/checkout/binding.ts'
import { createChargeLock } from '../../src/checkout/charge-lock.ts'
import { type Buyer, createCheckoutService } from '../../src/checkout/service.ts'
import { AppError } from '../../src/errors.ts'
import { RechargeTimeoutError, RechargeValidationError } from '../../src/recharge/errors.ts'
import type { CheckoutsResource } from '../../src/recharge/resources/checkouts.ts'
import type { UpstreamCheckout, UpstreamCheckoutCharge } from '../../src/recharge/schemas/checkouts.ts'

function checkout(overrides: Partial<UpstreamCheckout> = {}): UpstreamCheckout {
  return {
    token: 'tok_1',
    currency: 'USD',
    email: 'ada@example.com',
    lineItems: [],
    subtotalPrice: '10.00',
    totalTax: '0.00',
    totalPrice: '10.00',
    totalDiscounts: null,
    shippingPrice: null,
    requiresShipping: true,
    shippingAddress: null,
    billingAddress: null,
    shippingRate: null,
    discountCodes: [],
    chargeId: null,
    orderId: null,
    customerId: null,
    externalCustomerId: null,
    completedAt: null,
    createdAt: null,
    updatedAt: null,
    ...overrides,
  }
}

function chargeAnswer(overrides: Partial<UpstreamCheckoutCharge> = {}): UpstreamCheckoutCharge {
  return {
    token: null,
    chargeId: '77',
    orderId: null,
    customerId: null,
    status: 'success',
    free: false,
    completedAt: null,
    email: null,
    ...overrides,
  }
}

function setup(resource: Partial<CheckoutsResource>) {
  const invalidated: Buyer[] = []
  const outcomes: string[] = []
  const checkouts = {
    create: vi.fn(),
    get: vi.fn(async () => checkout()),
    update: vi.fn(),
    shippingRates: vi.fn(),
    charge: vi.fn(async () => chargeAnswer()),
    ...resource,
  } as unknown as CheckoutsResource
  const service = createCheckoutService({
    checkouts,
    catalog: { getProduct: vi.fn(), getSettings: vi.fn() },
    binder: createCheckoutBinder('unit-test-root-secret-0123456789abcdef'),
    chargeLock: createChargeLock({ redis: null, prefix: 'unit:' }),
    checkoutUrl: (token) => `https://checkout.example/${token}`,
    invalidateBuyer: async (buyer) => {
      invalidated.push(buyer)
    },
    onChargeOutcome: (outcome) => outcomes.push(outcome),
    log: pino({ level: 'silent' }),
  })
  return { service, checkouts, invalidated, outcomes }
}

const body = { payment_processor: 'stripe' as const, payment_token: 'tok_visa' }
const context = { requestId: 'req-1' }

describe('checkout charge orchestration', () => {
  it('reads the processed checkout to find the buyer when the charge answer does not name them', async () => {
    const { service, checkouts, invalidated, outcomes } = setup({
      get: vi.fn(async () => checkout({ customerId: '42', completedAt: '2026-11-22T00:00:00.000Z', chargeId: '77' })),
    })
    const answer = await service.charge('tok_1', body, context)
    expect(answer).toMatchObject({ status: 'processed', charge_id: '77', recovered: false })
    expect(checkouts.get).toHaveBeenCalledTimes(1)
    expect(invalidated).toEqual([{ customerId: '42', email: 'ada@example.com' }])
    expect(outcomes).toEqual(['processed'])
  })

  it('does not read back when the charge answer names the buyer', async () => {
    const { service, checkouts, invalidated } = setup({
      charge: vi.fn(async () => chargeAnswer({ customerId: '9', email: 'bo@example.com' })),
    })
    await service.charge('tok_1', body, context)
    expect(checkouts.get).not.toHaveBeenCalled()
    expect(invalidated).toEqual([{ customerId: '9', email: 'bo@example.com' }])
  })

  it('answers a concurrent attempt on the same checkout with CHECKOUT_IN_PROGRESS, without calling Recharge', async () => {
    let release: () => void = () => {}
    const charge = vi
      .fn<CheckoutsResource['charge']>()
      .mockImplementationOnce(
        () =>
          new Promise<UpstreamCheckoutCharge>((resolve) => {
            release = () => resolve(chargeAnswer({ customerId: '1' }))
          }),
      )
      .mockResolvedValue(chargeAnswer({ customerId: '1' }))
    const { service, outcomes } = setup({ charge })
    const first = service.charge('tok_1', body, context)
    await vi.waitFor(() => expect(charge).toHaveBeenCalledTimes(1))
    const second = await service.charge('tok_1', body, context).catch((error: unknown) => error)
    expect(second).toBeInstanceOf(AppError)
    expect((second as AppError).code).toBe('CHECKOUT_IN_PROGRESS')
    release()
    await first
    expect(charge).toHaveBeenCalledTimes(1)
    expect(outcomes.sort()).toEqual(['checkout_in_progress', 'processed'])
    // Once the first has finished, the checkout is free again (Recharge decides what a new attempt means).
    await service.charge('tok_1', body, context)
    expect(charge).toHaveBeenCalledTimes(2)
  })

  it('after a timeout: processed on read-back → success (recovered); unpaid → CHECKOUT_NOT_CHARGED; never re-sent', async () => {
    const timeout = vi.fn(async () => {
      throw new RechargeTimeoutError('no answer in time')
    })
    const paid = setup({
      charge: timeout,
      get: vi.fn(async () => checkout({ chargeId: '5', completedAt: '2026-11-22T00:00:00.000Z', customerId: '3' })),
    })
    expect(await paid.service.charge('tok_1', body, context)).toMatchObject({ recovered: true, charge_id: '5' })
    expect(paid.invalidated).toEqual([{ customerId: '3', email: 'ada@example.com' }])

    const unpaid = setup({ charge: timeout })
    const error = await unpaid.service.charge('tok_1', body, context).catch((caught: unknown) => caught)
    expect((error as AppError).code).toBe('CHECKOUT_NOT_CHARGED')
    expect(unpaid.invalidated).toEqual([])
    expect(timeout).toHaveBeenCalledTimes(2) // once per service, never retried
  })

  it('passes a decline through as CARD_DECLINED and frees the checkout for the next attempt', async () => {
    const charge = vi
      .fn<CheckoutsResource['charge']>()
      .mockRejectedValueOnce(
        new RechargeValidationError('422', { status: 422, upstreamMessage: 'Your card was declined.' }),
      )
      .mockResolvedValueOnce(chargeAnswer({ customerId: '1' }))
    const { service, outcomes } = setup({ charge })
    const declined = await service.charge('tok_1', body, context).catch((error: unknown) => error)
    expect((declined as AppError).code).toBe('CARD_DECLINED')
    expect(await service.charge('tok_1', body, context)).toMatchObject({ status: 'processed' })
    expect(outcomes).toEqual(['card_declined', 'processed'])
  })
})
