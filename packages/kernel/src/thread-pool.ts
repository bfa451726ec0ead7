/**
 * The size of libuv's thread pool, which runs this process's token signatures and verifications
 * (`node:crypto` with a callback, WebCrypto), file-system calls and DNS lookups.
 *
 * Node starts 4 threads whatever the machine. On a small machine that is more threads than cores
 * left beside the event loop: each signature then wakes a sleeping thread, which preempts the event
 * loop or another thread, and the context switches cost more than the signature (on 2 cores:
 * ~45 µs of CPU per ES256 signature with 4 threads against ~30 with 1; docs/adr/0014). With no
 * more threads than spare cores, a busy thread finds the next job queued without sleeping.
 *
 * So every Tessera process sizes the pool to the cores the event loop leaves free: 1 on 2 cores, 3
 * on 4, and Node's 4 from 5 cores up. The exception is a process whose pool jobs are long: an RS256
 * signature (RSA-2048) takes ~0.33 ms, against which a context switch costs nothing, and there one thread per
 * core (up to 4) signs more per second. `UV_THREADPOOL_SIZE` set by the operator always wins.
 */
import { availableParallelism } from 'node:os';

/** Node's own pool size, and the most this default ever asks for. */
export const NODE_THREAD_POOL_SIZE = 4;

/** What the pool mostly runs: short jobs (ES256/EdDSA signatures, ~30 µs) or long ones (RS256, ~0.33 ms). */
export type ThreadPoolJobs = 'short' | 'long';

/**
 * The pool size for a machine with `cores` cores: for short jobs, one core is the event loop's;
 * long jobs get every core.
 *
 * @example
 * defaultThreadPoolSize(2); // 1
 * defaultThreadPoolSize(2, 'long'); // 2
 * defaultThreadPoolSize(16); // 4
 */
export function defaultThreadPoolSize(cores: number, jobs: ThreadPoolJobs = 'short'): number {
  const wanted = Math.floor(cores) - (jobs === 'short' ? 1 : 0);
  return Math.min(NODE_THREAD_POOL_SIZE, Math.max(1, wanted));
}

/**
 * What this process's pool will mostly run, from its environment: long jobs when it signs tokens
 * with RS256 (`TESSERA_SIGNING_ALG`, read by the auth service and the platform).
 *
 * @example
 * threadPoolJobsOf({ TESSERA_SIGNING_ALG: 'RS256' }); // 'long'
 */
export function threadPoolJobsOf(env: Record<string, string | undefined>): ThreadPoolJobs {
  return env.TESSERA_SIGNING_ALG?.trim() === 'RS256' ? 'long' : 'short';
}

/**
 * Sets `UV_THREADPOOL_SIZE` in `env` to {@link defaultThreadPoolSize} (for the jobs
 * {@link threadPoolJobsOf} `env` names) unless it is already set;
 * returns the size in effect. libuv reads the variable once, when the pool first runs a job, so
 * this has effect only before that: entry points import `@tessera/kernel/size-thread-pool` first.
 *
 * @example
 * sizeThreadPool({}, 2); // 1, and the env object now holds UV_THREADPOOL_SIZE=1
 */
export function sizeThreadPool(
  env: Record<string, string | undefined> = process.env,
  cores: number = availableParallelism(),
): number {
  const configured = env.UV_THREADPOOL_SIZE?.trim();
  // libuv's reading: an integer, at least 1, at most 1024.
  if (configured) return Math.min(1024, Math.max(1, Number.parseInt(configured, 10) || 1));
  const size = defaultThreadPoolSize(cores, threadPoolJobsOf(env));
  env.UV_THREADPOOL_SIZE = String(size);
  return size;
}
