import { SeededRandom } from '../random.ts'

/**
 * Webhook loss (`POST /__sim/webhooks/faults`): a rule drops a share of the deliveries of the topics it matches, so
 * a consumer's reconciliation can be tested against webhooks that never arrive. The decision is made when the event
 * happens, once per (event, registered webhook): a dropped delivery is never sent nor retried, and the delivery log
 * shows it with `dropped: true`. Draws come from a stream seeded by SIM_SEED and restarted whenever the rules are
 * set, so the same rules over the same sequence of events drop the same deliveries.
 */
export interface WebhookDropRule {
  /** Share of the matching deliveries to drop, 0–1 (1 drops all of them). */
  dropShare: number
  /** Topics it applies to: exact (`subscription/updated`) or a resource's every topic (`charge/*`); default all. */
  topics?: string[]
  /** Drops at most this many deliveries, then the rule goes away (default: until cleared). */
  count?: number
}

interface ActiveDropRule {
  rule: WebhookDropRule
  remaining: number
  matched: number
  dropped: number
}

export class WebhookDropRules {
  readonly #seed: string
  #rules: ActiveDropRule[] = []
  #random: SeededRandom
  #dropped = 0

  constructor(seed: string) {
    this.#seed = seed
    this.#random = new SeededRandom(`${seed}/webhook-drops`)
  }

  set(rules: WebhookDropRule[]): void {
    this.#rules = rules.map((rule) => ({
      rule,
      remaining: rule.count ?? Number.POSITIVE_INFINITY,
      matched: 0,
      dropped: 0,
    }))
    this.#random = new SeededRandom(`${this.#seed}/webhook-drops`)
    this.#dropped = 0
  }

  clear(): void {
    this.set([])
  }

  get empty(): boolean {
    return this.#rules.length === 0
  }

  /** The rules with how many deliveries each has seen and dropped, and the total dropped since they were set. */
  list() {
    return {
      rules: this.#rules.map(({ rule, remaining, matched, dropped }) => ({
        ...rule,
        remaining: Number.isFinite(remaining) ? remaining : null,
        matched,
        dropped,
      })),
      dropped: this.#dropped,
    }
  }

  /** Whether this delivery is lost: the first rule matching the topic decides, and a drop uses up one of its `count`. */
  drops(topic: string): boolean {
    const index = this.#rules.findIndex((active) => topicMatches(active.rule.topics, topic))
    if (index === -1) return false
    const active = this.#rules[index] as ActiveDropRule
    active.matched += 1
    if (this.#random.next() >= active.rule.dropShare) return false
    active.dropped += 1
    this.#dropped += 1
    active.remaining -= 1
    if (active.remaining <= 0) this.#rules.splice(index, 1)
    return true
  }
}

function topicMatches(topics: string[] | undefined, topic: string): boolean {
  if (!topics || topics.length === 0) return true
  return topics.some((pattern) =>
    pattern === '*' ? true : pattern.endsWith('/*') ? topic.startsWith(pattern.slice(0, -1)) : pattern === topic,
  )
}

/** `{"rules": [{dropShare, topics?, count?}]}`, or the reason it is not. */
export function validateDropRules(input: unknown): WebhookDropRule[] | string {
  const rules = (input as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules)) return 'body must be {"rules": [{"dropShare": 0.1, "topics"?: [...], "count"?: n}]}'
  const valid: WebhookDropRule[] = []
  for (const candidate of rules) {
    if (!candidate || typeof candidate !== 'object') return 'each rule must be an object'
    const { dropShare, topics, count } = candidate as Record<string, unknown>
    if (typeof dropShare !== 'number' || !(dropShare >= 0 && dropShare <= 1))
      return `dropShare must be a number from 0 to 1, got ${JSON.stringify(dropShare)}`
    if (topics !== undefined && (!Array.isArray(topics) || !topics.every((topic) => typeof topic === 'string')))
      return 'topics must be a list of topic names ("subscription/updated") or patterns ("charge/*")'
    if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 1))
      return `count must be a whole number of at least 1, got ${JSON.stringify(count)}`
    valid.push({
      dropShare,
      ...(topics === undefined ? {} : { topics: topics as string[] }),
      ...(count === undefined ? {} : { count }),
    })
  }
  return valid
}
