import { fieldError, SimError } from './errors.ts'

/**
 * 2021-11 cursor pagination: `limit` 1–250 (default 50), opaque base64url cursors that carry the sort and the
 * filters of the first request, `next_cursor`/`previous_cursor` null at the ends, and 422 when a cursor comes with
 * any parameter other than `limit`.
 */
export interface ListQuery {
  limit: number
  sortBy: string
  filters: Record<string, string>
  after?: Keyset
  before?: Keyset
}

interface Keyset {
  value: string | number
  id: number
}

interface CursorPayload {
  starting_after_id?: number
  starting_before_id?: number
  last_value: string | number
  sort_by: string
  cursor_dir: 'next' | 'prev'
  filters: Record<string, string>
}

/** Parameters that are not filters: allowed next to a cursor. `include` is accepted and ignored (not implemented). */
const PAGINATION_PARAMS = new Set(['limit', 'cursor', 'page', 'include'])

export function parseListQuery(
  raw: Record<string, unknown>,
  options: { defaultSort: string; sorts: readonly string[] },
): ListQuery {
  const query: Record<string, string> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string') query[key] = value
    else if (Array.isArray(value) && typeof value[0] === 'string') query[key] = value[0]
  }

  let limit = 50
  if (query.limit !== undefined) {
    const parsed = Number(query.limit)
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > 250) {
      throw fieldError('limit', 'Must be greater than or equal to 1 and less than or equal to 250.')
    }
    limit = parsed
  }

  if (query.cursor !== undefined) {
    const extra = Object.keys(query).filter((key) => !PAGINATION_PARAMS.has(key))
    if (extra.length > 0) {
      throw new SimError(422, {
        errors: { cursor: [`Cursor can not be combined with other parameters: ${extra.sort().join(', ')}`] },
      })
    }
    const payload = decodeCursor(query.cursor)
    const keyset = {
      value: payload.last_value,
      id: (payload.starting_after_id ?? payload.starting_before_id) as number,
    }
    return {
      limit,
      sortBy: payload.sort_by,
      filters: payload.filters,
      ...(payload.cursor_dir === 'next' ? { after: keyset } : { before: keyset }),
    }
  }

  const sortBy = query.sort_by ?? options.defaultSort
  if (!options.sorts.includes(sortBy)) {
    throw fieldError('sort_by', `Must be one of: ${options.sorts.join(', ')}.`)
  }
  const filters: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) {
    if (!PAGINATION_PARAMS.has(key) && key !== 'sort_by') filters[key] = value
  }
  return { limit, sortBy, filters }
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
  previous_cursor: string | null
}

/**
 * Sorts `records` by the query's sort (with id as tie-break) and cuts the page the cursor asks for. Each record's
 * sort key is computed once per request, not once per comparison: a seeded store pages tens of thousands of them.
 */
export function paginate<T extends { id: number }>(
  records: readonly T[],
  query: ListQuery,
  sortValue: (record: T, field: string) => string | number,
): Page<T> {
  const [field = 'id', direction = 'desc'] = query.sortBy.split(/-(?=asc$|desc$)/)
  const sign = direction === 'asc' ? 1 : -1
  const compare = (a: Keyset, b: Keyset) => {
    if (a.value < b.value) return -sign
    if (a.value > b.value) return sign
    return (a.id - b.id) * sign
  }
  const sorted: (Keyset & { record: T })[] = records.map((record) => ({
    value: field === 'id' ? record.id : sortValue(record, field),
    id: record.id,
    record,
  }))
  // Records come in creation order, which is id order: an id sort is then a check, or a reversal.
  if (!inOrder(sorted, compare)) {
    if (field === 'id' && inOrder(sorted, (a, b) => -compare(a, b))) sorted.reverse()
    else sorted.sort(compare)
  }

  let start = 0
  let end = sorted.length
  if (query.after) {
    const after = query.after
    start = firstIndex(sorted, (key) => compare(key, after) > 0)
    end = Math.min(sorted.length, start + query.limit)
  } else if (query.before) {
    const before = query.before
    end = firstIndex(sorted, (key) => compare(key, before) >= 0)
    start = Math.max(0, end - query.limit)
  } else {
    end = Math.min(sorted.length, query.limit)
  }

  const keys = sorted.slice(start, end)
  const first = keys[0]
  const last = keys[keys.length - 1]
  return {
    items: keys.map((key) => key.record),
    next_cursor: last && end < sorted.length ? encodeCursor('next', last, query) : null,
    previous_cursor: first && start > 0 ? encodeCursor('prev', first, query) : null,
  }
}

function inOrder<K>(keys: readonly K[], compare: (a: K, b: K) => number): boolean {
  for (let index = 1; index < keys.length; index += 1) {
    if (compare(keys[index - 1] as K, keys[index] as K) > 0) return false
  }
  return true
}

/** The first index whose key passes `past` (the keys are sorted, so it is a binary search), or the length. */
function firstIndex<K>(sorted: readonly K[], past: (key: K) => boolean): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (past(sorted[middle] as K)) high = middle
    else low = middle + 1
  }
  return low
}

function encodeCursor(direction: 'next' | 'prev', at: Keyset, query: ListQuery): string {
  const payload: CursorPayload = {
    ...(direction === 'next' ? { starting_after_id: at.id } : { starting_before_id: at.id }),
    last_value: at.value,
    sort_by: query.sortBy,
    cursor_dir: direction,
    filters: query.filters,
  }
  return Buffer.from(JSON.stringify(payload)).toString('base64url')
}

function decodeCursor(cursor: string): CursorPayload {
  try {
    const payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorPayload>
    const id = payload.starting_after_id ?? payload.starting_before_id
    if (
      typeof id === 'number' &&
      (payload.cursor_dir === 'next' || payload.cursor_dir === 'prev') &&
      typeof payload.sort_by === 'string' &&
      (typeof payload.last_value === 'number' || typeof payload.last_value === 'string') &&
      typeof payload.filters === 'object' &&
      payload.filters !== null
    ) {
      return payload as CursorPayload
    }
  } catch {
    // fall through to the 422 below
  }
  throw fieldError('cursor', 'Invalid value')
}
