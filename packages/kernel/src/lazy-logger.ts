/**
 * A child-logger factory for every server: the per-request child logger (request id
 * bindings, which pino serialises through its redaction at creation) is created only when the
 * request actually logs. Most successful requests never log, so they never pay for one.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The stand-in for a request's child logger. Methods live on the prototype, so a request that
 * never logs costs one small object, not a closure per level.
 */
class LazyChildLogger {
  #real: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildOptions;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #get(): FastifyBaseLogger {
    return (this.#real ??= this.#parent.child(this.#bindings, this.#options));
  }

  #log(level: Level, args: unknown[]): void {
    const target = this.#get();
    Reflect.apply(target[level], target, args);
  }

  get level(): string {
    return (this.#real ?? this.#parent).level;
  }

  set level(value: string) {
    this.#get().level = value;
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#get().child(bindings, options);
  }

  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }

  error(...args: unknown[]): void {
    this.#log('error', args);
  }

  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }

  info(...args: unknown[]): void {
    this.#log('info', args);
  }

  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }

  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }

  silent(...args: unknown[]): void {
    this.#log('silent', args);
  }
}

/**
 * The HTTP factory installs it (`childLoggerFactory`); exported for plugins that need their own.
 *
 * @example
 * scope.setChildLoggerFactory(lazyChildLoggerFactory);
 */
export function lazyChildLoggerFactory(
  this: FastifyInstance,
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
