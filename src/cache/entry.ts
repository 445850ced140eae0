/**
 * One cached answer. The same shape lives in L1 (as an object) and in L2 (as the envelope below). Times are epoch
 * milliseconds so every replica reads them the same way.
 */
export interface Entry {
  /** The value as JSON, serialised once when stored. Empty for a negative (NotFound) entry. */
  readonly json: string
  readonly negative: boolean
  readonly storedAt: number
  /** Until then: served as a HIT. */
  readonly freshUntil: number
  /** Until then: served at once as STALE while one background refresh runs (stale-while-revalidate). */
  readonly revalidateUntil: number
  /** Until then: served as STALE when the origin fails, times out or the queue rejects (stale-if-error). */
  readonly staleUntil: number
  readonly tags: readonly string[]
}

/** Bump when the envelope changes: the key prefix carries it, so a deploy never reads the old shape. */
export const ENVELOPE_VERSION = 1

interface EnvelopeHeader {
  v: number
  storedAt: number
  freshUntil: number
  revalidateUntil: number
  staleUntil: number
  negative?: true
  tags?: readonly string[]
}

/**
 * L2 wire form: a one-line JSON header `{v, storedAt, freshUntil, revalidateUntil, staleUntil, tags}`, a newline, then
 * the body JSON as is. Keeping the body out of the header's JSON means an L2 hit parses a few dozen bytes instead of
 * re-parsing (and un-escaping) the whole body; JSON.stringify output never contains a raw newline.
 */
export function encodeEnvelope(entry: Entry): string {
  const header: EnvelopeHeader = {
    v: ENVELOPE_VERSION,
    storedAt: entry.storedAt,
    freshUntil: entry.freshUntil,
    revalidateUntil: entry.revalidateUntil,
    staleUntil: entry.staleUntil,
    ...(entry.negative ? { negative: true as const } : {}),
    ...(entry.tags.length > 0 ? { tags: entry.tags } : {}),
  }
  return `${JSON.stringify(header)}\n${entry.json}`
}

/** The entry, or undefined when the text is not an envelope of this version (treated as a miss, never an error). */
export function decodeEnvelope(text: string): Entry | undefined {
  const newline = text.indexOf('\n')
  if (newline < 0) return undefined
  let header: EnvelopeHeader
  try {
    header = JSON.parse(text.slice(0, newline)) as EnvelopeHeader
  } catch {
    return undefined
  }
  if (header?.v !== ENVELOPE_VERSION || typeof header.storedAt !== 'number' || typeof header.staleUntil !== 'number') {
    return undefined
  }
  return {
    json: text.slice(newline + 1),
    negative: header.negative === true,
    storedAt: header.storedAt,
    freshUntil: header.freshUntil,
    revalidateUntil: header.revalidateUntil,
    staleUntil: header.staleUntil,
    tags: Array.isArray(header.tags) ? header.tags : [],
  }
}
