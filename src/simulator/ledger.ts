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

/** The list keeps the newest entries only (a long load test would otherwise grow it without bound). */
export const MAX_LEDGER_ENTRIES = 50_000

export class Ledger {
  #entries: LedgerEntry[] = []
  #recorded = 0

  record(entry: LedgerEntry): LedgerEntry {
    if (this.#entries.length >= MAX_LEDGER_ENTRIES) this.#entries.splice(0, MAX_LEDGER_ENTRIES / 10)
    this.#entries.push(entry)
    this.#recorded++
    return entry
  }

  /** Requests recorded since the last clear, including those the list no longer keeps (load tests count with it). */
  get recorded(): number {
    return this.#recorded
  }

  list(filter: LedgerFilter = {}): LedgerEntry[] {
    return this.#entries.filter((entry) => matches(entry, filter))
  }

  clear(): void {
    this.#entries = []
    this.#recorded = 0
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
