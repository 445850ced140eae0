/**
 * `pending`, or `timeoutError()` if it has not settled within `ms`.
 *
 * A deadline that fires after an event-loop stall (a CPU-starved host, a long GC) does not reject at once: it waits
 * for the I/O already read from the sockets. Timers run before the poll phase, so after a 200 ms stall a reply that
 * arrived after 2 ms would otherwise lose to its own 100 ms deadline, and a healthy Redis would look down. The
 * rejection goes in `setImmediate`, which runs after the poll phase has delivered every reply that is waiting.
 */
export function withDeadline<T>(pending: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => setImmediate(() => reject(timeoutError())), ms)
    pending.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
