import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { verify as verifyOnLibuvPool } from '@node-rs/argon2';
import { afterAll, describe, expect, it } from 'vitest';

const scratch = mkdtempSync(path.join(tmpdir(), 'argon2-threads-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `source` as an ES module in a new Node process (a file: workers do not inherit `-e`). */
function runModule(
  name: string,
  source: string,
  options: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): string {
  const file = path.join(scratch, `${name}.mjs`);
  writeFileSync(file, source);
  return execFileSync(process.execPath, [file], { encoding: 'utf8', ...options });
}
import { Argon2Threads } from './argon2-threads.ts';

const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

describe('Argon2Threads', () => {
  it('hashes argon2id and verifies on its own threads, never more than its size', async () => {
    const threads = new Argon2Threads(2);
    const passwordHash = await threads.hash('correct horse battery staple', OPTIONS);
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    // The hash is argon2's own: the library's pool functions accept it.
    await expect(verifyOnLibuvPool(passwordHash, 'correct horse battery staple')).resolves.toBe(true);
    const answers = await Promise.all(
      ['correct horse battery staple', 'wrong', 'correct horse battery staple', 'also wrong', 'x'].map(
        (password) => threads.verify(passwordHash, password),
      ),
    );
    expect(answers).toEqual([true, false, true, false, false]);
    expect(threads.threads).toBe(2);
  });

  it('rejects a malformed hash and keeps serving', async () => {
    const threads = new Argon2Threads(1);
    await expect(threads.verify('not-a-phc-string', 'password')).rejects.toThrow();
    const passwordHash = await threads.hash('still works', OPTIONS);
    await expect(threads.verify(passwordHash, 'still works')).resolves.toBe(true);
  });

  it('fails the job of a thread that dies and starts another for the next job', async () => {
    // A stand-in thread that dies on the password "die" and answers everything else.
    const script = path.join(scratch, 'dying-thread.mjs');
    writeFileSync(
      script,
      `import { parentPort } from 'node:worker_threads';
       parentPort.on('message', (job) => {
         if (job.password === 'die') process.exit(3);
         parentPort.postMessage({ ok: true, value: 'answered ' + job.password });
       });`,
    );
    const threads = new Argon2Threads(1, { script: pathToFileURL(script) });
    await expect(threads.hash('first', OPTIONS)).resolves.toBe('answered first');
    await expect(threads.hash('die', OPTIONS)).rejects.toThrow(/stopped before answering/);
    await expect(threads.hash('after', OPTIONS)).resolves.toBe('answered after');
    expect(threads.threads).toBe(1);
  });

  it('refuses a size below one', () => {
    expect(() => new Argon2Threads(0)).toThrow(TypeError);
  });

  // The reason the threads exist: with libuv's pool sized to 1 (2 cores, thread-pool.ts), argon2 on
  // that pool would make a token signature wait behind every queued sign-in.
  it('leaves libuv’s thread pool free: a signature queued after six verifications finishes first', () => {
    const module = fileURLToPath(new URL('./argon2-threads.ts', import.meta.url));
    const script = `
      const { Argon2Threads } = await import(${JSON.stringify(module)});
      const { generateKeyPairSync, sign } = await import('node:crypto');
      const threads = new Argon2Threads(2);
      const options = ${JSON.stringify(OPTIONS)};
      const stored = await threads.hash('pw', options);
      const order = [];
      const verifications = Array.from({ length: 6 }, (_, i) => threads.verify(stored, 'pw').then(() => order.push('verify')));
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const signature = new Promise((resolve) => sign('sha256', Buffer.from('x'), privateKey, () => { order.push('sign'); resolve(); }));
      await Promise.all([...verifications, signature]);
      process.stdout.write(JSON.stringify(order));`;
    const env = { ...process.env, UV_THREADPOOL_SIZE: '1' };
    const order = JSON.parse(runModule('queue', script, { env })) as string[];
    expect(order.indexOf('sign')).toBeLessThan(order.length - 1);
    expect(order.indexOf('sign')).toBeLessThanOrEqual(2);
  });

  it('does not keep an idle process alive, and keeps it alive while a job runs', () => {
    const module = fileURLToPath(new URL('./argon2-threads.ts', import.meta.url));
    // No await at the top: the process would end at once if the pending job did not hold it.
    const script = `
      import(${JSON.stringify(module)}).then(({ Argon2Threads }) => {
        new Argon2Threads(1).hash('pw', ${JSON.stringify(OPTIONS)}).then((h) => process.stdout.write(h.slice(0, 9)));
      });`;
    const started = Date.now();
    const out = runModule('alive', script, { timeout: 20_000 });
    expect(out).toBe('$argon2id');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
