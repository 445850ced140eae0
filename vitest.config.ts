import { defineConfig } from 'vitest/config'

/**
 * Four projects: unit (no I/O), integration (real Redis + the simulator over HTTP), security (each fixed attack,
 * same components as integration), e2e (built server as a process,
 * real browser). Redis comes from test/support/redis-global-setup.ts and every test file uses its own key prefix.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/support/redis-global-setup.ts'],
    // File order by default. `npx vitest run --sequence.shuffle` checks that order does not matter; it does not pass
    // everywhere yet (a few integration tests still depend on one that ran before them), so CI keeps file order.
    sequence: { shuffle: false },
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
