/**
 * NDJSON: one record per line. A line that is not JSON stays a string (its first 200 characters), which the run
 * reports as a bad record instead of refusing the whole file.
 */
export function parseNdjson(text: string): unknown[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as unknown
      } catch {
        return line.slice(0, 200)
      }
    })
}
