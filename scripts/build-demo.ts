// Second half of `npm run build` (after tsc): files tsc does not emit.
//  - dist/client/schema.d.ts: the generated types the published client's declarations import.
//  - dist/demo/public/: the demo storefront's pages, stylesheet and bundled scripts.
import { copyFile, mkdir } from 'node:fs/promises'
import { buildDemoAssets } from '../src/demo/bundle.ts'

const clientDir = new URL('../dist/client/', import.meta.url)
await mkdir(clientDir, { recursive: true })
await copyFile(new URL('../src/client/schema.d.ts', import.meta.url), new URL('schema.d.ts', clientDir))
await buildDemoAssets()
