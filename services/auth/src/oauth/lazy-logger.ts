/**
 * A child-logger factory for the hot OAuth endpoints: the per-request child logger (request id
 * bindings, which pino serialises through its redaction at creation) is created only when the
 * request actually logs. A successful token request never logs, so it never pays for one.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Use with `scope.setChildLoggerFactory(lazyChildLoggerFactory)`.
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
