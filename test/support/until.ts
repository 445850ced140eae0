import { setTimeout as sleep } from 'node:timers/promises'
import type { Registry } from 'prom-client'

/**
 * Wait until `condition` holds, polling every 20 ms; fails after `timeoutMs`. The one polling helper of the suite: the
 * timeout is a generous bound for a shared, busy machine, never an assertion about speed.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`)
    await sleep(20)
  }
}

/** The total of a counter over all its label sets, read through prom-client's public `get()`. */
export async function metricTotal(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) return 0
  const { values } = await metric.get()
  return values.reduce((sum, entry) => sum + entry.value, 0)
}
