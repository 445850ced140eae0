import { defineConfig } from 'vitest/config'

/**
 * Four projects: unit (no I/O), integration (real Redis + the simulator over HTTP), security (each fixed attack,
 * same components as integration), e2e (built server as a process,
 * real browser). Redis comes from test/support/redis-global-setup.ts and every test file uses its own key prefix.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/support/redis-global-setup.ts'],
    // Every run shuffles the files and the tests inside them, in all four projects (e2e included), so no test can lean
    // on one that ran before it. Vitest prints the seed at the top of the run ("Running tests with seed N"); replay
    // that order with --sequence.seed=N.
    sequence: { shuffle: true },
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          // Each attack that was fixed, replayed against the simulator over HTTP and a real Redis.
          name: 'security',
          include: ['test/security/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
