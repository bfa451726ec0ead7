import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ENTRY_POINTS = [
  '../../../apps/platform/src/main.ts',
  '../../../services/auth/src/main.ts',
  '../../../services/users/src/main.ts',
  '../../../services/gateway/src/main.ts',
];

describe('entry points', () => {
  // libuv reads UV_THREADPOOL_SIZE once, when its pool starts: a later import would be too late
  // for whatever an earlier module started (thread-pool.test.ts shows the sizing itself).
  it.each(ENTRY_POINTS)('%s sizes the thread pool in its first import', (file) => {
    const source = readFileSync(new URL(file, import.meta.url), 'utf8');
    const firstImport = /^import\s[^;]*;/m.exec(source)?.[0];
    expect(firstImport).toBe("import '@tessera/kernel/size-thread-pool';");
  });
});
