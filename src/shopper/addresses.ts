import type { AddressUpdate } from '../recharge/resources/addresses.ts'
import type { Address } from '../recharge/schemas/addresses.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import { showsAddressUpdate } from './write-confirmation.ts'

/** The self-serve actions on a shopper's addresses, on the shared write pipeline (src/shopper/pipeline.ts). */
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
}
