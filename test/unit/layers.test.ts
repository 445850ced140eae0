import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The layer order of src/, bottom first: the one place it is written down (docs/architecture.md explains it). A file
 * may import its own module (first path segment under src/) and modules of lower layers, never a module of its own
 * layer or of a higher one. The simulator stands apart: it imports infra only, and the bridge loads it by dynamic
 * import in demo mode or by its own command, never statically. The Shopify stand-in stands beside it the same way; it
 * may also read the simulator (its shoppers are the simulator's seeded customers).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['infra'],
  ['config'],
  ['errors', 'demo-mode', 'schemas', 'logger', 'request-logger', 'config-summary'],
  // edge-problems: the problem+json answers written on the socket before any route runs.
  ['recharge', 'edge-problems'],
  ['cache', 'tracing'],
  // The account mirror: Recharge lists and webhooks into Redis; the shopper records read it first.
  ['mirror'],
  ['identity', 'catalog', 'idempotency'],
  // import: externally paid orders into Recharge (reads the catalog, writes through the queue's background lane).
  ['shopper', 'checkout', 'import'],
  ['webhooks'],
  ['fast-reads', 'plugins'],
  ['routes'],
  ['app'],
  ['server', 'openapi', 'client'],
  ['cli', 'demo'],
]
const SIMULATOR = 'simulator'
const SHOPIFY_SIMULATOR = 'shopify-simulator'
/** Files allowed to load the simulator, and only by `await import(...)` (or name its types). */
const SIMULATOR_LOADERS = new Set(['server.ts', 'cli/simulator.ts'])
/** Files allowed to load the Shopify stand-in, on the same terms. */
const SHOPIFY_SIMULATOR_LOADERS = new Set(['server.ts', 'cli/simulator.ts'])

const srcDir = new URL('../../src/', import.meta.url).pathname

interface Import {
  from: string
  to: string
  dynamic: boolean
  typeOnly: boolean
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** Relative imports and re-exports of one file (`declare module '…'` augmentations are not imports). */
function importsOf(file: string, source: string): Import[] {
  const found: Import[] = []
  const pattern = /\b(?:import|export)\s*(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?(\()?\s*['"](\.{1,2}\/[^'"]+)['"]/g
  for (const match of source.matchAll(pattern)) {
    const target = normalize(join(dirname(file), match[3] as string))
    found.push({
      from: relative(srcDir, file),
      to: relative(srcDir, target),
      dynamic: match[2] === '(',
      typeOnly: match[1] !== undefined,
    })
  }
  return found
}

function moduleOf(path: string): string {
  const [first = ''] = path.split('/')
  return path.includes('/') ? first : first.replace(/\.(ts|mts|js|json)$/, '')
}

const layerOf = new Map(LAYERS.flatMap((modules, layer) => modules.map((name) => [name, layer] as const)))

/** Why this import breaks the layer order, or null when it points down (or stays in its module). */
function violation({ from, to, dynamic, typeOnly }: Import): string | null {
  const a = moduleOf(from)
  const b = moduleOf(to)
  if (a === b) return null
  if (b === SIMULATOR) {
    if (a === SHOPIFY_SIMULATOR) return null
    return (dynamic || typeOnly) && SIMULATOR_LOADERS.has(from) ? null : `${from} loads the simulator (${to})`
  }
  if (b === SHOPIFY_SIMULATOR) {
    return (dynamic || typeOnly) && SHOPIFY_SIMULATOR_LOADERS.has(from)
      ? null
      : `${from} loads the Shopify stand-in (${to})`
  }
  if (a === SIMULATOR) return b === 'infra' ? null : `the simulator imports the bridge (${from} → ${to})`
  if (a === SHOPIFY_SIMULATOR) {
    return b === 'infra' || b === SIMULATOR ? null : `the Shopify stand-in imports the bridge (${from} → ${to})`
  }
  const la = layerOf.get(a)
  const lb = layerOf.get(b)
  if (la === undefined) return `${from}: module "${a}" has no layer in LAYERS`
  if (lb === undefined) return `${to}: module "${b}" has no layer in LAYERS`
  return lb < la ? null : `${from} (${a}, layer ${la}) imports ${to} (${b}, layer ${lb})`
}

describe('layers of src/', () => {
  it('every import points down the layer order', () => {
    const problems = sourceFiles(srcDir).flatMap((file) =>
      importsOf(file, readFileSync(file, 'utf8'))
        .map(violation)
        .filter((problem) => problem !== null),
    )
    expect(problems).toEqual([])
  })

  it('the check refuses an import that points up, across a layer, or at the simulator', () => {
    const file = join(srcDir, 'cache/cache.ts')
    const upward = importsOf(file, "import type { RedisClient } from '../plugins/redis.ts'")
    expect(upward.map(violation)).toEqual([
      'cache/cache.ts (cache, layer 4) imports plugins/redis.ts (plugins, layer 9)',
    ])
    const sideways = importsOf(join(srcDir, 'shopper/a.ts'), "import { x } from '../checkout/b.ts'")
    expect(sideways.map(violation)).toEqual([
      'shopper/a.ts (shopper, layer 7) imports checkout/b.ts (checkout, layer 7)',
    ])
    const staticSimulator = importsOf(join(srcDir, 'server.ts'), "import { s } from './simulator/embedded.ts'")
    expect(staticSimulator.map(violation)).toEqual(['server.ts loads the simulator (simulator/embedded.ts)'])
    const dynamicSimulator = importsOf(join(srcDir, 'server.ts'), "await import('./simulator/embedded.ts')")
    expect(dynamicSimulator.map(violation)).toEqual([null])
    const down = importsOf(file, "import {\n  withDeadline,\n} from '../infra/deadline.ts'")
    expect(down.map(violation)).toEqual([null])
  })
})
