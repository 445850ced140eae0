import { copyFile, mkdir, readdir } from 'node:fs/promises'
import { build } from 'esbuild'

/**
 * Builds the demo storefront into `dist/demo/public/`: the HTML pages and stylesheet as they are, and one script
 * per page bundled by esbuild from `src/demo/app/` (with the typed client inlined). Scripts are external files because
 * the CSP allows only same-origin scripts. Run by `npm run build`; the demo routes serve the output.
 */
export const demoSourceDir = new URL('./', import.meta.url)
export const demoOutputDir = new URL('../../dist/demo/public/', import.meta.url)

export const demoEntryPoints = ['shop', 'account'] as const

export async function buildDemoAssets(outDir: URL = demoOutputDir): Promise<void> {
  await mkdir(outDir, { recursive: true })
  const publicDir = new URL('public/', demoSourceDir)
  for (const name of await readdir(publicDir)) {
    await copyFile(new URL(name, publicDir), new URL(name, outDir))
  }
  await build({
    entryPoints: demoEntryPoints.map((name) => new URL(`app/${name}.ts`, demoSourceDir).pathname),
    outdir: outDir.pathname,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  })
}
