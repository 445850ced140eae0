/** Every Recharge-API request the simulator received, for tests to assert on (never the access token). */
export interface LedgerEntry {
  method: string
  path: string
  query: Record<string, string>
  /** null while the request is in flight, or when a `hang` fault swallowed it. */
  status: number | null
  at: string
  idempotencyKey?: string
}

export interface LedgerFilter {
  method?: string
  /** Exact path, or a prefix when it ends with `*`. */
  path?: string
  status?: number
}

const MAX_ENTRIES = 50_000

export class Ledger {
  #entries: LedgerEntry[] = []

  record(entry: LedgerEntry): LedgerEntry {
    if (this.#entries.length >= MAX_ENTRIES) this.#entries.splice(0, MAX_ENTRIES / 10)
    this.#entries.push(entry)
    return entry
  }

  list(filter: LedgerFilter = {}): LedgerEntry[] {
    return this.#entries.filter((entry) => matches(entry, filter))
  }

  clear(): void {
    this.#entries = []
  }
}

function matches(entry: LedgerEntry, filter: LedgerFilter): boolean {
  if (filter.method && entry.method !== filter.method.toUpperCase()) return false
  if (filter.status !== undefined && entry.status !== filter.status) return false
  if (filter.path) {
    if (filter.path.endsWith('*')) return entry.path.startsWith(filter.path.slice(0, -1))
    return entry.path === filter.path
  }
  return true
}
