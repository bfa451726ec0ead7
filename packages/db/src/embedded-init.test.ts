import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeConnection, openConnection, rawQuery } from './connection.ts';
import { initialiseDataDirInChild, isInitialisedDataDir } from './embedded-init.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-embedded-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('embedded data directory', () => {
  it('is created by a child process on first open, and the data survives a reopen', async () => {
    const dataDir = path.join(tempDir(), 'pg');
    expect(isInitialisedDataDir(dataDir)).toBe(false);
    const first = await openConnection({ dataDir });
    expect(isInitialisedDataDir(dataDir)).toBe(true);
    await rawQuery(first, 'create table kept (v text)');
    await rawQuery(first, "insert into kept values ('still here')");
    await closeConnection(first);

    const second = await openConnection({ dataDir });
    expect(await rawQuery<{ v: string }>(second, 'select v from kept')).toEqual([{ v: 'still here' }]);
    expect(await rawQuery<{ shared_buffers: string }>(second, 'show shared_buffers')).toEqual([
      { shared_buffers: '16MB' },
    ]);
    await closeConnection(second);
  }, 60_000);

  it('reports a failed initialisation with the directory, not a stack from the child', async () => {
    const blocker = path.join(tempDir(), 'a-file');
    writeFileSync(blocker, 'not a directory');
    await expect(initialiseDataDirInChild(path.join(blocker, 'pg'))).rejects.toThrow(
      /could not initialise the embedded database in .*a-file\/pg \(exit [1-9]/,
    );
  }, 60_000);
});
