import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@tessera/kernel';
import { gatewayConfigFromEnv, gatewayConfigSpec } from './config.ts';
import { DEFAULT_ROUTES } from './routes.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-gateway-config-'));
let files = 0;

/** Writes `content` as a GATEWAY_CONFIG file and builds the config from it (plus `env`). */
function fromFile(content: unknown, env: Record<string, string> = {}) {
  const path = join(dir, `gateway-${++files}.json`);
  writeFileSync(path, JSON.stringify(content));
  return gatewayConfigFromEnv(loadConfig(gatewayConfigSpec, { GATEWAY_CONFIG: path, ...env }));
}

/** The ConfigError `build` throws (fails the test when it throws nothing or something else). */
function configError(build: () => unknown): ConfigError {
  try {
    build();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const pools = {
  auth: { blue: ['http://127.0.0.1:8081'] },
  users: { blue: ['http://127.0.0.1:8082'] },
  billing: { blue: ['http://127.0.0.1:8090'] },
};

describe('gateway config from the environment', () => {
  it('refreshes registered client origins every 30 s unless told otherwise', () => {
    expect(gatewayConfigFromEnv(loadConfig(gatewayConfigSpec, {})).clientOriginsRefreshMs).toBe(30_000);
    const off = loadConfig(gatewayConfigSpec, { GATEWAY_CLIENT_ORIGINS_REFRESH_MS: '0' });
    expect(gatewayConfigFromEnv(off).clientOriginsRefreshMs).toBe(0);
  });

  it('names the variable when the refresh interval is out of range', () => {
    expect(() => loadConfig(gatewayConfigSpec, { GATEWAY_CLIENT_ORIGINS_REFRESH_MS: '-5' })).toThrow(
      /GATEWAY_CLIENT_ORIGINS_REFRESH_MS/,
    );
    expect(() => loadConfig(gatewayConfigSpec, { GATEWAY_CLIENT_ORIGINS_REFRESH_MS: 'soon' })).toThrow(
      /GATEWAY_CLIENT_ORIGINS_REFRESH_MS/,
    );
  });
});

describe('route table from GATEWAY_CONFIG', () => {
  it('keeps the default table without a routes member', () => {
    expect(fromFile({ pools }).routes).toBe(DEFAULT_ROUTES);
    expect(gatewayConfigFromEnv(loadConfig(gatewayConfigSpec, {})).routes).toBe(DEFAULT_ROUTES);
  });

  it("replaces the table with the file's routes", () => {
    const routes = [
      { prefix: '/v1/billing', pool: 'billing', routeClass: 'api' },
      { prefix: '/oauth2/token', pool: 'auth', routeClass: 'token' },
      { prefix: '/v1/users', pool: 'users', routeClass: 'api' },
    ];
    expect(fromFile({ pools, routes }).routes).toEqual(routes);
  });

  it('refuses a route whose pool is not configured, naming the route and the pool', () => {
    const routes = [{ prefix: '/v1/billing', pool: 'billing', routeClass: 'api' }];
    // Without a pools member the pools come from the environment: auth and users only.
    const err = configError(() => fromFile({ routes }));
    expect(err.variable).toBe('GATEWAY_CONFIG');
    expect(err.message).toBe(
      'config: GATEWAY_CONFIG route "/v1/billing" names pool "billing", which is not in pools',
    );
    expect(fromFile({ pools, routes }).routes).toEqual(routes);
    expect(() => fromFile({ routes: [{ prefix: '/v1/x', pool: 'toString', routeClass: 'api' }] })).toThrow(
      /names pool "toString"/,
    );
  });

  it('refuses the same prefix twice', () => {
    const routes = [
      { prefix: '/v1/users', pool: 'users', routeClass: 'api' },
      { prefix: '/v1/users', pool: 'billing', routeClass: 'api' },
    ];
    expect(configError(() => fromFile({ pools, routes })).message).toBe(
      'config: GATEWAY_CONFIG route "/v1/users" is listed twice',
    );
  });

  it('refuses malformed entries through the file schema', () => {
    const ok = { prefix: '/v1/users', pool: 'users', routeClass: 'api' };
    for (const bad of [
      [{ ...ok, prefix: 'v1/users' }],
      [{ ...ok, prefix: '' }],
      [{ ...ok, prefix: '/v1/users/' }],
      [{ ...ok, prefix: '/v1//users' }],
      [{ ...ok, prefix: '/v1/users?x=1' }],
      [{ ...ok, prefix: '/v1/us\ners' }],
      [{ ...ok, prefix: `/${'a'.repeat(200)}` }],
      [{ ...ok, pool: '' }],
      [{ ...ok, pool: 'p'.repeat(65) }],
      [{ ...ok, routeClass: 'admin' }],
      [{ ...ok, extra: true }],
      [{ prefix: '/v1/users', pool: 'users' }],
      Array.from({ length: 201 }, (_, n) => ({ ...ok, prefix: `/r${n}` })),
      { '/v1/users': 'users' },
    ]) {
      const err = configError(() => fromFile({ pools, routes: bad }));
      expect(err.message, JSON.stringify(bad).slice(0, 80)).toMatch(
        /^config: GATEWAY_CONFIG does not match the gateway config schema/,
      );
    }
    // The bounds themselves are accepted.
    const many = Array.from({ length: 200 }, (_, n) => ({ ...ok, prefix: `/r${n}` }));
    expect(fromFile({ pools, routes: many }).routes).toHaveLength(200);
    const long = { ...ok, prefix: `/${'a'.repeat(199)}` };
    expect(fromFile({ pools, routes: [long] }).routes).toEqual([long]);
  });
});

describe('TLS configuration', () => {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, 'certificate');
  writeFileSync(key, 'key');

  it('refuses a certificate without a key, and a key without a certificate, naming the missing one', () => {
    const onlyCert = configError(() =>
      gatewayConfigFromEnv(loadConfig(gatewayConfigSpec, { TLS_CERT_FILE: cert })),
    );
    expect(onlyCert.variable).toBe('TLS_KEY_FILE');
    expect(onlyCert.message).toBe('config: TLS_KEY_FILE is required when TLS_CERT_FILE is set');
    const onlyKey = configError(() =>
      gatewayConfigFromEnv(loadConfig(gatewayConfigSpec, { TLS_KEY_FILE: key })),
    );
    expect(onlyKey.variable).toBe('TLS_CERT_FILE');
    expect(onlyKey.message).toBe('config: TLS_CERT_FILE is required when TLS_KEY_FILE is set');
  });

  it('serves HTTPS with both files, HTTP with neither', () => {
    const both = gatewayConfigFromEnv(
      loadConfig(gatewayConfigSpec, { TLS_CERT_FILE: cert, TLS_KEY_FILE: key }),
    );
    expect(both.https).toEqual({ cert: Buffer.from('certificate'), key: Buffer.from('key') });
    expect(gatewayConfigFromEnv(loadConfig(gatewayConfigSpec, {})).https).toBeUndefined();
  });

  it('names the variable whose file cannot be read', () => {
    const err = configError(() =>
      gatewayConfigFromEnv(
        loadConfig(gatewayConfigSpec, { TLS_CERT_FILE: join(dir, 'missing.pem'), TLS_KEY_FILE: key }),
      ),
    );
    expect(err.message).toBe('config: TLS_CERT_FILE cannot be read (ENOENT)');
  });

  it('exits 1 with one line naming the variable when the gateway starts with only TLS_CERT_FILE', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, [main], {
      // GATEWAY_PORT=0: should the configuration be accepted, the gateway listens and is killed below.
      env: { PATH: process.env.PATH, TLS_CERT_FILE: cert, GATEWAY_PORT: '0', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(1);
      expect(stderr).toBe('config: TLS_KEY_FILE is required when TLS_CERT_FILE is set\n');
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  }, 15_000);
});
