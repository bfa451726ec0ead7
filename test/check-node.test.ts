/**
 * scripts/check-node.cjs, which every npm script runs first: on Node < 22 it stops with exit code
 * 1 and one line naming the version needed. Its decision is unit-tested on version strings (always
 * runs); the script itself is also run on an old Node binary when this machine has one.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const { nodeVersionProblem } = createRequire(import.meta.url)('../scripts/check-node.cjs') as {
  nodeVersionProblem: (version: string) => string | undefined;
};

const EXPECTED = (version: string) =>
  `Tessera needs Node.js >= 22 (found ${version}); run \`source scripts/use-node.sh\` or install Node 24 LTS.`;

/** The first Node binary on this machine older than 22, if any (the one running the tests is not). */
function findOldNode(): { path: string; version: string } | undefined {
  const candidates = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node', '/opt/node20/bin/node'];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const version = probe.status === 0 ? probe.stdout.trim() : '';
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (major > 0 && major < 22) return { path: candidate, version };
  }
  return undefined;
}

describe('the Node version check (scripts/check-node.cjs)', () => {
  it('refuses Node 20 and older with one line naming >= 22 and the version found', () => {
    for (const version of ['v20.20.2', 'v20.0.0', 'v18.19.1', 'v21.7.3']) {
      const problem = nodeVersionProblem(version);
      expect(problem, version).toBe(EXPECTED(version));
      expect(problem?.split('\n'), version).toHaveLength(1);
      expect(problem, version).toContain('>= 22');
    }
  });

  it('accepts Node 22, 24 and later', () => {
    for (const version of ['v22.0.0', 'v22.12.0', 'v24.0.0', 'v24.22.3', 'v25.1.0', 'v30.0.0']) {
      expect(nodeVersionProblem(version), version).toBeUndefined();
    }
    expect(nodeVersionProblem(process.version)).toBeUndefined();
  });

  it('as a script, passes silently on the Node running the tests', () => {
    const result = spawnSync(process.execPath, ['scripts/check-node.cjs'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('as a script on an old Node binary, exits 1 with the one line', (context) => {
    const old = findOldNode();
    if (!old) {
      context.skip(
        'no Node.js < 22 binary on this machine (looked in /usr/bin, /usr/local/bin, /bin, /opt/node20/bin); the version logic is covered by the unit tests above',
      );
      return;
    }
    const result = spawnSync(old.path, ['scripts/check-node.cjs'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([EXPECTED(old.version)]);
  });
});
