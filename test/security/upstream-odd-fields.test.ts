import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { addressesResource } from '../../src/recharge/resources/addresses.ts'
import { chargesResource } from '../../src/recharge/resources/charges.ts'
import { customersResource } from '../../src/recharge/resources/customers.ts'
import { ordersResource } from '../../src/recharge/resources/orders.ts'
import { paymentMethodsResource } from '../../src/recharge/resources/payment-methods.ts'
import { subscriptionsResource } from '../../src/recharge/resources/subscriptions.ts'
import type { addressSchema } from '../../src/recharge/schemas/addresses.ts'
import type { Charge } from '../../src/recharge/schemas/charges.ts'
import { compiled } from '../../src/recharge/schemas/compiled.ts'
import type { customerSchema } from '../../src/recharge/schemas/customers.ts'
import type { Order } from '../../src/recharge/schemas/orders.ts'
import { paymentMethodSchema } from '../../src/recharge/schemas/payment-methods.ts'
import type { subscriptionSchema } from '../../src/recharge/schemas/subscriptions.ts'
import type { RechargeTransport } from '../../src/recharge/types.ts'
import {
  publicAddress,
  publicCharge,
  publicCustomer,
  publicOrder,
  publicSubscription,
} from '../../src/shopper/mappers.ts'
import { toIdentity } from '../../src/shopper/records.ts'
import { startTestSimulator } from '../support/simulator.ts'

/**
 * Real store exports hold records whose fields differ in type from the documentation. A field the bridge does not
 * read must never fail a record, whatever it holds; a field it reads may arrive in any of the forms exports show and
 * must give the same answer as the documented form. Checked on every recorded Recharge fixture (RechargeSharp, MIT)
 * through the schema each resource really sends to the transport, down to the shopper-facing view.
 */
const root = new URL('../fixtures/recharge-2021-11/', import.meta.url).pathname

type Row = Record<string, unknown>

/** The schema a resource method hands to the transport (nothing is sent anywhere). */
function schemaSentBy(invoke: (transport: RechargeTransport) => unknown): z.ZodType {
  let schema: z.ZodType | undefined
  invoke({
    send: (request) => {
      schema = request.schema
      return new Promise(() => {})
    },
  })
  if (!schema) throw new Error('the resource sent nothing')
  return schema
}

interface Resource {
  /** Singular and list keys of the body. */
  one: string
  many: string
  /** Keys the bridge reads: everything else is "unused". */
  used: readonly string[]
  oneSchema: z.ZodType
  pageSchema: z.ZodType
  /** Read fields holding objects or lists of objects: the fields read inside them. */
  nested?: Record<string, readonly string[]>
  /** What a shopper (or the bridge's own logic) is served from one parsed record. */
  serve: (record: never) => unknown
}

const resources: Record<string, Resource> = {
  Subscriptions: {
    one: 'subscription',
    many: 'subscriptions',
    // The shopper view (src/shopper/mappers.ts), the policy checks and actions.
    used: [
      ...['id', 'address_id', 'status', 'external_product_id', 'external_variant_id', 'product_title'],
      ...['variant_title', 'price', 'quantity', 'presentment_currency', 'charge_interval_frequency'],
      ...['order_interval_frequency', 'order_interval_unit', 'next_charge_scheduled_at', 'is_prepaid'],
      ...['is_skippable', 'is_swappable', 'cancellation_reason', 'cancelled_at'],
    ],
    oneSchema: schemaSentBy((t) => subscriptionsResource(t).get('1')),
    pageSchema: schemaSentBy((t) => subscriptionsResource(t).list({ customer_id: '1' })),
    serve: (row: z.output<typeof subscriptionSchema>) => ({
      view: publicSubscription(row, ['skip']),
      // What the policy checks and actions read beyond the view.
      policy: [row.is_skippable, row.is_swappable, row.is_prepaid, row.order_interval_unit],
    }),
  },
  Customers: {
    one: 'customer',
    many: 'customers',
    // The profile view, the identity lookup, the hosted-portal hash.
    used: [
      ...['id', 'email', 'first_name', 'last_name', 'external_customer_id', 'hash', 'has_valid_payment_method'],
      ...['has_payment_method_in_dunning', 'created_at'],
    ],
    oneSchema: schemaSentBy((t) => customersResource(t).get('1')),
    pageSchema: schemaSentBy((t) => customersResource(t).list({ email: 'a@example.com' })),
    serve: (row: z.output<typeof customerSchema>) => ({
      view: publicCustomer(row),
      identity: toIdentity(row),
      hash: row.hash,
    }),
  },
  Addresses: {
    one: 'address',
    many: 'addresses',
    used: [
      ...['id', 'address1', 'address2', 'city', 'company', 'country_code', 'first_name', 'last_name', 'phone'],
      ...['province', 'zip'],
    ],
    oneSchema: schemaSentBy((t) => addressesResource(t).get('1')),
    pageSchema: schemaSentBy((t) => addressesResource(t).list({ customer_id: '1' })),
    serve: (row: z.output<typeof addressSchema>) => publicAddress(row),
  },
  // No route serves payment methods: the parsed record (its display fields) is what a caller of the client gets.
  PaymentMethods: {
    one: 'payment_method',
    many: 'payment_methods',
    used: Object.keys(paymentMethodSchema.shape),
    oneSchema: schemaSentBy((t) => paymentMethodsResource(t).get('1')),
    pageSchema: schemaSentBy((t) => paymentMethodsResource(t).list({ customer_id: '1' })),
    serve: (row: z.output<typeof paymentMethodSchema>) => row,
  },
}

/** Read inside each line item of a charge or order (the line view, skip eligibility, the delivered count). */
const lineItemFields = [
  ...['purchase_item_id', 'purchase_item_type', 'title', 'variant_title', 'external_product_id'],
  ...['external_variant_id', 'quantity', 'unit_price', 'total_price'],
]

/** Charges and orders have no recorded answers: their documented shapes come from the simulator (below). */
const billedResources: Record<string, Resource> = {
  Charges: {
    one: 'charge',
    many: 'charges',
    used: [
      ...['id', 'address_id', 'status', 'scheduled_at', 'currency', 'subtotal_price', 'total_price'],
      'line_items',
    ],
    nested: { line_items: lineItemFields },
    oneSchema: schemaSentBy((t) => chargesResource(t).get('1')),
    pageSchema: schemaSentBy((t) => chargesResource(t).list({ customer_id: '1' })),
    serve: (row: Charge) => publicCharge(row),
  },
  Orders: {
    one: 'order',
    many: 'orders',
    used: [
      ...['id', 'charge', 'status', 'external_order_number', 'processed_at', 'created_at', 'currency'],
      ...['subtotal_price', 'total_price', 'line_items'],
    ],
    nested: { line_items: lineItemFields, charge: ['id'] },
    oneSchema: schemaSentBy((t) => ordersResource(t).get('1')),
    pageSchema: schemaSentBy((t) => ordersResource(t).list({ customer_id: '1' })),
    serve: (row: Order) => ({
      view: publicOrder(row),
      // What the delivered count of the cancel policy reads.
      delivered: [row.status, row.line_items.map((item) => item.purchase_item_id)],
    }),
  },
}

interface Fixture {
  name: string
  resource: Resource
  /** The records of the body and how to put them back into a body of the same shape. */
  rows: Row[]
  body: (rows: Row[]) => unknown
  schema: z.ZodType
}

/** Every 2xx fixture with a body (delivery schedules are client-only and checked in recharge-fixtures.test.ts). */
const fixtures: Fixture[] = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((dir) =>
    readdirSync(join(root, dir.name))
      .filter((file) => /_20[01][_.]/.test(file) && !file.includes('delivery-schedule'))
      .map((file) => {
        const resource = resources[dir.name]
        if (!resource) throw new Error(`no resource for fixture folder ${dir.name}`)
        const body = JSON.parse(readFileSync(join(root, dir.name, file), 'utf8')) as Row
        const list = Array.isArray(body[resource.many])
        return {
          name: `${dir.name}/${file}`,
          resource,
          rows: list ? (body[resource.many] as Row[]) : [body[resource.one] as Row],
          body: (rows: Row[]) => (list ? { ...body, [resource.many]: rows } : { ...body, [resource.one]: rows[0] }),
          schema: list ? resource.pageSchema : resource.oneSchema,
        }
      }),
  )

/** A page of charges and one of orders, as the simulator answers them (the documented 2021-11 shapes). */
const simulatorPages: Fixture[] = await (async () => {
  const sim = await startTestSimulator()
  try {
    return await Promise.all(
      Object.entries(billedResources).map(async ([name, resource]) => {
        const { status, body } = await sim.api('GET', `/${resource.many}?limit=5`)
        if (status !== 200 || body[resource.many].length === 0) throw new Error(`no ${resource.many} in the simulator`)
        return {
          name: `simulator ${name} page`,
          resource,
          rows: body[resource.many] as Row[],
          body: (rows: Row[]) => ({ ...body, [resource.many]: rows }),
          schema: resource.pageSchema,
        }
      }),
    )
  } finally {
    await sim.close()
  }
})()

/** The served answer of a body: through the compiled schema (as the transport parses), then the view. */
function served(fixture: Fixture, body: unknown): unknown {
  const parsed = compiled(fixture.schema).parse(body) as { items?: never[] } | never
  const rows = (parsed as { items?: never[] }).items ?? [parsed as never]
  return rows.map((row) => fixture.resource.serve(row))
}

/** Any JSON value, JSON text of any value, and the odd cells exports hold. */
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.json({ maxDepth: 2 }),
  fc.constantFrom('', '[]', '{}', '0', '1', 'true', 'null', '[{"name":"a","value":1}]', 1, 0, null),
)

/**
 * A record with every unused field replaced by an odd value, and odd extra fields added; `nested` names read fields
 * holding objects or lists of objects, and the fields read inside them (whose other fields are made odd too).
 */
function oddUnusedFields(
  row: Row,
  used: readonly string[],
  nested: Record<string, readonly string[]> = {},
): fc.Arbitrary<Row> {
  const unused = Object.keys(row).filter((key) => !used.includes(key))
  const inner = Object.entries(nested).filter(([key]) => row[key] !== null && typeof row[key] === 'object')
  const oddInner = inner.map(([key, innerUsed]) => {
    const value = row[key]
    return Array.isArray(value)
      ? fc.tuple(...value.map((element: Row) => oddUnusedFields(element, innerUsed)))
      : oddUnusedFields(value as Row, innerUsed)
  })
  return fc
    .tuple(
      fc.tuple(...oddInner),
      fc.tuple(...unused.map(() => oddValue)),
      fc.dictionary(
        fc.string({ maxLength: 12 }).filter((key) => !used.includes(key) && key !== '__proto__'),
        oddValue,
        { maxKeys: 4 },
      ),
    )
    .map(([innerValues, values, extra]) => {
      const copy: Row = { ...row }
      inner.forEach(([key], index) => {
        copy[key] = innerValues[index]
      })
      unused.forEach((key, index) => {
        copy[key] = values[index]
      })
      for (const [key, value] of Object.entries(extra)) copy[key] = value
      return copy
    })
}

/** The forms exports show for the value of a field the bridge reads (the same meaning, another type). */
function exportForms(value: unknown): unknown[] {
  if (typeof value === 'boolean') return value ? [1, '1', 'true', 'TRUE'] : [0, '0', 'false']
  if (typeof value === 'number') return [String(value), ` ${value} `]
  if (Array.isArray(value)) return [JSON.stringify(value)]
  if (value !== null && typeof value === 'object' && 'ecommerce' in value) return [JSON.stringify(value)]
  if (typeof value === 'string') {
    const naive = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})$/.exec(value)
    if (naive) return [`${value}+00:00`, `${naive[1]} ${naive[2]}`, `${value}Z`]
    const utc = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\+00:00$/.exec(value)
    if (utc) return [utc[1], `${utc[1]}.000Z`]
  }
  return []
}

/** A record with some of its read fields in one of their export forms. */
function exportFormsOfUsedFields(row: Row, used: readonly string[]) {
  const variable = used.filter((key) => exportForms(row[key]).length > 0)
  return fc.subarray(variable).chain((keys) =>
    fc.tuple(...keys.map((key) => fc.constantFrom(...exportForms(row[key])))).map((forms) => {
      const copy: Row = { ...row }
      keys.forEach((key, index) => {
        copy[key] = forms[index]
      })
      return copy
    }),
  )
}

/** The two properties, for one body. */
function sameServedAnswer(fixture: Fixture): void {
  const { rows, resource } = fixture
  const canonical = served(fixture, fixture.body(rows))

  it(`${fixture.name}: unused fields holding any JSON value give the same served answer`, () => {
    fc.assert(
      fc.property(fc.tuple(...rows.map((row) => oddUnusedFields(row, resource.used, resource.nested))), (odd) => {
        expect(served(fixture, fixture.body(odd))).toEqual(canonical)
      }),
      { numRuns: 60 },
    )
  })

  it(`${fixture.name}: read fields in their export forms (numbers as text, flags as 0/1, lists as JSON text, dates with or without offset) give the same served answer`, () => {
    fc.assert(
      fc.property(fc.tuple(...rows.map((row) => exportFormsOfUsedFields(row, resource.used))), (forms) => {
        expect(served(fixture, fixture.body(forms))).toEqual(canonical)
      }),
      { numRuns: 60 },
    )
  })
}

describe('an upstream record whose fields differ in type from the documentation', () => {
  it('covers every recorded 2xx fixture with a body', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20)
    expect(new Set(fixtures.map((fixture) => fixture.resource.one))).toEqual(
      new Set(['subscription', 'customer', 'address', 'payment_method']),
    )
  })

  for (const fixture of fixtures) sameServedAnswer(fixture)

  for (const fixture of simulatorPages) sameServedAnswer(fixture)

  it('a list page serves its usable rows when one row has an unusable read field, and reports where (no values)', () => {
    const fixture = fixtures.find((candidate) => candidate.name === 'Subscriptions/list-subscriptions_200.json')
    if (!fixture) throw new Error('fixture missing')
    const [first, ...others] = fixture.rows as [Row, ...Row[]]
    const page = compiled(fixture.schema).parse(fixture.body([{ ...first, status: { secret: 'x' } }, ...others])) as {
      items: { id: string }[]
      unusable?: unknown
    }
    expect(page.items.map((row) => row.id)).toEqual(others.map((row) => String(row.id)))
    expect(page.unusable).toEqual([{ index: 0, issues: [{ path: 'status', code: 'invalid_type' }] }])
    expect(JSON.stringify(page.unusable)).not.toContain('secret')
  })
})
