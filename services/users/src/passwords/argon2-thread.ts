/**
 * One password-hashing thread (see `argon2-threads.ts`): runs each job it is sent with
 * `@node-rs/argon2`'s synchronous functions and answers with the result or the error's message.
 */
import { parentPort } from 'node:worker_threads';
import { hashSync, verifySync } from '@node-rs/argon2';
import type { Argon2Job, Argon2Reply } from './argon2-threads.ts';

function run(job: Argon2Job): string | boolean {
  return job.op === 'hash' ? hashSync(job.password, job.options) : verifySync(job.passwordHash, job.password);
}

parentPort?.on('message', (job: Argon2Job) => {
  let reply: Argon2Reply;
  try {
    reply = { ok: true, value: run(job) };
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : 'argon2 failed' };
  }
  parentPort?.postMessage(reply);
});
