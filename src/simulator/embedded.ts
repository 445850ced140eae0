import { buildSimulator } from './app.ts'
import type { SimulatorOptions } from './options.ts'

/** Demo mode: the simulator in-process on 127.0.0.1 with an ephemeral port. */
export interface EmbeddedSimulator {
  url: string
  apiToken: string
  clientSecret: string
  storeSubdomain: string
  close(): Promise<void>
}

/** Any simulator option; `customers` is short for `seedCustomers` (generated shoppers, as SIM_SEED_CUSTOMERS). */
export type EmbeddedSimulatorOptions = SimulatorOptions & { customers?: number }

export async function startEmbeddedSimulator(options: EmbeddedSimulatorOptions = {}): Promise<EmbeddedSimulator> {
  const { customers, ...rest } = options
  const app = await buildSimulator(customers === undefined ? rest : { ...rest, seedCustomers: customers })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const resolved = app.sim.options
  return {
    url,
    apiToken: resolved.apiTokens[0] as string,
    clientSecret: resolved.clientSecret,
    storeSubdomain: resolved.storeSubdomain,
    close: () => app.close(),
  }
}
