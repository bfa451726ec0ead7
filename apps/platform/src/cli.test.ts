import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@tessera/db/testing';

const root = fileURLToPath(new URL('../../..', import.meta.url));
let dataDir: string;
let database: { url: string; drop: () => Promise<void> };
// Real PostgreSQL keeps each CLI process start short; npm start's own test covers the embedded database.
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tessera-cli-'));
  database = await createTestDatabase();
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await database.drop();
});

function tessera(...args: string[]) {
  return spawnSync(process.execPath, ['apps/platform/src/cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, TESSERA_DATA_DIR: dataDir, DATABASE_URL: database.url, REDIS_URL: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('npm run tessera', () => {
  it('creates, lists, rotates the secret of and deletes a client, and rotates keys', () => {
    const created = tessera(
      'clients',
      'create',
      '--name',
      'billing',
      '--type',
      'confidential',
      '--grant',
      'client_credentials',
      '--scope',
      'users:read',
    );
    expect(created.status, created.stderr).toBe(0);
    const clientId = /"clientId": "([^"]+)"/.exec(created.stdout)?.[1];
    const secret = /client secret \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    expect(clientId).toBeDefined();
    expect(secret).toHaveLength(43);
    expect(tessera('clients', 'list').stdout).toContain(clientId);
    const rotated = tessera('clients', 'rotate-secret', clientId!);
    const newSecret = /\(shown once\): (\S+)/.exec(rotated.stdout)?.[1];
    expect(newSecret).toBeDefined();
    expect(newSecret).not.toBe(secret);
    expect(tessera('clients', 'delete', clientId!).status).toBe(0);
    expect(tessera('clients', 'list').stdout).not.toContain(clientId);
    expect(tessera('clients', 'delete', clientId!).status).toBe(1);
    const keys = tessera('keys', 'rotate');
    expect(keys.status, keys.stderr).toBe(0);
    expect(JSON.parse(keys.stdout)).toMatchObject({ current: { state: 'current' }, next: { state: 'next' } });
  }, 120_000);

  it('prints usage and exits 2 for an unknown command', () => {
    const result = tessera('frobnicate');
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('usage: npm run tessera');
  });
});
