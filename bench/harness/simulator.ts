/**
 * The Recharge simulator as its own process (`node dist/simulator/server.js`, as `npm run simulator` runs it),
 * driven through its control API over HTTP: ledger, faults.
 */
import type { FaultRule } from '../../src/simulator/faults.ts'
import type { LedgerEntry } from '../../src/simulator/ledger.ts'
import type { WebhookDropRule } from '../../src/simulator/webhooks/drops.ts'
import { freePort } from '../../tools/free-port.ts'
import { repoRoot, type Spawned, spawnNode, waitForOutput } from './processes.ts'

export interface SimulatorProcess {
  url: string
  apiToken: string
  clientSecret: string
  storeSubdomain: string
  /** Headers for calling the simulator directly. */
  headers: Record<string, string>
  process: Spawned
  ledger(path?: string): Promise<LedgerEntry[]>
  /** Requests the simulator has received since its last reset, however many the ledger list still keeps. */
  recorded(): Promise<number>
  setFaults(rules: FaultRule[]): Promise<void>
  clearFaults(): Promise<void>
  /** Loses a share of the webhook deliveries (`POST /__sim/webhooks/faults`); `[]` ends the loss. */
  setWebhookFaults(rules: WebhookDropRule[]): Promise<void>
}

export interface SimulatorSettings {
  bucketSize: number
  leakRate: number
  /** A token of its own gives the bridges a budget (GCRA key) of its own in a shared Redis. */
  apiToken?: string
  /** Generated customers on top of the seeded store (SIM_SEED_CUSTOMERS): a store of realistic size. */
  seedCustomers?: number
  /** Further tokens, each with a bucket of its own: changes made "in Recharge" without spending the bridge's budget. */
  extraTokens?: string[]
  /** Deliver webhooks as events happen (default false: only when the harness asks, no background traffic). */
  webhookAutoDeliver?: boolean
}

export async function startSimulator(settings: SimulatorSettings): Promise<SimulatorProcess> {
  const port = await freePort()
  const apiToken = settings.apiToken ?? 'sk_bench_simulator'
  const clientSecret = 'bench_sim_client_secret'
  const storeSubdomain = 'bench-store'
  const process_ = spawnNode(`${repoRoot}dist/simulator/server.js`, [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    SIM_API_TOKEN: [apiToken, ...(settings.extraTokens ?? [])].join(','),
    SIM_CLIENT_SECRET: clientSecret,
    SIM_STORE_SUBDOMAIN: storeSubdomain,
    SIM_BUCKET_SIZE: String(settings.bucketSize),
    SIM_LEAK_RATE: String(settings.leakRate),
    // By default registered webhooks are delivered only when the harness asks: no background traffic during
    // measurements.
    SIM_WEBHOOK_AUTO_DELIVER: settings.webhookAutoDeliver ? 'true' : 'false',
    ...(settings.seedCustomers ? { SIM_SEED_CUSTOMERS: String(settings.seedCustomers) } : {}),
  })
  await waitForOutput(process_, /listening on (http:\/\/\S+)/, 'simulator')
  const url = `http://127.0.0.1:${port}`

  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!response.ok) throw new Error(`simulator ${method} ${path} → ${response.status}: ${await response.text()}`)
    return (await response.json()) as T
  }

  return {
    url,
    apiToken,
    clientSecret,
    storeSubdomain,
    headers: { 'x-recharge-access-token': apiToken, 'x-recharge-version': '2021-11' },
    process: process_,
    async ledger(path) {
      const query = path ? `?path=${encodeURIComponent(path)}` : ''
      return (await control<{ requests: LedgerEntry[] }>('GET', `/__sim/requests${query}`)).requests
    },
    async recorded() {
      // A path that matches nothing: only the count is wanted, not the list.
      return (await control<{ recorded: number }>('GET', '/__sim/requests?path=%2F__none')).recorded
    },
    async setFaults(rules) {
      await control('POST', '/__sim/faults', { rules })
    },
    async clearFaults() {
      await control('DELETE', '/__sim/faults')
    },
    async setWebhookFaults(rules) {
      await control('POST', '/__sim/webhooks/faults', { rules })
    },
  }
}
