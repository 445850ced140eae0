import { z } from 'zod'
import {
  type PlanUpdateBody,
  type PlanWriteBody,
  planBulkEnvelope,
  planEnvelope,
  planListEnvelope,
  type RechargePlan,
  type RechargePlanPage,
} from '../schemas/plans.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'
import { MAX_PAGE_SIZE } from './products.ts'

const bulkPath = (externalProductId: string) => `/products/${encodeURIComponent(externalProductId)}/plans-bulk`

/** Recharge 2021-11 `/plans` and the per-product bulk endpoints `/products/{external_product_id}/plans-bulk`. */
export function plansResource(transport: RechargeTransport) {
  return {
    /** One page. Filters (external_product_id) go on the first page only: Recharge rejects filters with a cursor. */
    list(
      page: { cursor?: string | null; limit?: number; externalProductId?: string } = {},
      options?: CallOptions,
    ): Promise<RechargePlanPage> {
      const limit = page.limit ?? MAX_PAGE_SIZE
      const query = page.cursor
        ? { cursor: page.cursor, limit }
        : { limit, ...(page.externalProductId ? { external_product_id: page.externalProductId } : {}) }
      return transport.send({ method: 'GET', path: '/plans', query, schema: planListEnvelope }, options)
    },

    /** Every plan (optionally of one product), page by page at the largest page size. */
    async *listAll(filter: { externalProductId?: string } = {}, options?: CallOptions): AsyncGenerator<RechargePlan[]> {
      let cursor: string | null = null
      do {
        const page: RechargePlanPage = await this.list({ ...filter, cursor, limit: MAX_PAGE_SIZE }, options)
        yield page.plans
        cursor = page.next_cursor
      } while (cursor)
    },

    /** Every plan of one product, collected. */
    async forProduct(externalProductId: string, options?: CallOptions): Promise<RechargePlan[]> {
      const plans: RechargePlan[] = []
      for await (const page of this.listAll({ externalProductId }, options)) plans.push(...page)
      return plans
    },

    create(body: PlanWriteBody, options?: CallOptions): Promise<RechargePlan> {
      return transport.send({ method: 'POST', path: '/plans', body, schema: planEnvelope }, options)
    },

    update(planId: string, body: Partial<PlanWriteBody>, options?: CallOptions): Promise<RechargePlan> {
      return transport.send(
        { method: 'PUT', path: `/plans/${encodeURIComponent(planId)}`, body, schema: planEnvelope },
        options,
      )
    },

    async delete(planId: string, options?: CallOptions): Promise<void> {
      await transport.send(
        { method: 'DELETE', path: `/plans/${encodeURIComponent(planId)}`, schema: z.unknown() },
        options,
      )
    },

    /** Create several plans of one product in one call. */
    bulkCreate(externalProductId: string, plans: PlanWriteBody[], options?: CallOptions): Promise<RechargePlan[]> {
      return transport.send(
        { method: 'POST', path: bulkPath(externalProductId), body: { plans }, schema: planBulkEnvelope },
        options,
      )
    },

    /** Update several plans of one product in one call (each entry carries its `id`). */
    bulkUpdate(externalProductId: string, plans: PlanUpdateBody[], options?: CallOptions): Promise<RechargePlan[]> {
      return transport.send(
        { method: 'PUT', path: bulkPath(externalProductId), body: { plans }, schema: planBulkEnvelope },
        options,
      )
    },

    /** Delete several plans of one product in one call. */
    async bulkDelete(externalProductId: string, planIds: string[], options?: CallOptions): Promise<void> {
      await transport.send(
        {
          method: 'DELETE',
          path: bulkPath(externalProductId),
          body: { plans: planIds.map((planId) => ({ id: planId })) },
          schema: z.unknown(),
        },
        options,
      )
    },
  }
}

export type PlansResource = ReturnType<typeof plansResource>
