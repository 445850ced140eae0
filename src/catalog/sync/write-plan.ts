import { asyncBatchMaxTasksPerBatch, asyncBatchMaxTasksPerRequest } from '../../recharge/schemas/async-batches.ts'
import type { ProductChange, SyncPlan } from '../diff.ts'
import { FeedInvalidError } from './feed-invalid.ts'
import type { PlannedChange, PlanStrategy } from './types.ts'

/** How a sync's diff becomes write calls: plans-bulk or async batches per kind, their count, and the delete guards. */

/** Below this many products with plan changes of one kind, per-product plans-bulk calls are cheaper than a batch. */
export const BATCH_MIN_PRODUCTS = 8

/**
 * A feed that would delete more than this share of the store's products (and more than MASS_DELETE_MIN of them) is
 * refused unless the caller allows it: a truncated export must not wipe a catalog.
 */
export const MASS_DELETE_SHARE = 0.25
export const MASS_DELETE_MIN = 10

/** Plans per plans-bulk request (the simulator enforces Recharge's cap of 20). */
export const MAX_PLANS_PER_BULK = 20

export function chunks<T>(items: readonly T[], size = MAX_PLANS_PER_BULK): T[][] {
  const out: T[][] = []
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size))
  return out
}

function bulkCalls(changes: readonly ProductChange[], pick: (change: ProductChange) => readonly unknown[]): number {
  return changes.reduce((sum, change) => sum + Math.ceil(pick(change).length / MAX_PLANS_PER_BULK), 0)
}

export function plannedChanges(plan: SyncPlan): PlannedChange[] {
  return plan.changes.slice(0, 1000).map((change) => ({
    external_product_id: change.external_product_id,
    product: change.product,
    fields: change.fields,
    plans: {
      create: change.planCreates.map((p) => p.key),
      update: change.planUpdates.map((p) => ({ key: p.key, fields: p.fields })),
      delete: change.planDeletes.map((p) => ({ key: p.key, reason: p.reason })),
    },
  }))
}

export type Mode = 'bulk' | 'batch' | 'none'

export function chooseMode(strategy: PlanStrategy, products: number): Mode {
  if (products === 0) return 'none'
  if (strategy === 'bulk' || strategy === 'batch') return strategy
  return products >= BATCH_MIN_PRODUCTS ? 'batch' : 'bulk'
}

function batchCalls(tasks: number): number {
  if (tasks === 0) return 0
  const batches = Math.ceil(tasks / asyncBatchMaxTasksPerBatch)
  return batches * 2 + Math.ceil(tasks / asyncBatchMaxTasksPerRequest)
}

export interface PlanModes {
  planCreates: Mode
  planUpdates: Mode
  planDeletes: Mode
}

export function chooseModes(strategy: PlanStrategy, plan: SyncPlan): PlanModes {
  return {
    planCreates: chooseMode(strategy, plan.changes.filter((c) => c.planCreates.length > 0).length),
    planUpdates: chooseMode(strategy, plan.changes.filter((c) => c.planUpdates.length > 0).length),
    planDeletes: chooseMode(strategy, plan.changes.filter((c) => c.planDeletes.length > 0).length),
  }
}

/** Write calls the plan will take in these modes (the progress bar's total and ETA). */
export function plannedWrites(plan: SyncPlan, modes: PlanModes): number {
  const productWrites = plan.totals.productCreates + plan.totals.productUpdates + plan.totals.productDeletes
  return (
    productWrites +
    (modes.planCreates === 'bulk'
      ? bulkCalls(plan.changes, (c) => c.planCreates)
      : batchCalls(bulkCalls(plan.changes, (c) => c.planCreates))) +
    (modes.planUpdates === 'bulk'
      ? bulkCalls(plan.changes, (c) => c.planUpdates)
      : batchCalls(bulkCalls(plan.changes, (c) => c.planUpdates))) +
    (modes.planDeletes === 'bulk'
      ? bulkCalls(plan.changes, (c) => c.planDeletes)
      : batchCalls(bulkCalls(plan.changes, (c) => c.planDeletes)))
  )
}

/**
 * Refuse a plan that deletes products the caller did not agree to lose: any delete when deletes are not allowed (the
 * CLI asks for --yes), or a mass delete (a truncated export must not wipe a catalog).
 */
export function refuseDeletes(
  plan: SyncPlan,
  storeProducts: number,
  options: { allowDeletes?: boolean | undefined; allowMassDelete?: boolean | undefined },
): void {
  const deletes = plan.totals.productDeletes
  if (options.allowDeletes === false && deletes > 0) {
    const doomed = plan.changes
      .filter((change) => change.product === 'delete')
      .map((change) => change.external_product_id)
    throw new FeedInvalidError([
      {
        index: null,
        external_product_id: null,
        path: 'products',
        message: `would delete ${deletes} of the ${storeProducts} products in Recharge (${doomed.slice(0, 10).join(', ')}${doomed.length > 10 ? ', …' : ''}) because the feed does not list them; confirm with --yes (or --allow-deletes), keep them with --no-delete, or see the plan with --dry-run`,
      },
    ])
  }
  if (!options.allowMassDelete && deletes > MASS_DELETE_MIN && deletes > storeProducts * MASS_DELETE_SHARE) {
    throw new FeedInvalidError([
      {
        index: null,
        external_product_id: null,
        path: 'products',
        message: `would delete ${deletes} of the ${storeProducts} products in Recharge; if that is intended, allow mass deletes (CLI --allow-mass-delete, API "allow_mass_delete": true), or keep them with delete_missing=false`,
      },
    ])
  }
}
