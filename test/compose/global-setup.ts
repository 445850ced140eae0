import { existsSync } from 'node:fs'
import { docker, IMAGE, repoRoot, report } from './harness.ts'

/**
 * Builds the image once for every profile (`docker compose up --no-build` then uses it) and reports how long the
 * build took. The suite checks what a fresh clone gets, so an operator's .env (which the default services read)
 * must not leak into it.
 */
export default async function setup(): Promise<void> {
  if (existsSync(`${repoRoot}.env`)) {
    throw new Error('the compose suite checks the defaults without a .env: move .env aside while it runs')
  }
  await docker(['version', '--format', '{{.Server.Version}}']).catch((error: Error) => {
    throw new Error(`no usable Docker engine (../shared/ci/docker-engine.sh start brings one up): ${error.message}`)
  })
  const started = performance.now()
  await docker(['build', '-q', '-f', 'docker/Dockerfile', '-t', IMAGE, '.'])
  report('image build', ((performance.now() - started) / 1000).toFixed(1), 's')
}
