/**
 * Fault injection rules (`POST /__sim/faults`). A rule matches by method and path (a prefix, or a regular
 * expression when the string starts with `^`) and then, in this order:
 * - `latencyMs`: waits before doing anything else;
 * - `gate`: holds the request at the named gate until `POST /__sim/gates/{name}/open` (tests set up races with it
 *   instead of delays; `GET /__sim/gates` shows how many requests each gate holds), then goes on;
 * - `hang`: never answers (the request is not processed);
 * - `status`: answers with that status and a Recharge-shaped error body (the request is not processed);
 * - `malformed` / `truncate` / `huge`: the request IS processed, then its response body is corrupted
 *   (invalid JSON / cut short with the full Content-Length / padded to `hugeBytes`).
 * `count` limits how many requests the rule hits (default: until cleared).
 */
export interface FaultRule {
  match?: { method?: string; path?: string }
  status?: number
  body?: unknown
  headers?: Record<string, string>
  latencyMs?: number
  gate?: string
  hang?: boolean
  malformed?: boolean
  truncate?: boolean
  huge?: boolean
  hugeBytes?: number
  count?: number
}

interface ActiveRule {
  rule: FaultRule
  pathTest: (path: string) => boolean
  remaining: number
}

export class FaultRules {
  #rules: ActiveRule[] = []

  set(rules: FaultRule[]): void {
    this.#rules = rules.map((rule) => ({
      rule,
      pathTest: pathMatcher(rule.match?.path),
      remaining: rule.count ?? Number.POSITIVE_INFINITY,
    }))
  }

  clear(): void {
    this.#rules = []
  }

  list(): (FaultRule & { remaining: number | null })[] {
    return this.#rules.map(({ rule, remaining }) => ({
      ...rule,
      remaining: Number.isFinite(remaining) ? remaining : null,
    }))
  }

  get empty(): boolean {
    return this.#rules.length === 0
  }

  /** The first rule matching this request, consuming one of its `count`. */
  take(method: string, path: string): FaultRule | null {
    for (let index = 0; index < this.#rules.length; index += 1) {
      const active = this.#rules[index] as ActiveRule
      const wanted = active.rule.match?.method
      if (wanted && wanted.toUpperCase() !== method) continue
      if (!active.pathTest(path)) continue
      active.remaining -= 1
      if (active.remaining <= 0) this.#rules.splice(index, 1)
      return active.rule
    }
    return null
  }
}

/**
 * Named gates for `gate` rules: a request waits at its gate until the gate is opened. An open gate lets every
 * later request through until the gates are cleared (fault rules replaced or cleared, or a reset), which also
 * releases whatever a gate still holds, so nothing waits forever.
 */
export class FaultGates {
  #gates = new Map<string, { open: boolean; held: Set<() => void> }>()

  #gate(name: string) {
    let gate = this.#gates.get(name)
    if (!gate) {
      gate = { open: false, held: new Set() }
      this.#gates.set(name, gate)
    }
    return gate
  }

  wait(name: string): Promise<void> {
    const gate = this.#gate(name)
    if (gate.open) return Promise.resolve()
    return new Promise((resolve) => {
      const release = () => {
        gate.held.delete(release)
        resolve()
      }
      gate.held.add(release)
    })
  }

  /** Opens the gate; answers how many held requests it released. */
  open(name: string): number {
    const gate = this.#gate(name)
    gate.open = true
    const held = [...gate.held]
    for (const release of held) release()
    return held.length
  }

  list(): { name: string; open: boolean; held: number }[] {
    return [...this.#gates].map(([name, gate]) => ({ name, open: gate.open, held: gate.held.size }))
  }

  clear(): void {
    for (const name of this.#gates.keys()) this.open(name)
    this.#gates.clear()
  }
}

export function validateRules(input: unknown): FaultRule[] | string {
  const rules = (input as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules)) return 'body must be {"rules": [...]}'
  for (const rule of rules) {
    if (!rule || typeof rule !== 'object') return 'each rule must be an object'
    const { status, path } = { status: (rule as FaultRule).status, path: (rule as FaultRule).match?.path }
    if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599))
      return `invalid status ${status}`
    const gate = (rule as FaultRule).gate
    if (gate !== undefined && (typeof gate !== 'string' || !/^[\w-]{1,64}$/.test(gate)))
      return `invalid gate ${String(gate)}: letters, digits, _ or -, at most 64`
    if (path?.startsWith('^')) {
      try {
        new RegExp(path)
      } catch {
        return `invalid path regex ${path}`
      }
    }
  }
  return rules as FaultRule[]
}

export function defaultFaultBody(status: number): unknown {
  if (status === 429) return { errors: 'Too Many Requests' }
  if (status === 409) return { error: 'A call to this route is already in progress.' }
  if (status === 404) return { errors: 'Not Found' }
  if (status === 422) return { errors: { _schema: ['Simulated validation failure.'] } }
  if (status === 503) return { errors: 'A third party service on which the request depends has timed out.' }
  if (status >= 500) return { errors: 'Internal server error' }
  return { errors: `Simulated ${status}` }
}

function pathMatcher(path: string | undefined): (candidate: string) => boolean {
  if (!path) return () => true
  if (path.startsWith('^')) {
    const pattern = new RegExp(path)
    return (candidate) => pattern.test(candidate)
  }
  return (candidate) => candidate.startsWith(path)
}
