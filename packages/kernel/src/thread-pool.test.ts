import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultThreadPoolSize, sizeThreadPool, threadPoolJobsOf } from './thread-pool.ts';

describe('defaultThreadPoolSize', () => {
  it('leaves one core to the event loop, at least 1 thread and at most Node’s 4', () => {
    expect([1, 2, 3, 4, 5, 8, 64].map((cores) => defaultThreadPoolSize(cores))).toEqual([
      1, 1, 2, 3, 4, 4, 4,
    ]);
  });

  it('gives long jobs every core, at most Node’s 4', () => {
    expect([1, 2, 3, 8].map((cores) => defaultThreadPoolSize(cores, 'long'))).toEqual([1, 2, 3, 4]);
  });
});

describe('threadPoolJobsOf', () => {
  it('expects long jobs only from an RS256 signer', () => {
    expect(threadPoolJobsOf({ TESSERA_SIGNING_ALG: 'RS256' })).toBe('long');
    expect(threadPoolJobsOf({ TESSERA_SIGNING_ALG: 'ES256' })).toBe('short');
    expect(threadPoolJobsOf({ TESSERA_SIGNING_ALG: 'EdDSA' })).toBe('short');
    expect(threadPoolJobsOf({})).toBe('short');
  });
});

describe('sizeThreadPool', () => {
  it('sets UV_THREADPOOL_SIZE when it is unset', () => {
    const env: Record<string, string | undefined> = {};
    expect(sizeThreadPool(env, 2)).toBe(1);
    expect(env.UV_THREADPOOL_SIZE).toBe('1');
  });

  it('sizes an RS256 signer’s pool for long jobs', () => {
    const env: Record<string, string | undefined> = { TESSERA_SIGNING_ALG: 'RS256' };
    expect(sizeThreadPool(env, 2)).toBe(2);
    expect(env.UV_THREADPOOL_SIZE).toBe('2');
  });

  it('keeps what the operator set', () => {
    const env: Record<string, string | undefined> = { UV_THREADPOOL_SIZE: '6' };
    expect(sizeThreadPool(env, 2)).toBe(6);
    expect(env.UV_THREADPOOL_SIZE).toBe('6');
  });

  it('reports a malformed setting as libuv reads it', () => {
    expect(sizeThreadPool({ UV_THREADPOOL_SIZE: 'x' }, 8)).toBe(1);
    expect(sizeThreadPool({ UV_THREADPOOL_SIZE: '5000' }, 8)).toBe(1024);
  });
});

/** Runs a Node process that signs once on the thread pool and prints how many pool threads it has. */
function poolThreadsOfProcess(options: { importFirst: boolean; env?: Record<string, string> }): number {
  const entry = fileURLToPath(new URL('./size-thread-pool.ts', import.meta.url));
  const script = `
    ${options.importFirst ? `await import(${JSON.stringify(entry)});` : ''}
    const { generateKeyPairSync, sign } = await import('node:crypto');
    const { readdirSync, readFileSync } = await import('node:fs');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await new Promise((resolve, reject) => sign('sha256', Buffer.from('x'), privateKey, (e) => (e ? reject(e) : resolve())));
    const names = readdirSync('/proc/self/task').map((t) => readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim());
    process.stdout.write(String(names.filter((n) => n === 'libuv-worker').length));`;
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (!options.env?.UV_THREADPOOL_SIZE) delete env.UV_THREADPOOL_SIZE;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  return Number(out);
}

describe('size-thread-pool (the entry points’ first import)', () => {
  it('sizes the pool of the process before its first job', () => {
    expect(poolThreadsOfProcess({ importFirst: true })).toBe(defaultThreadPoolSize(availableParallelism()));
  });

  it('leaves an operator’s UV_THREADPOOL_SIZE in effect', () => {
    expect(poolThreadsOfProcess({ importFirst: true, env: { UV_THREADPOOL_SIZE: '3' } })).toBe(3);
  });

  it('is what changes the size: without it Node starts its own 4', () => {
    expect(poolThreadsOfProcess({ importFirst: false })).toBe(4);
  });
});
