import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGatewayApp, type Gateway, type GatewayConfig } from './app.ts';
import { defaultGatewayConfig } from './config.ts';
import { quietLogger, startUpstream, type Upstream } from './test-upstream.ts';

const servers: Upstream[] = [];
const gateways: Gateway[] = [];

async function upstream(name: string): Promise<Upstream> {
  const state = await startUpstream(name);
  servers.push(state);
  return state;
}

/** A gateway listening on loopback; returns its base URL. */
async function gateway(config: Partial<GatewayConfig> & Pick<GatewayConfig, 'pools'>): Promise<string> {
  const gw = await buildGatewayApp({
    config: defaultGatewayConfig({ healthIntervalMs: 60_000, ...config }),
    logger: quietLogger,
  });
  gateways.push(gw);
  await gw.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const gw of gateways.splice(0)) await gw.app.close();
  for (const s of servers.splice(0)) await s.close();
});

async function get(base: string, path = '/v1/users'): Promise<number> {
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
  return res.status;
}

async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  return res.text();
}

/** The values of the samples of `name` whose labels include `labels` (Prometheus text format). */
function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) values.push(Number(m[3]));
  }
  return values;
}

/** The one sample of `name` with `labels`, 0 when the series does not exist yet. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = samples(text, name, labels);
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0] ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('circuit breaker', () => {
  const openMs = 1_000;
  const breaker = { failureThreshold: 3, openMs };

  it('opens after three connection failures, tries nothing while open, then lets exactly one probe through and closes on its success', async () => {
    const users = await upstream('users');
    users.mode = 'reset';
    const base = await gateway({ pools: { users: { blue: [users.url] } }, breaker });
    const instance = { upstream: 'users', instance: users.url };

    for (let n = 0; n < 3; n++) expect(await get(base)).toBe(503);
    const openedAt = Date.now();
    expect(users.hits.length).toBe(3);
    let metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_circuit_state', instance)).toBe(2);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'connection' })).toBe(
      3,
    );

    // Open: answered 503 at once, no connection attempt to the instance.
    users.mode = 'ok';
    for (let n = 0; n < 5; n++) expect(await get(base)).toBe(503);
    expect(Date.now() - openedAt, 'the requests above ran while the circuit was open').toBeLessThan(openMs);
    expect(users.hits.length).toBe(3);
    metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'connection' })).toBe(
      3,
    );
    expect(value(metrics, 'tessera_upstream_circuit_state', instance)).toBe(2);

    // Half-open: of concurrent requests, exactly one (the probe) reaches the instance.
    await sleep(openMs - (Date.now() - openedAt) + 50);
    users.delayMs = 300;
    const probing = Promise.all(Array.from({ length: 5 }, () => get(base)));
    await sleep(100);
    // While the probe is in flight the circuit reads half-open.
    expect(value(await scrape(base), 'tessera_upstream_circuit_state', instance)).toBe(1);
    const statuses = await probing;
    expect(users.hits.length).toBe(4);
    expect(statuses.toSorted((x, y) => x - y)).toEqual([200, 503, 503, 503, 503]);

    // The probe succeeded: closed, and traffic flows again.
    metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_circuit_state', instance)).toBe(0);
    users.delayMs = 0;
    for (let n = 0; n < 3; n++) expect(await get(base)).toBe(200);
    expect(users.hits.length).toBe(7);
  });

  it('re-opens when the probe fails, for another openMs without connection attempts', async () => {
    const users = await upstream('users');
    users.mode = 'reset';
    const base = await gateway({ pools: { users: { blue: [users.url] } }, breaker });
    const instance = { upstream: 'users', instance: users.url };
    for (let n = 0; n < 3; n++) await get(base);
    await sleep(openMs + 50);

    const statuses = await Promise.all(Array.from({ length: 4 }, () => get(base)));
    const probeFailedAt = Date.now();
    expect(statuses).toEqual([503, 503, 503, 503]);
    expect(users.hits.length).toBe(4);
    let metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'connection' })).toBe(
      4,
    );
    expect(value(metrics, 'tessera_upstream_circuit_state', instance)).toBe(2);

    for (let n = 0; n < 3; n++) expect(await get(base)).toBe(503);
    expect(Date.now() - probeFailedAt).toBeLessThan(openMs);
    expect(users.hits.length).toBe(4);
    metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'connection' })).toBe(
      4,
    );
  });
});

describe('retries', () => {
  it('neither retries nor counts a retry when the pool has no other instance', async () => {
    const users = await upstream('users');
    users.mode = 'reset';
    const base = await gateway({ pools: { users: { blue: [users.url] } } });
    expect(await get(base)).toBe(503);
    expect(users.hits.length).toBe(1);
    const metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'connection' })).toBe(
      1,
    );
    expect(value(metrics, 'tessera_upstream_retries_total', { upstream: 'users' })).toBe(0);
    expect(
      value(metrics, 'tessera_upstream_requests_total', { upstream: 'users', status: 'unavailable' }),
    ).toBe(1);
  });

  it('counts one retry per GET moved to the other instance, none once the failing one is open', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    a.mode = 'reset';
    const base = await gateway({ pools: { users: { blue: [a.url, b.url] } } });
    for (let n = 0; n < 8; n++) expect(await get(base)).toBe(200);
    // Three failures open a's circuit; each of them was retried once on b.
    expect(a.hits.length).toBe(3);
    expect(b.hits.length).toBe(8);
    const metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_retries_total', { upstream: 'users' })).toBe(3);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'connection' })).toBe(
      3,
    );
    expect(value(metrics, 'tessera_upstream_circuit_state', { upstream: 'users', instance: a.url })).toBe(2);
  });
});

describe('upstream and route metrics', () => {
  it('counts an upstream slower than the timeout as a timeout error, answered 504', async () => {
    const users = await upstream('users');
    users.delayMs = 1_500;
    const base = await gateway({ pools: { users: { blue: [users.url] } }, timeoutMs: 300 });
    expect(await get(base)).toBe(504);
    const metrics = await scrape(base);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'timeout' })).toBe(1);
    expect(value(metrics, 'tessera_upstream_errors_total', { upstream: 'users', kind: 'connection' })).toBe(
      0,
    );
    expect(value(metrics, 'tessera_upstream_requests_total', { upstream: 'users', status: 'timeout' })).toBe(
      1,
    );
    // The attempt's latency is observed up to the timeout: above 0.25 s, within 1 s.
    const bucket = (le: string) =>
      value(metrics, 'tessera_upstream_request_duration_seconds_bucket', { upstream: 'users', le });
    expect(bucket('0.25')).toBe(0);
    expect(bucket('1')).toBe(1);
    expect(
      value(metrics, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/v1/users',
        status_code: '504',
      }),
    ).toBe(1);
  });

  it('records upstream latency per pool and request duration per route table prefix', async () => {
    const auth = await upstream('auth');
    const users = await upstream('users');
    users.delayMs = 30;
    const base = await gateway({ pools: { auth: { blue: [auth.url] }, users: { blue: [users.url] } } });
    for (let n = 0; n < 3; n++) expect(await get(base, `/v1/users/${n}`)).toBe(200);
    for (let n = 0; n < 2; n++) expect(await get(base, '/oauth2/token')).toBe(200);
    const metrics = await scrape(base);

    const upstreamCount = (upstreamName: string) =>
      value(metrics, 'tessera_upstream_request_duration_seconds_count', { upstream: upstreamName });
    expect(upstreamCount('users')).toBe(3);
    expect(upstreamCount('auth')).toBe(2);
    expect(
      value(metrics, 'tessera_upstream_request_duration_seconds_bucket', { upstream: 'users', le: '+Inf' }),
    ).toBe(3);
    // Every users attempt waited for the upstream's 30 ms.
    expect(
      value(metrics, 'tessera_upstream_request_duration_seconds_bucket', { upstream: 'users', le: '0.025' }),
    ).toBe(0);
    expect(
      value(metrics, 'tessera_upstream_request_duration_seconds_sum', { upstream: 'users' }),
    ).toBeGreaterThan(0.09);

    const routeCount = (route: string) =>
      value(metrics, 'http_request_duration_seconds_count', { method: 'GET', route, status_code: '200' });
    expect(routeCount('/v1/users')).toBe(3);
    expect(routeCount('/oauth2/token')).toBe(2);
    expect(
      value(metrics, 'http_request_duration_seconds_bucket', {
        method: 'GET',
        route: '/v1/users',
        status_code: '200',
        le: '0.025',
      }),
    ).toBe(0);
    expect(samples(metrics, 'http_request_duration_seconds_count', { route: '/v1/users/0' })).toEqual([]);
  });
});
