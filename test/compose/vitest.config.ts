import { defineConfig } from 'vitest/config'

/**
 * The compose suite (`npm run test:compose`): the image and docker-compose.yml, run for real on a Docker engine.
 * Kept out of `npm test` (which needs no Docker); `.ci/run` runs both. One profile at a time: the machine is small.
 */
export default defineConfig({
  root: new URL('../../', import.meta.url).pathname,
  test: {
    name: 'compose',
    include: ['test/compose/**/*.test.ts'],
    globalSetup: ['test/compose/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
})
