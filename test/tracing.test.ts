/**
 * One distributed trace across gateway → auth → users: the whole platform runs with tracing
 * exported to an in-process OTLP/HTTP receiver on loopback. An authorization-code + PKCE flow
 * (every request carrying the same W3C `traceparent`, as a browser's tracing would) and a
 * `/v1/users` call through the gateway must each form one trace with spans from every service
 * involved, correct parent/child links, SQL and Redis spans inside, and no secret anywhere.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@tessera/telemetry/testing';
import { exchangeCode, signIn, startTestPlatform, type TestPlatform } from './support/platform.ts';

const SPAN_KIND = { server: 2, client: 3 } as const;

const traceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
};

let receiver: OtlpReceiver;
let t: TestPlatform | undefined;
const flow = traceparent();
const listCall = traceparent();
/** Every secret the flow handles; none may appear in any span. */
const secrets: string[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  t = await startTestPlatform({
    redisDatabase: 3,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    },
  });
  const headers = { traceparent: flow.header };
  const signedIn = await signIn(t, { headers });
  const tokens = await exchangeCode(t, signedIn, headers);
  secrets.push(...signedIn.secrets, tokens.access_token, tokens.id_token, tokens.refresh_token ?? '');
  const refreshed = await request(t.gatewayUrl)
    .post('/oauth2/token')
    .set(headers)
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'demo-spa' });
  expect(refreshed.status).toBe(200);
  const rotated = refreshed.body as { access_token: string; refresh_token: string };
  secrets.push(rotated.access_token, rotated.refresh_token);
  const list = await request(t.gatewayUrl)
    .get('/v1/users?limit=5')
    .set('authorization', `Bearer ${tokens.access_token}`)
    .set('traceparent', listCall.header);
  expect(list.status).toBe(200);
  // Closing flushes every service's batch span processor.
  await t.close();
  t = undefined;
}, 90_000);

afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

const inTrace = (traceId: string) => receiver.spans().filter((s) => s.traceId === traceId);
const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));

/** The span's ancestors, nearest first (stops at the trace's remote parent). */
function ancestors(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const index = byId(spans);
  const out: ReceivedSpan[] = [];
  for (
    let parent = index.get(span.parentSpanId ?? '');
    parent;
    parent = index.get(parent.parentSpanId ?? '')
  ) {
    out.push(parent);
  }
  return out;
}

function expectWellFormed(spans: ReceivedSpan[], remoteParent: string): void {
  const ids = new Set(spans.map((s) => s.spanId));
  expect(ids.size).toBe(spans.length);
  for (const span of spans) {
    // Every span hangs off another span of the same trace, except the gateway's server spans,
    // whose parent is the caller's (the traceparent the test sent).
    if (span.parentSpanId === remoteParent) {
      expect(span).toMatchObject({ service: 'tessera-gateway', kind: SPAN_KIND.server });
    } else {
      expect(ids.has(span.parentSpanId ?? ''), `${span.service} ${span.name} has a missing parent`).toBe(
        true,
      );
    }
  }
}

describe('distributed tracing gateway → auth → users', () => {
  it('puts the whole authorization-code + PKCE flow in one trace with spans from every service', () => {
    const spans = inTrace(flow.traceId);
    expectWellFormed(spans, flow.parentId);
    expect(new Set(spans.map((s) => s.service))).toEqual(
      new Set(['tessera-gateway', 'tessera-auth', 'tessera-users']),
    );

    // The credential check: users' server span ← auth's client span ← auth's POST /login ← the
    // gateway's upstream call ← the gateway's POST /login.
    const verify = spans.find(
      (s) => s.service === 'tessera-users' && s.name === 'POST /internal/credentials/verify',
    );
    expect(verify?.kind).toBe(SPAN_KIND.server);
    const chain = ancestors(verify!, spans).map((s) => `${s.service} ${s.kind} ${s.name}`);
    expect(chain).toEqual([
      `tessera-auth ${SPAN_KIND.client} POST`,
      `tessera-auth ${SPAN_KIND.server} POST /login`,
      `tessera-gateway ${SPAN_KIND.client} POST`,
      `tessera-gateway ${SPAN_KIND.server} POST /login`,
    ]);
    const passwordVerify = spans.find((s) => s.name === 'password.verify');
    expect(passwordVerify?.parentSpanId).toBe(verify!.spanId);

    // SQL inside the users service's request, with statement text and no parameter values.
    const sql = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    const usersSql = sql.find((s) => s.service === 'tessera-users' && ancestors(s, spans).includes(verify!));
    expect(usersSql?.attributes['db.query.text']).toMatch(/select/i);
    expect(sql.some((s) => s.service === 'tessera-auth')).toBe(true);

    // Redis: the gateway's rate-limit script and the auth service's cache/counters.
    const redis = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
    expect(redis.some((s) => s.service === 'tessera-gateway')).toBe(true);
    expect(redis.some((s) => s.service === 'tessera-auth')).toBe(true);
    expect(spans.some((s) => s.name === 'ratelimit.decide')).toBe(true);

    // The business steps of the token request.
    const tokenServer = spans.find((s) => s.service === 'tessera-auth' && s.name === 'POST /oauth2/token');
    expect(tokenServer).toBeDefined();
    const below = spans.filter((s) => ancestors(s, spans).includes(tokenServer!)).map((s) => s.name);
    expect(below).toContain('token.sign');
    expect(spans.some((s) => s.name === 'authz.load' && s.attributes['tessera.cache.level'])).toBe(true);

    // The refresh: its rotation is one span with the rotating statement inside.
    const rotate = spans.find((s) => s.name === 'refresh.rotate');
    expect(rotate?.service).toBe('tessera-auth');
    expect(rotate?.attributes['tessera.refresh.reuse_detected']).toBe(false);
    expect(
      spans.some((s) => s.parentSpanId === rotate!.spanId && s.attributes['db.system.name'] === 'postgresql'),
    ).toBe(true);
  });

  it('puts a /v1/users call in one trace: gateway → users with its SQL', () => {
    const spans = inTrace(listCall.traceId);
    expectWellFormed(spans, listCall.parentId);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['tessera-gateway', 'tessera-users']));
    const list = spans.find((s) => s.service === 'tessera-users' && s.name === 'GET /v1/users');
    expect(list?.attributes['http.response.status_code']).toBe(200);
    expect(ancestors(list!, spans).map((s) => `${s.service} ${s.name}`)).toEqual([
      'tessera-gateway GET',
      'tessera-gateway GET /v1/users',
    ]);
    expect(
      spans.some(
        (s) => s.attributes['db.system.name'] === 'postgresql' && ancestors(s, spans).includes(list!),
      ),
    ).toBe(true);
  });

  it('records no secret in any span: no passwords, tokens, codes, cookies or authorization headers', () => {
    const everything = JSON.stringify(receiver.spans());
    expect(receiver.spans().length).toBeGreaterThan(20);
    for (const secret of secrets.filter((x) => x.length >= 8)) expect(everything).not.toContain(secret);
    expect(everything.toLowerCase()).not.toContain('bearer ');
    for (const span of receiver.spans()) {
      for (const key of Object.keys(span.attributes)) {
        expect(key).not.toMatch(/authorization|cookie|password|token|secret/i);
      }
    }
  });
});
