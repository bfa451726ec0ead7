import { exists as isRedisCommand } from '@ioredis/commands';
import type { Redis } from 'ioredis';
import { clientSpan, type Telemetry } from '@tessera/telemetry';

/**
 * A view of `redis` whose commands (and Lua commands added with `defineCommand`) each run in a
 * CLIENT span of `telemetry`'s service: `db.system.name: redis`, the command name and the number
 * of arguments — never keys or values (keys carry token ids, values cached authorization). The
 * connection is shared, not copied. Returns `redis` itself when tracing is off.
 *
 * @example
 * const traced = traceRedis(redis, telemetry);
 * await traced.get('k'); // span "GET"
 */
export function traceRedis(redis: Redis, telemetry: Telemetry): Redis {
  if (!telemetry.enabled) return redis;
  const options = redis.options;
  const server = {
    'server.address': options.host ?? '127.0.0.1',
    'server.port': options.port ?? 6379,
  };
  const scripts = (redis as unknown as { scriptsSet: Record<string, unknown> }).scriptsSet;
  const cache = new Map<PropertyKey, { fn: unknown; wrapped: unknown }>();
  return new Proxy(redis, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const cached = cache.get(prop);
      if (cached?.fn === value) return cached.wrapped;
      const fn = value as (...args: unknown[]) => unknown;
      const name = typeof prop === 'string' ? prop : '';
      const traced = name !== '' && (Object.hasOwn(scripts, name) || isTracedCommand(name));
      const wrapped = traced
        ? (...args: unknown[]) => {
            // Callback-style calls and pipelines are passed through untraced.
            if (typeof args[args.length - 1] === 'function') return fn.apply(target, args);
            const operation = name.toUpperCase();
            return clientSpan(
              telemetry,
              operation,
              {
                'db.system.name': 'redis',
                'db.operation.name': operation,
                'db.operation.argument_count': args.length,
                ...server,
              },
              () => fn.apply(target, args) as Promise<unknown>,
            );
          }
        : fn.bind(target);
      cache.set(prop, { fn: value, wrapped });
      return wrapped;
    },
  });
}

const UNTRACED = new Set(['multi', 'pipeline', 'monitor', 'subscribe', 'psubscribe', 'ssubscribe', 'quit']);

function isTracedCommand(name: string): boolean {
  return !UNTRACED.has(name) && isRedisCommand(name);
}
