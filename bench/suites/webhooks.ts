/**
 * Webhook acknowledgement latency at a fixed delivery rate (coordinated-omission corrected), against a bare Fastify
 * JSON POST in the same run. Every delivery is a distinct, signed subscription/updated payload (the v1 signature over
 * "<t>.<body>" and the legacy header, as Recharge sends both) to a production bridge process, which verifies it,
 * appends it to the Redis stream and answers; its consumers process in the background meanwhile. Same design as
 * bench/webhooks (which runs the app in-process); here the target is `node dist/server.js`.
 */
import { BENCH_WEBHOOK_SECRET } from '../harness/bridge.ts'
import { type LoadSample, runLoad } from '../harness/load.ts'
import type { GoalResult, RunContext } from '../harness/types.ts'
import { signedDeliveries } from '../harness/webhook-signature.ts'

export interface WebhooksResult {
  ratePerS: number
  durationS: number
  connections: number
  baseline: LoadSample
  bridge: LoadSample
  goals: GoalResult[]
}

const CONNECTIONS = 20

export async function webhooksSuite(run: RunContext): Promise<WebhooksResult> {
  const { profile, bridges, baselines } = run
  const rate = profile.webhookRate
  const url = `${bridges.c.url}/v1/webhooks/recharge?topic=subscription/updated`
  const delivery = signedDeliveries(BENCH_WEBHOOK_SECRET)
  // Accepted and stored: the intake names the topic it filed the delivery under.
  const accepted = (body: string) => body.startsWith('{"received":true,"topic":"subscription/updated"')
  // Warm-up: JIT, connections, the stream's scripts.
  await runLoad(
    { url, method: 'POST', nextRequest: delivery, verifyBody: accepted },
    {
      connections: 4,
      durationS: 1,
      overallRate: 50,
    },
  )
  const load = { connections: CONNECTIONS, durationS: profile.webhookS, overallRate: rate }
  const baseline = await runLoad(
    {
      url: `${baselines.hook}/hook`,
      method: 'POST',
      nextRequest: signedDeliveries('unused'),
      expectBody: '{"received":true}',
    },
    load,
  )
  const bridge = await runLoad({ url, method: 'POST', nextRequest: delivery, verifyBody: accepted }, load)
  run.log(
    `  baseline p50 ${baseline.p50} p99 ${baseline.p99} ms · bridge p50 ${bridge.p50} p99 ${bridge.p99} ms, non2xx ${bridge.non2xx}`,
  )
  const goals: GoalResult[] = [
    {
      id: 'C5a',
      goal: `webhook ack p99 < 100 ms at ${rate} deliveries/s`,
      value: bridge.p99,
      unit: 'ms',
      target: 100,
      comparison: '<=',
      pass: bridge.p99 < 100 && bridge.non2xx === 0 && bridge.errors === 0 && bridge.mismatches === 0,
      note: `baseline (bare Fastify JSON POST) p99 ${baseline.p99} ms in the same run`,
    },
  ]
  return { ratePerS: rate, durationS: profile.webhookS, connections: CONNECTIONS, baseline, bridge, goals }
}
