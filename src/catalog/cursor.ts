import { AppError } from '../errors.ts'

/**
 * Our list cursors are opaque to clients and wrap Recharge's (which are opaque to us): base64url of `{"u": <upstream
 * cursor>}`. A version field lets the format change without breaking links clients hold.
 */
export function encodeCursor(upstream: string | null): string | null {
  return upstream ? Buffer.from(JSON.stringify({ v: 1, u: upstream })).toString('base64url') : null
}

export function decodeCursor(cursor: string): string {
  try {
    if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new Error('charset')
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (parsed && typeof parsed === 'object' && 'u' in parsed && typeof parsed.u === 'string' && parsed.u) {
      return parsed.u
    }
    throw new Error('shape')
  } catch {
    throw new AppError('VALIDATION_FAILED', {
      detail: 'The cursor is not one this API issued',
      errors: [{ field: 'query.cursor', message: 'invalid cursor' }],
    })
  }
}
