import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Running {
  output: () => string;
  /** The origin the banner tells clients to use: must be the issuer discovery reports. */
  issuer: string;
  urls: { gateway: string; auth: string; users: string };
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs `node apps/platform/src/main.ts` (what `npm start` runs) on free ports in `dataDir`. */
async function start(dataDir: string, env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, ['apps/platform/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      TESSERA_DATA_DIR: dataDir,
      GATEWAY_PORT: '0',
      AUTH_PORT: '0',
      USERS_PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
      REDIS_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!out.includes('Press Ctrl-C to stop.')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`platform did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = (label: string) => new RegExp(`${label}\\s+(http://\\S+)`).exec(out)?.[1] ?? '';
  return {
    output: () => out,
    issuer: url('public origin \\(issuer\\)'),
    urls: {
      gateway: url('gateway listening on'),
      auth: url('auth service'),
      users: url('users service'),
    },
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-platform-'));
  dirs.push(dir);
  return dir;
}

describe('npm start (the all-in-one platform)', () => {
  it('starts three services on embedded PostgreSQL, prints the admin password and demo secret once, and keeps data across restarts', async () => {
    const dataDir = await tempDir();
    const first = await start(dataDir);
    try {
      const password = /password \(shown once\): (\S+)/.exec(first.output())?.[1];
      const secret = /demo-service client secret \(shown once\): (\S+)/.exec(first.output())?.[1];
      expect(password).toBeDefined();
      expect(secret).toBeDefined();
      for (const base of Object.values(first.urls)) {
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status, base).toBe(200);
      }
      const discovery = await fetch(`${first.urls.gateway}/.well-known/openid-configuration`);
      expect(((await discovery.json()) as { issuer: string }).issuer).toBe('http://localhost:8080');
      expect(first.issuer).toBe('http://localhost:8080');
      const token = await fetch(`${first.urls.gateway}/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`demo-service:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=users:read',
      });
      expect(token.status).toBe(200);
      const { access_token } = (await token.json()) as { access_token: string };
      const users = await fetch(`${first.urls.gateway}/v1/users`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(users.status).toBe(200);
      expect(
        ((await users.json()) as { items: Array<{ email: string }> }).items.map((u) => u.email),
      ).toContain('admin@example.com');
      expect((await stat(path.join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);
    } finally {
      expect(await first.stop('SIGTERM')).toBe(0);
    }
    // Second start: same data, no new secrets, and the example seed file applied (twice = idempotent).
    const seedEnv = {
      TESSERA_SEED: path.join(root, 'docs/seed.example.json'),
      TESSERA_DEMO_SERVICE_SECRET: 'demo-service-secret-for-tests',
    };
    await (await start(dataDir, seedEnv)).stop();
    const second = await start(dataDir, seedEnv);
    try {
      expect(second.output()).not.toContain('password (shown once)');
      expect(second.output()).not.toContain('demo-service client secret');
      expect((await fetch(`${second.urls.gateway}/readyz`)).status).toBe(200);
      const token = await fetch(`${second.urls.gateway}/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('demo-service:demo-service-secret-for-tests').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=users:read',
      });
      const { access_token } = (await token.json()) as { access_token: string };
      const users = await fetch(`${second.urls.gateway}/v1/users?email_prefix=alice`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(((await users.json()) as { items: Array<{ email: string }> }).items.map((u) => u.email)).toEqual(
        ['alice@acme.example'],
      );
    } finally {
      expect(await second.stop('SIGINT')).toBe(0);
    }
  }, 120_000);

  it('refuses a second process on the same embedded data directory', async () => {
    const dataDir = await tempDir();
    const first = await start(dataDir, { TESSERA_ADMIN_PASSWORD: 'a-long-admin-passphrase' });
    try {
      expect(first.output()).toContain('created with TESSERA_ADMIN_PASSWORD');
      const second = spawnSync(process.execPath, ['apps/platform/src/main.ts'], {
        cwd: root,
        env: {
          ...process.env,
          TESSERA_DATA_DIR: dataDir,
          GATEWAY_PORT: '0',
          AUTH_PORT: '0',
          USERS_PORT: '0',
          DATABASE_URL: '',
          REDIS_URL: '',
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toContain('is in use by process');
    } finally {
      await first.stop();
    }
  }, 120_000);

  it('stops with exit code 1 and one line naming a bad variable', () => {
    const result = spawnSync(process.execPath, ['apps/platform/src/main.ts'], {
      cwd: root,
      env: { ...process.env, GATEWAY_PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('config: GATEWAY_PORT must be an integer, got "eighty"');
  });

  // The Node version check (scripts/check-node.cjs) is tested in test/check-node.test.ts.
});
