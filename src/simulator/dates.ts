/**
 * Date formats exactly as Recharge 2021-11 sends them: customers and payment methods use naive UTC timestamps
 * ("2022-03-09T02:36:35"), most other resources an explicit offset ("2022-03-10T12:13:28+00:00"), and scheduling
 * fields plain dates ("2022-04-09").
 */
export type IntervalUnit = 'day' | 'week' | 'month'

export function isoOffset(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`
}

export function isoNaive(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19)
}

export function dateOnly(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

const DAY_MS = 86_400_000

export function addDays(date: string, days: number): string {
  return dateOnly(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS)
}

/** Adds `frequency` units; months clamp to the last day of the target month (Jan 31 + 1 month = Feb 28/29). */
export function addInterval(date: string, frequency: number, unit: IntervalUnit): string {
  if (unit === 'day') return addDays(date, frequency)
  if (unit === 'week') return addDays(date, frequency * 7)
  const [year, month, day] = date.split('-').map(Number) as [number, number, number]
  const target = new Date(Date.UTC(year, month - 1 + frequency, 1))
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate()
  target.setUTCDate(Math.min(day, lastDay))
  return dateOnly(target.getTime())
}

export function isDate(value: unknown): value is string {
  return (
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
  )
}

/** Accepts what Recharge accepts in filters: a date, or a datetime with or without offset. */
export function parseTimestamp(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return null
  const normalised =
    value.length === 10
      ? `${value}T00:00:00Z`
      : /Z|[+-]\d{2}:?\d{2}$/.test(value)
        ? value
        : `${value.replace(' ', 'T')}Z`
  const ms = Date.parse(normalised)
  return Number.isNaN(ms) ? null : ms
}
