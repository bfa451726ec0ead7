/**
 * A child-logger factory for every server: the per-request child logger (request id
 * bindings, which pino serialises through its redaction at creation) is created only when the
 * request actually logs. Most successful requests never log, so they never pay for one.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
  let real: FastifyBaseLogger | undefined;
  const get = (): FastifyBaseLogger => (real ??= logger.child(bindings, options));
  const lazy: Record<string, unknown> = {
    child: (childBindings: Bindings, childOptions?: ChildOptions) => get().child(childBindings, childOptions),
  };
  for (const level of LEVELS) {
    lazy[level] = (...args: unknown[]) => {
      const target = get();
      Reflect.apply(target[level], target, args);
    };
  }
  Object.defineProperty(lazy, 'level', {
    get: () => (real ?? logger).level,
    set: (value: string) => {
      get().level = value;
    },
    enumerable: true,
  });
  return lazy as unknown as FastifyBaseLogger;
}
