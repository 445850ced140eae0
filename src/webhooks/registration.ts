import type { WebhooksResource } from '../recharge/resources/webhooks.ts'
import type { Webhook } from '../recharge/schemas/webhooks.ts'
import { NEEDED_TOPICS } from './topics.ts'

/** Path of the intake route; each topic is registered at `<PUBLIC_URL>/v1/webhooks/recharge?topic=<topic>`. */
export const INTAKE_PATH = '/v1/webhooks/recharge'

export function intakeBase(publicUrl: string): string {
  return `${publicUrl.replace(/\/$/, '')}${INTAKE_PATH}`
}

export function webhookAddress(publicUrl: string, topic: string): string {
  return `${intakeBase(publicUrl)}?topic=${topic}`
}

export interface RegistrationPlan {
  /** Needed topics with no webhook at our address. */
  missing: string[]
  /** One webhook per needed topic at our address. */
  kept: Webhook[]
  /** Ours (our intake base) but redundant: a second webhook for a topic, or a topic/address we no longer use. */
  prunable: Webhook[]
  /** Webhooks at other addresses (other environments, other apps): never touched. */
  foreign: Webhook[]
}

/**
 * Addresses are compared parsed, not as strings: Recharge may normalise a URL it stores (encode the `/` of the topic,
 * add a trailing slash), and a string comparison would then re-create the webhook on every check.
 */
function parseAddress(address: string): { endpoint: string; topic: string | null } | null {
  try {
    const url = new URL(address)
    return { endpoint: `${url.origin}${url.pathname.replace(/\/$/, '')}`, topic: url.searchParams.get('topic') }
  } catch {
    return null
  }
}

/** Compare what Recharge has with what we need. Pure: the CLI, the admin route and the watchdog share it. */
export function planRegistration(
  existing: readonly Webhook[],
  publicUrl: string,
  topics: readonly string[] = NEEDED_TOPICS,
): RegistrationPlan {
  const endpoint = parseAddress(intakeBase(publicUrl))?.endpoint
  const kept = new Map<string, Webhook>()
  const prunable: Webhook[] = []
  const foreign: Webhook[] = []
  for (const webhook of existing) {
    const parsed = parseAddress(webhook.address)
    if (!parsed || parsed.endpoint !== endpoint) {
      foreign.push(webhook)
      continue
    }
    const wanted = topics.includes(webhook.topic) && parsed.topic === webhook.topic
    if (wanted && !kept.has(webhook.topic)) kept.set(webhook.topic, webhook)
    else prunable.push(webhook)
  }
  const missing = topics.filter((topic) => !kept.has(topic))
  return { missing, kept: [...kept.values()], prunable, foreign }
}

export interface RegistrationResult {
  created: string[]
  failed: { topic: string; error: string }[]
  pruned: string[]
  plan: RegistrationPlan
}

/**
 * Create the missing webhooks (and, with `prune`, delete our redundant ones). Creates run one at a time on the
 * background lane: registration is not urgent and must not eat the shoppers' rate-limit budget.
 */
export async function reconcileWebhooks(
  webhooks: WebhooksResource,
  publicUrl: string,
  options: { prune?: boolean; topics?: readonly string[]; signal?: AbortSignal } = {},
): Promise<RegistrationResult> {
  const callOptions = options.signal ? { signal: options.signal } : undefined
  const plan = planRegistration(await webhooks.list(callOptions), publicUrl, options.topics)
  const created: string[] = []
  let failed: { topic: string; error: string }[] = []
  for (const topic of plan.missing) {
    if (options.signal?.aborted) break
    try {
      await webhooks.create({ address: webhookAddress(publicUrl, topic), topic })
      created.push(topic)
    } catch (error) {
      // A token without the topic family's read scope is refused per topic; the others still register.
      failed.push({ topic, error: error instanceof Error ? error.message : String(error) })
    }
  }
  if (failed.length > 0 && !options.signal?.aborted) {
    // Someone registering at the same moment (another replica's first start, the CLI) wins the race for a topic, and
    // Recharge refuses our duplicate with a 422: a topic that is there now is registered, whoever created it.
    const now = await webhooks.list(callOptions).catch(() => null)
    if (now) {
      const registered = planRegistration(now, publicUrl, options.topics).kept
      const present = new Set(registered.map((webhook) => webhook.topic))
      failed = failed.filter((failure) => !present.has(failure.topic))
      plan.kept = registered.filter((webhook) => !created.includes(webhook.topic))
    }
  }
  const pruned: string[] = []
  if (options.prune) {
    for (const webhook of plan.prunable) {
      if (options.signal?.aborted) break
      await webhooks.delete(webhook.id)
      pruned.push(webhook.id)
    }
  }
  return { created, failed, pruned, plan }
}
