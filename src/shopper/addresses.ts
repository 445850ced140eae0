import type { AddressCreate, AddressUpdate } from '../recharge/resources/addresses.ts'
import type { Address } from '../recharge/schemas/addresses.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import { unprocessable } from './policy-checks.ts'
import { showsAddressUpdate } from './write-confirmation.ts'

/** A new address as the shopper sends it (the customer id comes from their token, never from the body). */
export type NewAddress = Omit<AddressCreate, 'customer_id'>

/**
 * The self-serve actions on a shopper's addresses, on the shared write pipeline (src/shopper/pipeline.ts): change
 * one (update_address), add one (create_address, the hosted portal's "prevent address creation" turned around), and
 * move a subscription to another of their addresses (change_address).
 */
export class AddressActions {
  private readonly pipeline: WritePipeline

  constructor(options: { pipeline: WritePipeline }) {
    this.pipeline = options.pipeline
  }

  async update(context: ActionContext, addressId: string, patch: AddressUpdate): Promise<Address> {
    const { pipeline } = this
    await pipeline.admit(context, ['update_address'])
    const address = await pipeline.records.ownAddress(context.shopper.customerId, addressId)
    return pipeline.write(
      context,
      [`address:${address.id}`],
      () => pipeline.upstream().addresses.update(address.id, patch, pipeline.writeOptions(context, address.id)),
      async () => {
        const current = await pipeline.upstream().addresses.get(address.id, pipeline.confirmingReadOptions(context))
        return showsAddressUpdate(current, patch) ? current : undefined
      },
    )
  }

  /**
   * Add an address to the shopper's account. A lost answer is confirmed by re-reading the shopper's addresses from
   * Recharge: an address that was not there before the write and shows every field sent is the one created.
   */
  async create(context: ActionContext, fields: NewAddress): Promise<Address> {
    const { pipeline } = this
    const customerId = context.shopper.customerId
    await pipeline.admit(context, ['create_address'])
    const before = new Set((await pipeline.records.addresses(customerId)).rows.map((row) => row.id))
    return pipeline.write(
      context,
      [],
      () =>
        pipeline
          .upstream()
          .addresses.create({ ...fields, customer_id: Number(customerId) }, pipeline.writeOptions(context, null)),
      async () => {
        const page = await pipeline
          .upstream()
          .addresses.list({ customer_id: customerId }, { limit: 250 }, pipeline.confirmingReadOptions(context))
        const { country_code, ...postal } = fields
        return page.items.find(
          (row) => !before.has(row.id) && row.country_code === country_code && showsAddressUpdate(row, postal),
        )
      },
    )
  }

  /**
   * Move one of the shopper's subscriptions to another of their addresses (Recharge
   * `POST /subscriptions/{id}/change_address`). Both ids must be theirs: either one foreign is 404 with no upstream
   * call. The write is serialised under the subscription's current address, as Recharge locks it.
   */
  async changeSubscriptionAddress(
    context: ActionContext,
    subscriptionId: string,
    addressId: string,
  ): Promise<Subscription> {
    const { pipeline } = this
    const customerId = context.shopper.customerId
    await pipeline.admit(context, ['change_address'])
    const subscription = await pipeline.records.ownSubscription(customerId, subscriptionId)
    const target = await pipeline.records.ownAddress(customerId, addressId)
    if (subscription.status !== 'active')
      throw unprocessable('Only an active subscription can move to another address.')
    if (subscription.address_id === target.id) throw unprocessable('The subscription already ships to this address.')
    return pipeline.write(
      context,
      [`subscription:${subscription.id}`, `address:${subscription.address_id}`, `address:${target.id}`],
      () =>
        pipeline
          .upstream()
          .subscriptions.changeAddress(
            subscription.id,
            target.id,
            pipeline.writeOptions(context, subscription.address_id),
          ),
      async () => {
        const current = await pipeline
          .upstream()
          .subscriptions.get(subscription.id, pipeline.confirmingReadOptions(context))
        return current.address_id === target.id ? current : undefined
      },
    )
  }
}
