import type { PlansResource } from '../../recharge/resources/plans.ts'
import type { ProductsResource } from '../../recharge/resources/products.ts'
import type { RechargePlan } from '../../recharge/schemas/plans.ts'
import type { RechargeProduct } from '../../recharge/schemas/products.ts'
import type { CurrentState } from '../diff.ts'

/**
 * What Recharge holds now: every product and every plan, read at the largest page size (250): a 1,000-product
 * catalog with 3 plans each costs 4 + 12 reads. Always re-read at the start of a run (also a resumed one): matching
 * against fresh state is what makes a repeated write impossible.
 */
export async function readCurrentState(
  products: Pick<ProductsResource, 'listAll'>,
  plans: Pick<PlansResource, 'listAll'>,
): Promise<CurrentState> {
  const productMap = new Map<string, RechargeProduct>()
  const planMap = new Map<string, RechargePlan[]>()
  // The two listings are independent: read them side by side (each is sequential, cursor after cursor).
  await Promise.all([
    (async () => {
      for await (const page of products.listAll()) {
        for (const product of page) productMap.set(product.external_product_id, product)
      }
    })(),
    (async () => {
      for await (const page of plans.listAll()) {
        for (const plan of page) {
          const list = planMap.get(plan.external_product_id)
          if (list) list.push(plan)
          else planMap.set(plan.external_product_id, [plan])
        }
      }
    })(),
  ])
  return { products: productMap, plans: planMap }
}
