import type { SyncJobStatus, SyncReport } from './types.ts'

/** Human-readable lines of a sync report (CLI output). */
export function formatReport(report: SyncReport): string[] {
  const t = report.totals
  const lines = [
    `${report.dryRun ? 'Dry run (nothing written)' : 'Catalog sync'} ${report.resumed ? '(resumed) ' : ''}— ${report.feedProducts} feed products, ${report.unchanged} unchanged`,
    `  products: +${t.productCreates} ~${t.productUpdates} -${t.productDeletes}   plans: +${t.planCreates} ~${t.planUpdates} -${t.planDeletes}`,
    `  plan writes via: create=${report.strategy.planCreates} update=${report.strategy.planUpdates} delete=${report.strategy.planDeletes}`,
    `  upstream calls: ${report.calls.total} (${report.calls.reads} reads, ${report.calls.writes} writes)` +
      (report.callsPerChangedItem === null ? '' : `, ${report.callsPerChangedItem} per changed item`),
    `  time: ${(report.durationMs / 1000).toFixed(1)} s; rate-limit floor ${(report.floorMs / 1000).toFixed(1)} s` +
      (report.floorRatio === null ? '' : ` (×${report.floorRatio})`),
  ]
  if (report.errors.length > 0) {
    lines.push(`  ${report.errors.length} error(s):`)
    for (const error of report.errors.slice(0, 20)) {
      lines.push(`    ${error.external_product_id ?? '-'} ${error.operation}: ${error.code} ${error.message}`)
    }
  }
  for (const change of report.plan ?? []) {
    const sign = { create: '+', update: '~', delete: '-', keep: ' ' }[change.product]
    const fields = change.fields.length > 0 ? ` (${change.fields.join(', ')})` : ''
    lines.push(`${sign} ${change.external_product_id}${fields}`)
    for (const key of change.plans.create) lines.push(`    + plan ${key}`)
    for (const update of change.plans.update) lines.push(`    ~ plan ${update.key} (${update.fields.join(', ')})`)
    for (const removal of change.plans.delete) lines.push(`    - plan ${removal.key} (${removal.reason})`)
  }
  return lines
}

export function formatIssues(status: SyncJobStatus): string[] {
  return (status.issues ?? []).map(
    (issue) => `  ${issue.path}${issue.external_product_id ? ` [${issue.external_product_id}]` : ''}: ${issue.message}`,
  )
}
