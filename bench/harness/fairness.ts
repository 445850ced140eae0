/**
 * Fairness of the shared queue across replicas offered equal rates: the worst replica's
 * |share of the admitted calls ÷ share of the calls offered − 1|. Each replica's load comes from its own Poisson
 * process, whose counts differ by a few per cent over a phase; dividing by the offered share measures how the queue
 * treats the replicas, not how the arrivals happened to fall. (Meaningful for open-loop load only: a closed loop
 * offers more where it is served faster.)
 */
export function maxShareDeviation(admittedPerReplica: readonly number[], offeredPerReplica: readonly number[]): number {
  const admitted = admittedPerReplica.reduce((a, b) => a + b, 0)
  const offered = offeredPerReplica.reduce((a, b) => a + b, 0)
  if (admitted === 0 || offered === 0) return 0
  return Math.max(
    ...admittedPerReplica.map((count, i) => Math.abs(count / admitted / ((offeredPerReplica[i] ?? 0) / offered) - 1)),
  )
}
