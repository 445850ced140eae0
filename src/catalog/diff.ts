import { decimal } from '../infra/money.ts'
import type { PlanUpdateBody, PlanWriteBody, RechargePlan } from '../recharge/schemas/plans.ts'
import type { ProductWriteBody, RechargeProduct } from '../recharge/schemas/products.ts'
import { type DesiredPlan, type DesiredProduct, planKey } from './desired.ts'

/**
 * The diff engine: desired state (from the feed) against what Recharge holds → the writes that make them equal, and
 * nothing else. Plans are matched by key (type, unit, frequencies); when Recharge holds several plans with one key
 * (a crashed run elsewhere, manual edits) the oldest is kept and the others are deleted.
 */

export interface PlanUpdate {
  id: string
  key: string
  body: PlanUpdateBody
  fields: string[]
}

export interface PlanDelete {
  id: string
  key: string
  reason: 'not in feed' | 'duplicate'
}

export interface ProductChange {
  external_product_id: string
  /** What happens to the product record itself. */
  product: 'create' | 'update' | 'delete' | 'keep'
  /** Fields that differ (update) — for the dry-run plan and the report. */
  fields: string[]
  body: ProductWriteBody | null
  planCreates: DesiredPlan[]
  planUpdates: PlanUpdate[]
  planDeletes: PlanDelete[]
}

export interface SyncPlan {
  /** Products with at least one write, in execution order: creates and updates first, deletes last. */
  changes: ProductChange[]
  /** Feed products that already match Recharge. */
  unchanged: number
  totals: {
    productCreates: number
    productUpdates: number
    productDeletes: number
    planCreates: number
    planUpdates: number
    planDeletes: number
  }
}

export interface CurrentState {
  products: ReadonlyMap<string, RechargeProduct>
  plans: ReadonlyMap<string, readonly RechargePlan[]>
}

export interface DiffOptions {
  /** Delete Recharge products (and their plans) the feed does not list. Default true. */
  deleteMissing?: boolean
}

const text = (value: string | null | undefined) => (value ?? '').trim()

function sameAmount(a: string | null | undefined, b: string | null | undefined): boolean {
  const left = a === null || a === undefined || a === '' ? null : a
  const right = b === null || b === undefined || b === '' ? null : b
  if (left === null || right === null) return left === right
  return decimal(left).eq(right)
}

function productFieldChanges(desired: ProductWriteBody, current: RechargeProduct): string[] {
  const fields: string[] = []
  if (text(desired.title) !== text(current.title)) fields.push('title')
  if (text(desired.description) !== text(current.description)) fields.push('description')
  if (text(desired.vendor) !== text(current.vendor)) fields.push('vendor')
  const currentImage = current.images[0]?.original ?? null
  if ((desired.images?.[0]?.original ?? null) !== currentImage) fields.push('image')
  const desiredOptions = JSON.stringify(
    (desired.options ?? []).map((option) => [option.name, option.values.map((v) => v.label)]),
  )
  const currentOptions = JSON.stringify(current.options.map((option) => [option.name, option.values]))
  if (desiredOptions !== currentOptions) fields.push('options')

  const variants = desired.variants ?? []
  if (variants.length !== current.variants.length) {
    fields.push('variants')
    return fields
  }
  const byId = new Map(current.variants.map((variant) => [variant.external_variant_id, variant]))
  for (const variant of variants) {
    const existing = byId.get(variant.external_variant_id)
    const at = `variants[${variant.external_variant_id}]`
    if (!existing) {
      fields.push('variants')
      break
    }
    if (text(variant.title) !== text(existing.title)) fields.push(`${at}.title`)
    if (text(variant.sku) !== text(existing.sku)) fields.push(`${at}.sku`)
    if (JSON.stringify(variant.option_values.map((v) => v.label)) !== JSON.stringify(existing.option_values)) {
      fields.push(`${at}.options`)
    }
    if (!sameAmount(variant.prices.unit_price, existing.prices.unit_price)) fields.push(`${at}.price`)
    if (!sameAmount(variant.prices.compare_at_price, existing.prices.compare_at_price)) {
      fields.push(`${at}.compare_at_price`)
    }
  }
  return fields
}

function keyOf(plan: RechargePlan): string {
  const preferences = plan.subscription_preferences
  return planKey({
    type: plan.type,
    interval_unit: preferences?.interval_unit ?? null,
    order_interval_frequency: preferences?.order_interval_frequency ?? null,
    charge_interval_frequency: preferences?.charge_interval_frequency ?? null,
  })
}

function planFieldChanges(desired: PlanWriteBody, current: RechargePlan): string[] {
  const fields: string[] = []
  if (text(desired.title) !== text(current.title)) fields.push('title')
  if (desired.sort_order !== current.sort_order) fields.push('sort_order')
  const desiredDiscount = desired.discount_type && desired.discount_amount !== null ? desired : null
  const currentDiscount = current.discount_type && current.discount_amount !== null ? current : null
  const noDiscount = (value: { discount_amount: string | null } | null) =>
    value === null || decimal(value.discount_amount ?? '0').eq(0)
  if (!(noDiscount(desiredDiscount) && noDiscount(currentDiscount))) {
    if (desiredDiscount?.discount_type !== currentDiscount?.discount_type) fields.push('discount_type')
    if (!sameAmount(desiredDiscount?.discount_amount, currentDiscount?.discount_amount)) fields.push('discount_amount')
  }
  return fields
}

function comparePlanIds(a: RechargePlan, b: RechargePlan): number {
  return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

function diffPlans(desired: readonly DesiredPlan[], current: readonly RechargePlan[]) {
  const planCreates: DesiredPlan[] = []
  const planUpdates: PlanUpdate[] = []
  const planDeletes: PlanDelete[] = []
  const live = current.filter((plan) => !plan.deleted_at)
  const byKey = new Map<string, RechargePlan[]>()
  for (const plan of [...live].sort(comparePlanIds)) {
    const key = keyOf(plan)
    byKey.set(key, [...(byKey.get(key) ?? []), plan])
  }
  const wanted = new Set(desired.map((plan) => plan.key))
  for (const plan of desired) {
    const [keep, ...duplicates] = byKey.get(plan.key) ?? []
    for (const duplicate of duplicates) planDeletes.push({ id: duplicate.id, key: plan.key, reason: 'duplicate' })
    if (!keep) {
      planCreates.push(plan)
      continue
    }
    const fields = planFieldChanges(plan.body, keep)
    if (fields.length > 0) {
      const {
        external_product_id: _product,
        subscription_preferences: _preferences,
        type: _type,
        ...changes
      } = plan.body
      planUpdates.push({ id: keep.id, key: plan.key, body: { id: keep.id, ...changes }, fields })
    }
  }
  for (const [key, plans] of byKey) {
    if (wanted.has(key)) continue
    for (const plan of plans) planDeletes.push({ id: plan.id, key, reason: 'not in feed' })
  }
  return { planCreates, planUpdates, planDeletes }
}

export function diffCatalog(
  desired: readonly DesiredProduct[],
  current: CurrentState,
  options: DiffOptions = {},
): SyncPlan {
  const changes: ProductChange[] = []
  const deletes: ProductChange[] = []
  let unchanged = 0
  const listed = new Set<string>()
  for (const product of desired) {
    listed.add(product.external_product_id)
    const existing = current.products.get(product.external_product_id)
    const plans = diffPlans(product.plans, existing ? (current.plans.get(product.external_product_id) ?? []) : [])
    const fields = existing ? productFieldChanges(product.body, existing) : []
    const action = !existing ? 'create' : fields.length > 0 ? 'update' : 'keep'
    const change: ProductChange = {
      external_product_id: product.external_product_id,
      product: action,
      fields,
      body: action === 'keep' ? null : product.body,
      ...plans,
    }
    if (action === 'keep' && plans.planCreates.length + plans.planUpdates.length + plans.planDeletes.length === 0) {
      unchanged += 1
    } else {
      changes.push(change)
    }
  }
  if (options.deleteMissing ?? true) {
    for (const id of [...current.products.keys()].sort()) {
      if (listed.has(id)) continue
      const planDeletes = (current.plans.get(id) ?? [])
        .filter((plan) => !plan.deleted_at)
        .map((plan) => ({ id: plan.id, key: keyOf(plan), reason: 'not in feed' as const }))
      deletes.push({
        external_product_id: id,
        product: 'delete',
        fields: [],
        body: null,
        planCreates: [],
        planUpdates: [],
        planDeletes,
      })
    }
  }
  const all = [...changes, ...deletes]
  const count = (pick: (change: ProductChange) => number) => all.reduce((sum, change) => sum + pick(change), 0)
  return {
    changes: all,
    unchanged,
    totals: {
      productCreates: count((c) => (c.product === 'create' ? 1 : 0)),
      productUpdates: count((c) => (c.product === 'update' ? 1 : 0)),
      productDeletes: count((c) => (c.product === 'delete' ? 1 : 0)),
      planCreates: count((c) => c.planCreates.length),
      planUpdates: count((c) => c.planUpdates.length),
      planDeletes: count((c) => c.planDeletes.length),
    },
  }
}
