import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ZodType } from 'zod'
import { errorFromResponse } from '../../src/recharge/error-normaliser.ts'
import { RechargeNotFoundError, RechargeValidationError } from '../../src/recharge/errors.ts'
import { pageSchema } from '../../src/recharge/pagination.ts'
import { addressEnvelope, addressSchema } from '../../src/recharge/schemas/addresses.ts'
import { emptyBody } from '../../src/recharge/schemas/common.ts'
import { compiled } from '../../src/recharge/schemas/compiled.ts'
import {
  customerEnvelope,
  customerPortalEnvelope,
  customerSchema,
  deliveryScheduleSchema,
} from '../../src/recharge/schemas/customers.ts'
import { paymentMethodEnvelope, paymentMethodSchema } from '../../src/recharge/schemas/payment-methods.ts'
import { subscriptionEnvelope, subscriptionSchema } from '../../src/recharge/schemas/subscriptions.ts'

/** Every recorded Recharge 2021-11 response (RechargeSharp, MIT) must parse with our lenient schemas. */
const root = new URL('../fixtures/recharge-2021-11/', import.meta.url).pathname

const schemas: Record<string, { one: ZodType; page: ZodType }> = {
  Customers: { one: customerEnvelope, page: pageSchema('customers', customerSchema) },
  Addresses: { one: addressEnvelope, page: pageSchema('addresses', addressSchema) },
  PaymentMethods: { one: paymentMethodEnvelope, page: pageSchema('payment_methods', paymentMethodSchema) },
  Subscriptions: { one: subscriptionEnvelope, page: pageSchema('subscriptions', subscriptionSchema) },
}

const fixtures = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((dir) => readdirSync(join(root, dir.name)).map((file) => ({ dir: dir.name, file })))

function schemaFor(dir: string, file: string): ZodType {
  const set = schemas[dir]
  if (!set) throw new Error(`no schema set for fixture folder ${dir}`)
  if (file.includes('delivery-schedule')) return deliveryScheduleSchema
  if (file.startsWith('list-')) return set.page
  return set.one
}

describe('recorded Recharge fixtures', () => {
  it('are all present (the suite is not silently empty)', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(45)
  })

  for (const { dir, file } of fixtures) {
    const status = Number(/_(\d{3})(?:_|\.json)/.exec(file)?.[1])
    const text = readFileSync(join(root, dir, file), 'utf8')
    it(`${dir}/${file} (${status})`, () => {
      if (status === 204) {
        expect(text.trim()).toBe('')
        expect(emptyBody.safeParse(null).success).toBe(true)
      } else if (status >= 200 && status < 300) {
        const schema = schemaFor(dir, file)
        const result = schema.safeParse(JSON.parse(text))
        expect(result.error?.issues ?? []).toEqual([])
        // The transport parses with the compiled schema: it must give the same value.
        expect(compiled(schema).safeParse(JSON.parse(text))).toEqual(result)
      } else {
        const error = errorFromResponse({ status, text, operation: `GET /${dir.toLowerCase()}/:id` })
        expect(error).toBeInstanceOf(status === 404 ? RechargeNotFoundError : RechargeValidationError)
        expect(error.upstreamMessage).toBeTruthy()
        if (status === 422) expect(error.fieldErrors.length).toBeGreaterThan(0)
      }
    })
  }

  it("refuse a malformed body with the same issues through the compiled schemas as through zod's parser", () => {
    const customer = JSON.parse(readFileSync(join(root, 'Customers', 'get-customer_200.json'), 'utf8'))
    expect(customerEnvelope.safeParse(customer).success).toBe(true)
    const broken = { customer: { ...customer.customer, id: { nested: true }, email: 42, hash: ['x'] } }
    for (const schema of [customerEnvelope, customerPortalEnvelope]) {
      const runtime = schema.safeParse(broken)
      expect(runtime.success).toBe(false)
      expect(compiled(schema).safeParse(broken).error?.issues).toEqual(runtime.error?.issues)
    }
    const page = pageSchema('subscriptions', subscriptionSchema)
    const notAList = { subscriptions: 'none', next_cursor: 7 }
    expect(compiled(page).safeParse(notAList).error?.issues).toEqual(page.safeParse(notAList).error?.issues)
  })

  it('normalises values: dates to UTC ISO, money to strings, external ids flattened', () => {
    const customer = customerEnvelope.parse(
      JSON.parse(readFileSync(join(root, 'Customers/get-customer_200.json'), 'utf8')),
    )
    expect(customer.created_at).toBe('2022-03-09T02:36:35.000Z')
    expect(customer.external_customer_id).toBeNull()
    expect(customer.id).toBe('82940007')
    const subscription = subscriptionEnvelope.parse(
      JSON.parse(readFileSync(join(root, 'Subscriptions/get-subscription_200.json'), 'utf8')),
    )
    expect(subscription).toMatchObject({
      price: '49.00',
      external_variant_id: '23123123123',
      order_interval_unit: 'day',
      next_charge_scheduled_at: '2022-04-09',
    })
    // Keys the bridge does not read never reach our model.
    expect(subscription).not.toHaveProperty('analytics_data')
    expect(subscription).not.toHaveProperty('created_at')
  })

  it('never carries payment processor tokens', () => {
    for (const file of [
      'get-payment-method_200.json',
      'list-payment-methods_200.json',
      'create-payment-method_201.json',
    ]) {
      const text = readFileSync(join(root, 'PaymentMethods', file), 'utf8')
      expect(text).toMatch(/processor_(customer|payment_method)_token/)
      const schema = file.startsWith('list-') ? schemas.PaymentMethods?.page : schemas.PaymentMethods?.one
      const parsed = JSON.stringify(schema?.parse(JSON.parse(text)))
      expect(parsed).not.toMatch(/processor_customer_token|processor_payment_method_token|cus_test|card_test|pm_test/)
    }
  })
})
