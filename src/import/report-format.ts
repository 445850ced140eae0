import type { RecordOutcome } from './outcome.ts'
import type { RunStatus } from './runner.ts'

/** The CLI's text: a summary table at the end of a run, and one line per record of a dry run. */

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)
}

function perRecord(calls: number, records: number): string {
  return records === 0 ? '-' : (calls / records).toFixed(2)
}

export function formatRunSummary(run: RunStatus, seconds: number): string[] {
  const lines = [
    `Import ${run.id}: ${run.state}`,
    ...table([
      ['records', String(run.total)],
      ['done', String(run.done)],
      ['created (something new)', String(run.created)],
      ['found (all existed)', String(run.found)],
      ['failed', String(run.failed)],
      ['customers created', String(run.customers_created)],
      ['payment methods created', String(run.payment_methods_created)],
      ['addresses created', String(run.addresses_created)],
      ['subscriptions created', String(run.subscriptions_created)],
      ['upstream calls', String(run.calls)],
      ['calls/record, new customer', perRecord(run.new_customer_calls, run.new_customer_records)],
      ['calls/record, existing customer', perRecord(run.existing_customer_calls, run.existing_customer_records)],
      ['time', `${seconds.toFixed(1)} s`],
    ]),
  ]
  if (run.failures.length > 0) {
    lines.push('', `Failed records (first ${run.failures.length}):`)
    for (const failure of run.failures)
      lines.push(
        `  #${failure.index} ${failure.external_order_id ?? '(no external_order_id)'}: ${failure.step} ${failure.code}: ${failure.message ?? ''}`,
      )
  }
  return lines
}

function plan(exists: boolean, id: string | null): string {
  return exists ? `exists${id ? ` (${id})` : ''}` : 'create'
}

/** One dry-run record: what exists in Recharge and what a run would create. */
export function formatDryRunRecord(outcome: RecordOutcome): string {
  const name = `#${outcome.index} ${outcome.external_order_id ?? '(no external_order_id)'}`
  if (outcome.status === 'failed') return `${name}: would fail at ${outcome.step}: ${outcome.code}: ${outcome.message}`
  const existing = outcome.subscription_ids.length
  return [
    `${name}:`,
    `customer ${plan(!outcome.created.customer, outcome.customer_id)},`,
    `payment method ${plan(!outcome.created.payment_method, outcome.payment_method_id)},`,
    `address ${plan(!outcome.created.address, outcome.address_id)},`,
    `subscriptions: ${existing} exist, ${outcome.created.subscriptions} to create`,
  ].join(' ')
}

export function formatDryRunSummary(outcomes: RecordOutcome[]): string[] {
  const count = (test: (outcome: RecordOutcome) => boolean) => String(outcomes.filter(test).length)
  const ok = outcomes.filter((outcome) => outcome.status !== 'failed')
  return [
    'Dry run: nothing was written.',
    ...table([
      ['records', String(outcomes.length)],
      ['would fail', count((outcome) => outcome.status === 'failed')],
      ['already complete', count((outcome) => outcome.status === 'found')],
      ['customers to create', String(ok.filter((outcome) => outcome.created.customer).length)],
      ['payment methods to create', String(ok.filter((outcome) => outcome.created.payment_method).length)],
      ['addresses to create', String(ok.filter((outcome) => outcome.created.address).length)],
      ['subscriptions to create', String(ok.reduce((sum, outcome) => sum + outcome.created.subscriptions, 0))],
    ]),
  ]
}
