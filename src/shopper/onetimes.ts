import type { CatalogProduct, CatalogService } from '../catalog/types.ts'
import { AppError } from '../errors.ts'
import { RechargeNotFoundError } from '../recharge/errors.ts'
import type { OnetimeCreate, OnetimeUpdate } from '../recharge/resources/onetimes.ts'
import type { Onetime } from '../recharge/schemas/onetimes.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import { dateFromToday, unprocessable } from './policy-checks.ts'
import { asShopperMistake } from './rejections.ts'

export interface OnetimeRequest {
  external_product_id: string
  external_variant_id: string
  quantity: number
  next_charge_date?: string | undefined
  address_id?: string | undefined
}

export interface OnetimePatch {
  quantity?: number | undefined
  next_charge_date?: string | undefined
}

/** Recharge's refusals of a onetime write, by the field it names, as the bridge's codes. */
const onetimeMistakes = asShopperMistake({
  address_id: 'ADDRESS_NOT_ACTIVE',
  next_charge_scheduled_at: 'DATE_NOT_ALLOWED',
  add_to_next_charge: 'NO_UPCOMING_DELIVERY',
  external_variant_id: 'PRODUCT_NOT_OFFERED',
  external_product_id: 'PRODUCT_NOT_OFFERED',
})

/**
 * One-time add-ons: a catalog product put on an upcoming delivery once (Recharge onetimes). Policy switch
 * `add_onetime` covers add, change and remove; bounds `onetimes.max_quantity` and `onetimes.max_days_ahead`. The
 * price, titles and currency come from the catalog, never from the request. By default an item lands on the next
 * queued delivery of the shopper's subscribed address.
 */
export class OnetimeActions {
  private readonly pipeline: WritePipeline
  private readonly catalog: () => CatalogService | undefined

  constructor(options: { pipeline: WritePipeline; catalog: () => CatalogService | undefined }) {
    this.pipeline = options.pipeline
    this.catalog = options.catalog
  }

  async create(context: ActionContext, request: OnetimeRequest): Promise<Onetime> {
    const { pipeline } = this
    const customerId = context.shopper.customerId
    await pipeline.admit(context, ['add_onetime'])
    this.checkQuantity(request.quantity)
    if (request.next_charge_date !== undefined) this.checkDate(request.next_charge_date)
    const addressId = await this.subscribedAddress(customerId, request.address_id)
    if (request.next_charge_date === undefined) await this.nextDelivery(customerId, addressId)
    const item = await this.priced(request.external_product_id, request.external_variant_id)
    const before = new Set((await pipeline.records.onetimes(customerId)).rows.map((row) => row.id))
    const body: OnetimeCreate = {
      address_id: Number(addressId),
      external_product_id: { ecommerce: request.external_product_id },
      external_variant_id: { ecommerce: request.external_variant_id },
      quantity: request.quantity,
      price: item.price,
      product_title: item.productTitle,
      variant_title: item.variantTitle,
      // Without a date Recharge puts it on the address's next queued charge itself (no stale date of ours).
      ...(request.next_charge_date === undefined
        ? { add_to_next_charge: true }
        : { next_charge_scheduled_at: request.next_charge_date }),
    }
    return pipeline.write(
      context,
      [`address:${addressId}`],
      () => pipeline.upstream().onetimes.create(body, pipeline.writeOptions(context, addressId)).catch(onetimeMistakes),
      async () => {
        // A new onetime of that variant and quantity (and date, when one was asked) that was not there before.
        const page = await pipeline
          .upstream()
          .onetimes.list({ address_id: addressId }, { limit: 250 }, pipeline.confirmingReadOptions(context))
        return page.items.find(
          (row) =>
            !before.has(row.id) &&
            row.external_variant_id === request.external_variant_id &&
            row.quantity === request.quantity &&
            (request.next_charge_date === undefined || row.next_charge_scheduled_at === request.next_charge_date),
        )
      },
    )
  }

  async update(context: ActionContext, onetimeId: string, patch: OnetimePatch): Promise<Onetime> {
    const { pipeline } = this
    await pipeline.admit(context, ['add_onetime'])
    const onetime = await pipeline.records.ownOnetime(context.shopper.customerId, onetimeId)
    if (patch.quantity !== undefined) this.checkQuantity(patch.quantity)
    if (patch.next_charge_date !== undefined) this.checkDate(patch.next_charge_date)
    const fields: OnetimeUpdate = {
      ...(patch.quantity !== undefined ? { quantity: patch.quantity } : {}),
      ...(patch.next_charge_date !== undefined ? { next_charge_scheduled_at: patch.next_charge_date } : {}),
    }
    return pipeline.write(
      context,
      [`subscription:${onetime.id}`, `address:${onetime.address_id}`],
      () =>
        pipeline
          .upstream()
          .onetimes.update(onetime.id, fields, pipeline.writeOptions(context, onetime.address_id))
          .catch(onetimeMistakes),
      async () => {
        const current = await pipeline.upstream().onetimes.get(onetime.id, pipeline.confirmingReadOptions(context))
        const shows =
          (fields.quantity === undefined || current.quantity === fields.quantity) &&
          (fields.next_charge_scheduled_at === undefined ||
            current.next_charge_scheduled_at === fields.next_charge_scheduled_at)
        return shows ? current : undefined
      },
    )
  }

  async remove(context: ActionContext, onetimeId: string): Promise<void> {
    const { pipeline } = this
    await pipeline.admit(context, ['add_onetime'])
    const onetime = await pipeline.records.ownOnetime(context.shopper.customerId, onetimeId)
    await pipeline.write(
      context,
      [`subscription:${onetime.id}`, `address:${onetime.address_id}`],
      async () => {
        await pipeline.upstream().onetimes.delete(onetime.id, pipeline.writeOptions(context, onetime.address_id))
        return true as const
      },
      async () => {
        // Gone is the only proof: a 404 on the fresh read.
        try {
          await pipeline.upstream().onetimes.get(onetime.id, pipeline.confirmingReadOptions(context))
          return undefined
        } catch (error) {
          if (error instanceof RechargeNotFoundError) return true as const
          throw error
        }
      },
    )
  }

  private checkQuantity(quantity: number): void {
    const max = this.pipeline.policy.onetimes.max_quantity
    if (quantity < 1 || quantity > max) {
      throw unprocessable(`The quantity must be between 1 and ${max}.`, [
        { field: 'body.quantity', message: `must be between 1 and ${max}` },
      ])
    }
  }

  private checkDate(value: string): void {
    const earliest = dateFromToday(1)
    const latest = dateFromToday(this.pipeline.policy.onetimes.max_days_ahead)
    const real = new Date(`${value}T00:00:00Z`)
    if (
      Number.isNaN(real.getTime()) ||
      real.toISOString().slice(0, 10) !== value ||
      value < earliest ||
      value > latest
    ) {
      throw new AppError('DATE_NOT_ALLOWED', {
        detail: `A one-time item can be added to a delivery between ${earliest} and ${latest}.`,
        errors: [{ field: 'body.next_charge_date', message: `must be a date between ${earliest} and ${latest}` }],
      })
    }
  }

  /** The address asked (one of the shopper's own: 404 otherwise), or else the one of their active subscription. */
  private async subscribedAddress(customerId: string, asked: string | undefined): Promise<string> {
    const { records } = this.pipeline
    if (asked !== undefined) await records.ownAddress(customerId, asked)
    const active = (await records.subscriptions(customerId)).rows.filter((row) => row.status === 'active')
    // Default: the address whose next delivery comes first.
    const soonest = [...active].sort((a, b) =>
      (a.next_charge_scheduled_at ?? '9999').localeCompare(b.next_charge_scheduled_at ?? '9999'),
    )[0]
    const addressId = asked ?? soonest?.address_id
    if (addressId === undefined || !active.some((row) => row.address_id === addressId)) {
      throw new AppError('ADDRESS_NOT_ACTIVE', {
        detail: 'One-time items ride on a delivery of an active subscription; this address has none.',
        errors: [{ field: 'body.address_id', message: 'must be an address with an active subscription' }],
      })
    }
    return addressId
  }

  private async nextDelivery(customerId: string, addressId: string): Promise<void> {
    const charges = (await this.pipeline.records.upcomingCharges(customerId)).rows
    const today = dateFromToday(0)
    const next = charges.find(
      (charge) => charge.status === 'queued' && charge.address_id === addressId && (charge.scheduled_at ?? '') > today,
    )
    if (!next) {
      throw new AppError('NO_UPCOMING_DELIVERY', {
        detail: 'This address has no upcoming delivery to add the item to; choose a next_charge_date.',
      })
    }
  }

  /** The item as the catalog sells it one-time: its one-time plan's price, else the list price. */
  private async priced(productId: string, variantId: string) {
    const catalog = this.catalog()
    if (!catalog) throw new AppError('SERVICE_UNAVAILABLE', { detail: 'The store catalog is not available.' })
    const offered = (field: string, message: string) =>
      new AppError('PRODUCT_NOT_OFFERED', { detail: message, errors: [{ field: `body.${field}`, message }] })
    const product: CatalogProduct | null = (await catalog.hasProduct(productId))
      ? await catalog.getProduct(productId)
      : null
    if (!product) throw offered('external_product_id', 'no such product in the catalog')
    const variant = product.variants.find((candidate) => candidate.external_variant_id === variantId)
    if (!variant) throw offered('external_variant_id', 'no such variant of this product')
    const onetimePlan = product.plans.find((plan) => plan.type === 'onetime')
    if (!onetimePlan && product.plans.some((plan) => plan.type !== 'onetime')) {
      throw offered('external_product_id', 'this product is sold by subscription only')
    }
    const settings = await catalog.getSettings()
    const price =
      variant.prices.find((entry) => entry.currency.toUpperCase() === settings.currency.toUpperCase()) ??
      (variant.prices.length === 1 ? variant.prices[0] : undefined)
    if (!price) throw offered('external_variant_id', 'this variant has no price in the store currency')
    const planPrice = onetimePlan
      ? price.plans.find((entry) => entry.id === onetimePlan.id)?.discounted_price
      : undefined
    return { price: planPrice ?? price.unit_price, productTitle: product.title, variantTitle: variant.title }
  }
}
