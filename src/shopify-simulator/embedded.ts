import { buildShopifySimulator } from './app.ts'
import type { ResolvedShopifyOptions, ShopifySimulatorOptions } from './options.ts'

/** The stand-in in-process on 127.0.0.1 with an ephemeral port (demo mode, tests). */
export interface EmbeddedShopifySimulator {
  url: string
  options: ResolvedShopifyOptions
  close(): Promise<void>
}

export async function startEmbeddedShopifySimulator(
  options: ShopifySimulatorOptions = {},
): Promise<EmbeddedShopifySimulator> {
  const app = await buildShopifySimulator(options)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, options: app.shopifySim.options, close: () => app.close() }
}
