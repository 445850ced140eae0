import { z } from 'zod'
import { externalId, id, integer, jsonText, money, nullish } from './lenient.ts'

/**
 * Building blocks shared by several upstream resources. Objects are zod's default (strip): keys we do not list are
 * dropped, so upstream additions (and secrets such as processor tokens) never reach our responses.
 */

/** A loose text field: strings as they are, numbers turned into text (phones and zips arrive as both). */
export const text = z.union([z.string(), z.number()]).transform(String)

/**
 * External platform references arrive as `{"ecommerce": "123"}` in 2021-11, as bare values elsewhere; we carry the
 * ecommerce id (or null).
 */
export const externalRef = z
  .preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? null : value),
    jsonText(
      z
        .union([z.object({ ecommerce: nullish(externalId) }).transform((value) => value.ecommerce), externalId])
        .nullish(),
    ),
  )
  .transform((value) => value ?? null)

/** `[{name, value}]` properties / order attributes. */
export const nameValueList = z
  .array(z.object({ name: text, value: nullish(text) }))
  .nullish()
  .transform((value) => value ?? [])

/** Postal address embedded in charges, orders, payment methods and delivery schedules. */
export const postalAddress = z.object({
  address1: nullish(text),
  address2: nullish(text),
  city: nullish(text),
  company: nullish(text),
  country_code: nullish(text),
  first_name: nullish(text),
  last_name: nullish(text),
  phone: nullish(text),
  province: nullish(text),
  zip: nullish(text),
})

/** Product images: `{small, medium, large, original}` urls, any of them absent. */
export const images = z
  .object({
    small: nullish(z.string()),
    medium: nullish(z.string()),
    large: nullish(z.string()),
    original: nullish(z.string()),
  })
  .nullish()
  .transform((value) => value ?? null)

/** A discount reference on an address/charge. */
export const discountRef = z.object({ id, code: nullish(text), value: nullish(money), value_type: nullish(z.string()) })

/** A shipping line on a charge/order. */
export const shippingLine = z.object({ code: nullish(text), price: nullish(money), title: nullish(text) })

/** A tax line on a charge/order. */
export const taxLine = z.object({ price: nullish(money), rate: nullish(money), title: nullish(text) })

export const count = nullish(integer)

/** Empty body (204) or anything: deletes and actions whose answer we do not use. */
export const emptyBody = z.unknown().transform(() => undefined)
