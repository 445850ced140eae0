import { z } from 'zod'
import { compiled } from './schemas/compiled.ts'
import type { CallOptions, QueryValue, RechargeTransport } from './types.ts'

/**
 * Cursor pagination (2021-11): list bodies carry `next_cursor` / `previous_cursor` (null, absent or "" at the ends).
 * A follow-up page must send ONLY `cursor` and `limit`: Recharge answers 422 when any filter comes with a cursor
 * (the cursor already encodes the filters and sort).
 */

export interface Page<T> {
  items: T[]
  nextCursor: string | null
  previousCursor: string | null
  /** Rows left out of `items` (pages built with `unusableRows: 'skip'`): where, and which fields failed (no values). */
  unusable?: UnusableRow[]
}

export interface UnusableRow {
  index: number
  issues: { path: string; code: string }[]
}

export interface PageSchemaOptions {
  /**
   * What a row whose read fields cannot be used does to its page. 'fail' (the default): the whole page fails, for
   * lists whose consumer would act wrongly on a partial list (catalog sync, webhook reconciliation, counts a policy
   * relies on). 'skip': the row is left out and reported in `unusable` (the transport logs and counts it), for lists
   * whose consumer only shows rows or allows actions on the rows it holds, so a missing row withholds, never permits.
   */
  unusableRows?: 'fail' | 'skip'
}

/** Recharge's maximum page size; the default is 50. */
export const MAX_PAGE_SIZE = 250

const cursor = z
  .string()
  .nullish()
  .transform((value) => (value ? value : null))

/** The schema of a list body whose rows sit under `key` (`{"subscriptions": [...], "next_cursor": ...}`). */
export function pageSchema<S extends z.ZodType>(
  key: string,
  item: S,
  options: PageSchemaOptions = {},
): z.ZodType<Page<z.output<S>>> {
  if (options.unusableRows === 'skip') return skippingPageSchema(key, item)
  return z.object({ [key]: z.array(item), next_cursor: cursor, previous_cursor: cursor }).transform((body) => ({
    items: body[key] as z.output<S>[],
    nextCursor: body.next_cursor as string | null,
    previousCursor: body.previous_cursor as string | null,
  })) as unknown as z.ZodType<Page<z.output<S>>>
}

/** Each row parsed on its own: one unusable row is left out (and reported), the rest of the page is served. */
function skippingPageSchema<S extends z.ZodType>(key: string, item: S): z.ZodType<Page<z.output<S>>> {
  return z.object({ [key]: z.array(z.unknown()), next_cursor: cursor, previous_cursor: cursor }).transform((body) => {
    const rowSchema = compiled(item)
    const items: z.output<S>[] = []
    const unusable: UnusableRow[] = []
    ;(body[key] as unknown[]).forEach((row, index) => {
      const parsed = rowSchema.safeParse(row)
      if (parsed.success) items.push(parsed.data as z.output<S>)
      else {
        // Paths and issue codes only: never the values (customer data).
        const issues = parsed.error.issues
          .slice(0, 10)
          .map((issue) => ({ path: issue.path.join('.'), code: issue.code }))
        unusable.push({ index, issues })
      }
    })
    return {
      items,
      nextCursor: body.next_cursor as string | null,
      previousCursor: body.previous_cursor as string | null,
      ...(unusable.length > 0 ? { unusable } : {}),
    }
  }) as unknown as z.ZodType<Page<z.output<S>>>
}

export interface PageRequest {
  /** Opaque cursor from a previous page; when set, filters are not sent. */
  cursor?: string | undefined
  /** 1..250 (Recharge default 50). */
  limit?: number | undefined
}

/** The query of one page: filters on the first page, only cursor + limit after. */
export function pageQuery(filters: Record<string, QueryValue>, page: PageRequest = {}): Record<string, QueryValue> {
  const limit = page.limit === undefined ? undefined : Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(page.limit)))
  if (page.cursor) return { cursor: page.cursor, limit }
  return { ...filters, limit }
}

/**
 * Every row of a list, page by page (`for await (const rows of paginate(...))`). Stops at the last page or after
 * `maxPages`. Each page is one queued call with the given options (use the background lane for bulk reads).
 */
export async function* paginate<T>(
  transport: RechargeTransport,
  request: { path: string; filters?: Record<string, QueryValue>; schema: z.ZodType<Page<T>> },
  options: CallOptions & { limit?: number; maxPages?: number } = {},
): AsyncGenerator<T[], void, undefined> {
  const { limit = MAX_PAGE_SIZE, maxPages = Number.POSITIVE_INFINITY, ...callOptions } = options
  let next: string | null = null
  for (let pages = 0; pages < maxPages; pages++) {
    const page: Page<T> = await transport.send(
      {
        method: 'GET',
        path: request.path,
        query: pageQuery(request.filters ?? {}, { cursor: next ?? undefined, limit }),
        schema: request.schema,
      },
      callOptions,
    )
    yield page.items
    next = page.nextCursor
    if (!next || page.items.length === 0) return
  }
}
