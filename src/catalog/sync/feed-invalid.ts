import { createHash } from 'node:crypto'
import { AppError } from '../../errors.ts'
import type { CatalogFeed, FeedIssue } from '../feed.ts'

/** The feed did not validate: every issue, per product, with its path. Rendered as 400 VALIDATION_FAILED. */
export class FeedInvalidError extends Error {
  readonly issues: FeedIssue[]
  /** `fetched`: the feed came from a URL, so no value from it (a product id) is quoted back; paths and rules only. */
  constructor(issues: FeedIssue[], options: { fetched?: boolean } = {}) {
    super(`The catalog feed has ${issues.length} problem(s)`)
    this.name = 'FeedInvalidError'
    this.issues = options.fetched ? issues.map((issue) => ({ ...issue, external_product_id: null })) : issues
  }

  toAppError(): AppError {
    return new AppError('VALIDATION_FAILED', {
      detail: this.message,
      errors: this.issues.slice(0, 100).map((issue) => ({
        field: `body.${issue.path}`,
        message: issue.external_product_id ? `${issue.message} (product ${issue.external_product_id})` : issue.message,
      })),
      extensions: { issues: this.issues.slice(0, 1000) },
    })
  }
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function feedHash(feed: CatalogFeed): string {
  return createHash('sha256').update(stableStringify(feed.products)).digest('hex')
}
