import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger } from './logger.ts';
import { lazyChildLoggerFactory } from './lazy-logger.ts';

describe('lazyChildLoggerFactory', () => {
  it('creates the child only when the request logs, with its bindings, level and children', () => {
    const lines: Array<Record<string, unknown>> = [];
    const root = createLogger({
      name: 'lazy',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          cb();
        },
      }),
    });
    let children = 0;
    const counting = Object.assign(Object.create(root) as typeof root, {
      child: (...args: Parameters<typeof root.child>) => {
        children++;
        return root.child(...args);
      },
    });
    const log = lazyChildLoggerFactory.call({} as FastifyInstance, counting, { requestId: 'r-1' }, {});
    expect(log.level).toBe('info');
    log.debug('below the level');
    expect(children).toBe(1); // debug still needs the child to decide; nothing written
    const quiet = lazyChildLoggerFactory.call({} as FastifyInstance, counting, { requestId: 'r-2' }, {});
    expect(quiet.level).toBe('info');
    expect(children).toBe(1);
    log.warn({ code: 'x' }, 'something');
    log.child({ step: 'inner' }).error('inner failure');
    expect(lines).toMatchObject([
      { level: 'warn', requestId: 'r-1', code: 'x', msg: 'something' },
      { level: 'error', requestId: 'r-1', step: 'inner', msg: 'inner failure' },
    ]);
  });
});
