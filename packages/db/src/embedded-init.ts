import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** PostgreSQL settings for the embedded database, shared by the initialising child and the server. */
export const EMBEDDED_SETTINGS = {
  // The embedded database serves one developer's platform: a small buffer cache keeps the
  // all-in-one process's memory down (PostgreSQL's default is 128 MB).
  postgresqlconf: ['shared_buffers=16MB'],
};

const INIT_SCRIPT = fileURLToPath(new URL('./embedded-init-child.ts', import.meta.url));

/** Whether `dataDir` already holds an initialised PostgreSQL cluster. */
export function isInitialisedDataDir(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/**
 * Creates the embedded cluster in `dataDir` (PostgreSQL's `initdb`) in a short-lived child
 * process. `initdb` is a second WASM module with its own memory; run in the server's process it
 * would leave ~80 MB of allocator pages behind for the process's whole life.
 *
 * @example
 * if (!isInitialisedDataDir(dir)) await initialiseDataDirInChild(dir);
 */
export async function initialiseDataDirInChild(dataDir: string, timeoutMs = 120_000): Promise<void> {
  const child = spawn(process.execPath, [INIT_SCRIPT, dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: timeoutMs,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 4_000) stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  if (code !== 0 || !isInitialisedDataDir(dataDir)) {
    const detail = stderr.trim().split('\n').at(-1) ?? '';
    throw new Error(
      `could not initialise the embedded database in ${dataDir} (exit ${String(code)}) ${detail}`.trim(),
    );
  }
}
