/**
 * Freeze a value and everything reachable from it, so a value shared between callers (a cached record, the loaded
 * policy) cannot be changed by one of them. Objects already frozen are taken as frozen all the way down.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
