/**
 * Recharge's error bodies, in every shape the recorded 2021-11 responses show:
 * - `{"errors": "Not Found"}` (bare string, every 404)
 * - `{"errors": {"first_name": ["Shorter than minimum length 1."]}}` (field → list)
 * - `{"errors": {"email": "email already exists on store"}}` (field → string)
 * - `{"errors": {"billing_address": {"address1": ["Field may not be null."]}}}` (nested)
 * - `{"errors": {"_schema": ["… are required fields."]}}` (schema level)
 * - `{"error": "A call to this route is already in progress."}` (singular, 409)
 * Handlers throw SimError; the app's error handler writes `body` with `status`.
 */
export type ErrorTree = string | string[] | { [field: string]: ErrorTree }

export class SimError extends Error {
  readonly status: number
  readonly body: Record<string, unknown>

  constructor(status: number, body: Record<string, unknown>) {
    super(`simulated Recharge error ${status}`)
    this.status = status
    this.body = body
  }
}

export function notFound(): SimError {
  return new SimError(404, { errors: 'Not Found' })
}

export function unprocessable(errors: ErrorTree): SimError {
  return new SimError(422, { errors })
}

/** `{"errors": {"<field>": ["<message>"]}}`, the most common 422 shape. */
export function fieldError(field: string, message: string): SimError {
  return new SimError(422, { errors: { [field]: [message] } })
}

/** `{"errors": {"_schema": ["a, b are required fields.", …]}}`; Recharge repeats the sentence once per schema pass. */
export function missingRequired(fields: string[]): SimError {
  const sentence = `${fields.join(', ')} are required fields.`
  return new SimError(422, { errors: { _schema: [sentence, sentence] } })
}

export function conflict(message: string): SimError {
  return new SimError(409, { error: message })
}

export const UNAUTHORIZED_BODY = { errors: 'Invalid API access token.' } as const
export const BAD_VERSION_BODY = { errors: 'Invalid API version. Use one of: 2021-01, 2021-11.' } as const
export const RATE_LIMITED_BODY = { errors: 'Too Many Requests' } as const
export const NOT_JSON_BODY = { errors: 'The request body was not a JSON object.' } as const
