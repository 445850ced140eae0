/**
 * Differences between a recorded JSON body's shape and another body's (empty when they conform): the same keys at
 * every level with the same JSON types. `null` on either side matches any type (a nullable field); an empty
 * recorded object or array says nothing about its members.
 */
export function shapeDiff(recorded: unknown, actual: unknown, path = '$'): string[] {
  if (recorded === null || actual === null) return []
  const kind = (value: unknown) => (Array.isArray(value) ? 'array' : typeof value)
  if (kind(recorded) !== kind(actual)) return [`${path}: recorded ${kind(recorded)}, simulator ${kind(actual)}`]
  if (Array.isArray(recorded) && Array.isArray(actual)) {
    if (recorded.length === 0 || actual.length === 0) return []
    return shapeDiff(recorded[0], actual[0], `${path}[0]`)
  }
  if (typeof recorded === 'object' && typeof actual === 'object') {
    const expected = Object.keys(recorded as object)
    if (expected.length === 0) return []
    const got = Object.keys(actual as object)
    const problems = [
      ...expected.filter((key) => !got.includes(key)).map((key) => `${path}.${key}: missing in simulator`),
      ...got.filter((key) => !expected.includes(key)).map((key) => `${path}.${key}: not in the recorded response`),
    ]
    for (const key of expected) {
      if (got.includes(key)) {
        problems.push(
          ...shapeDiff(
            (recorded as Record<string, unknown>)[key],
            (actual as Record<string, unknown>)[key],
            `${path}.${key}`,
          ),
        )
      }
    }
    return problems
  }
  return []
}
