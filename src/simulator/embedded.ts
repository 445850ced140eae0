/** Placeholder until the simulator lands: demo mode starts the simulator in-process through this. */
export interface EmbeddedSimulator {
  url: string
  apiToken: string
  clientSecret: string
  storeSubdomain: string
  close(): Promise<void>
}

export async function startEmbeddedSimulator(): Promise<EmbeddedSimulator> {
  throw new Error('the simulator is not built yet')
}
