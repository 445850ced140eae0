import { AppError, type ErrorCode } from '../errors.ts'
import { RechargeValidationError } from '../recharge/errors.ts'

/**
 * Recharge's 422 for a shopper mistake, as the problem code the bridge gives that mistake. The local checks catch
 * these first from the shopper's cached records; this covers the moment those were stale (a change made elsewhere
 * since). Recharge names the offending field (`{"errors": {"date": [...]}}`): the field decides the code. The field
 * names and short messages are kept (`upstream.<field>`), never the raw body.
 */
export function asShopperMistake(byField: Readonly<Record<string, ErrorCode>>): (error: unknown) => never {
  return (error) => {
    if (error instanceof RechargeValidationError) {
      const known = error.fieldErrors.find((entry) => byField[entry.field.split('.')[0] ?? ''] !== undefined)
      if (known) {
        throw new AppError(byField[known.field.split('.')[0] ?? ''] as ErrorCode, {
          detail: `Recharge refused this change: ${known.field}: ${known.message}`,
          errors: error.fieldErrors.map((entry) => ({ field: `upstream.${entry.field}`, message: entry.message })),
          cause: error,
        })
      }
    }
    throw error
  }
}
