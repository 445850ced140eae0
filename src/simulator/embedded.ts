import { buildSimulator } from './app.ts'

/** Demo mode: the simulator in-process on 127.0.0.1 with an ephemeral port. */
export interface EmbeddedSimulator {
  url: string
  apiToken: string
  clientSecret: string
  storeSubdomain: string
  close(): Promise<void>
}

export async function startEmbeddedSimulator(): Promise<EmbeddedSimulator> {
  const app = await buildSimulator()
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const { options } = app.sim
  return {
    url,
    apiToken: options.apiTokens[0] as string,
    clientSecret: options.clientSecret,
    storeSubdomain: options.storeSubdomain,
    close: () => app.close(),
  }
}
