/**
 * The mirror suite's settings: the full run by default (the figures), `--quick` for a smoke run while
 * developing, any setting overridable on its own.
 *
 *   npm run bench -- --only mirror -- [--quick] [--customers 10000] [--shoppers 2000] [--slices 3]
 *     [--blast-seconds 300] [--changes 100] [--drop-minutes 10] [--drop-share 0.1] [--reconcile-seconds 60]
 *     [--phases fill,blast,lag,loss,kill] [--merge]
 *
 * The fill always runs (the other phases need its mirror). `--merge` keeps, from the previous results file of the
 * same profile, the phases not run this time: a phase that failed can be run again alone.
 */
import { parseArgs } from 'node:util'

export const PHASES = ['fill', 'blast', 'lag', 'loss', 'kill'] as const
export type Phase = (typeof PHASES)[number]

export interface MirrorBenchOptions {
  profile: 'full' | 'quick'
  /** Generated customers in the simulator's store (SIM_SEED_CUSTOMERS). */
  customers: number
  /** Distinct shoppers of the email blast, per system. */
  shoppers: number
  /** Interleaved slices per system; each gets shoppers ÷ slices of them over blastSeconds ÷ slices. */
  slices: number
  /** The blast's length at its full rate: shoppers ÷ blastSeconds pages per second. */
  blastSeconds: number
  /** Shopper page loads per second during the fill (interactive traffic served meanwhile). */
  fillPagesPerS: number
  /** Changes made in the simulator directly, each timed until the bridge shows it. */
  changes: number
  dropMinutes: number
  dropShare: number
  /** One change every this many seconds while webhooks are dropped. */
  dropChangeEveryS: number
  reconcileSeconds: number
  phases: Set<Phase>
  /** Keep the previous results file's figures of the phases not run now (each phase says when it ran). */
  merge: boolean
}

export function mirrorBenchOptions(argv: string[] = process.argv.slice(2)): MirrorBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      customers: { type: 'string' },
      shoppers: { type: 'string' },
      slices: { type: 'string' },
      'blast-seconds': { type: 'string' },
      'fill-pages-per-s': { type: 'string' },
      changes: { type: 'string' },
      'drop-minutes': { type: 'string' },
      'drop-share': { type: 'string' },
      'drop-change-every-s': { type: 'string' },
      'reconcile-seconds': { type: 'string' },
      phases: { type: 'string' },
      merge: { type: 'boolean', default: false },
    },
  })
  const quick = values.quick ?? false
  const number = (name: keyof typeof values, full: number, smoke: number) => {
    const text = values[name]
    if (typeof text !== 'string') return quick ? smoke : full
    const parsed = Number(text)
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number, got ${text}`)
    return parsed
  }
  const phases = new Set<Phase>()
  for (const name of (values.phases ?? PHASES.join(',')).split(',')) {
    if (!(PHASES as readonly string[]).includes(name)) throw new Error(`--phases: unknown phase ${name}`)
    phases.add(name as Phase)
  }
  const shoppers = number('shoppers', 2000, 200)
  return {
    profile: quick ? 'quick' : 'full',
    customers: number('customers', 10_000, 1_000),
    shoppers,
    slices: number('slices', 3, 3),
    // The blast's rate stays the (2,000 in 5 minutes) when a quick run has fewer shoppers.
    blastSeconds: number('blast-seconds', 300, (300 * shoppers) / 2000),
    fillPagesPerS: number('fill-pages-per-s', 0.2, 0.2),
    changes: number('changes', 100, 20),
    dropMinutes: number('drop-minutes', 10, 1),
    dropShare: number('drop-share', 0.1, 0.1),
    dropChangeEveryS: number('drop-change-every-s', 2, 2),
    reconcileSeconds: number('reconcile-seconds', 60, 60),
    phases,
    merge: values.merge ?? false,
  }
}
