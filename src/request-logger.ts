import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type LogArguments = Parameters<FastifyBaseLogger['info']>

/** What pino loggers have beyond FastifyBaseLogger: the numeric value of each level name. */
interface LevelValues {
  levels?: { values: Record<string, number> }
}

/**
 * Fastify gives every request a child logger bound to its request id. pino builds a child at once, serialising the
 * bindings into a string, which cost about a hundredth of an uncached call's CPU on requests that at the levels
 * production runs write no line at all. This stand-in builds the real child the first time its request writes a line
 * at an enabled level; every line it writes is the line the child would have written.
 */
class DeferredChildLogger {
  readonly #parent: FastifyBaseLogger & LevelValues
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level
  }

  set level(level: string) {
    this.#real().level = level
  }

  fatal(...args: LogArguments): void {
    this.#write('fatal', args)
  }
  error(...args: LogArguments): void {
    this.#write('error', args)
  }
  warn(...args: LogArguments): void {
    this.#write('warn', args)
  }
  info(...args: LogArguments): void {
    this.#write('info', args)
  }
  debug(...args: LogArguments): void {
    this.#write('debug', args)
  }
  trace(...args: LogArguments): void {
    this.#write('trace', args)
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options)
  }

  #write(level: LevelName, args: LogArguments): void {
    if (this.#child === undefined && !this.#enabled(level)) return
    this.#real()[level](...args)
  }

  #enabled(level: LevelName): boolean {
    const values = this.#parent.levels?.values
    // A logger without pino's level table: let the real child decide.
    if (values === undefined) return true
    const threshold = values[this.level]
    return threshold === undefined || (values[level] ?? 0) >= threshold
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options)
    return this.#child
  }
}

/** Fastify's `childLoggerFactory`: each request's logger, built when the request first logs. */
export function deferredChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new DeferredChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}
