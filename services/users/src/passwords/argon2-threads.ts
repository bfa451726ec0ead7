/**
 * argon2id on threads of its own instead of libuv's thread pool.
 *
 * `@node-rs/argon2`'s promise functions run on libuv's pool, which this process also needs for
 * token signatures and verifications, files and DNS lookups, and which Tessera sizes to the cores
 * the event loop leaves free (1 on 2 cores; `@tessera/kernel`'s thread-pool.ts). Each argon2id
 * computation holds a thread ~18 ms and anyone can ask for one by posting a login form: on the
 * shared pool, a burst of sign-ins would queue every token signature behind them. Here they run on
 * one worker thread per core, started when first needed; the pool stays free for the short jobs.
 * An idle thread does not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Options } from '@node-rs/argon2';

/** What a thread is asked to do. */
export type Argon2Job =
  | { op: 'hash'; password: string; options: Options }
  | { op: 'verify'; passwordHash: string; password: string };

/** What a thread answers. */
export type Argon2Reply = { ok: true; value: string | boolean } | { ok: false; message: string };

interface Pending {
  job: Argon2Job;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

/**
 * A fixed number of argon2 threads and the queue in front of them.
 *
 * @example
 * const threads = new Argon2Threads(2);
 * const ok = await threads.verify(storedHash, 'correct horse battery staple');
 */
export class Argon2Threads {
  readonly size: number;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Pending>();
  readonly #queue: Pending[] = [];

  readonly #script: URL;

  /** `options.script` replaces the thread's module (tests: a thread that dies on cue). */
  constructor(size: number, options: { script?: URL } = {}) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('Argon2Threads: size must be ≥ 1');
    this.size = size;
    this.#script = options.script ?? new URL('./argon2-thread.ts', import.meta.url);
  }

  /** Hashes `password` with `options` (argon2's PHC string). */
  async hash(password: string, options: Options): Promise<string> {
    return (await this.#run({ op: 'hash', password, options })) as string;
  }

  /** True when `password` matches `passwordHash`; rejects when the hash is malformed. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    return (await this.#run({ op: 'verify', passwordHash, password })) as boolean;
  }

  /** Threads running: the idle ones and the busy ones. */
  get threads(): number {
    return this.#idle.length + this.#busy.size;
  }

  #run(job: Argon2Job): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idle.pop() ?? (this.threads < this.size ? this.#start() : undefined);
      if (!worker) return;
      const pending = this.#queue.shift() as Pending;
      this.#busy.set(worker, pending);
      // A job in flight keeps the process alive until it is answered (a CLI awaiting a hash).
      worker.ref();
      worker.postMessage(pending.job);
    }
  }

  #start(): Worker {
    const worker = new Worker(this.#script, { name: 'argon2' });
    worker.on('message', (reply: Argon2Reply) => {
      const pending = this.#busy.get(worker);
      this.#busy.delete(worker);
      worker.unref();
      this.#idle.push(worker);
      if (pending) {
        if (reply.ok) pending.resolve(reply.value);
        else pending.reject(new Error(reply.message));
      }
      this.#dispatch();
    });
    // A thread that dies (out of memory, terminated) fails its job; the next job starts another.
    let failure = 'the argon2 thread stopped before answering';
    worker.on('error', (err: unknown) => {
      failure = `the argon2 thread failed: ${err instanceof Error ? err.message : String(err)}`;
    });
    worker.on('exit', () => {
      const index = this.#idle.indexOf(worker);
      if (index >= 0) this.#idle.splice(index, 1);
      const pending = this.#busy.get(worker);
      this.#busy.delete(worker);
      pending?.reject(new Error(failure));
      this.#dispatch();
    });
    return worker;
  }
}

let shared: Argon2Threads | undefined;

/**
 * The process's argon2 threads: one per core.
 *
 * @example
 * const passwordHash = await argon2Threads().hash(password, ARGON2_OPTIONS);
 */
export function argon2Threads(): Argon2Threads {
  return (shared ??= new Argon2Threads(availableParallelism()));
}
