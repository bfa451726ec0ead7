import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import proxyAddr from '@fastify/proxy-addr';
import swagger from '@fastify/swagger';
import {
  extractBearer,
  extractBearerFromRequest,
  sendTokenError,
  TokenError,
  type AccessTokenClaims,
  type TokenVerifier,
} from '@tessera/auth-middleware';
import {
  acceptsHtml,
  AppError,
  applyCors,
  BadRequestError,
  createHttpMetrics,
  createHttpServer,
  sameSecret,
  ServiceUnavailableError,
  type CorsPolicy,
  type HttpServer,
  type Logger,
  type OriginAllowlist,
} from '@tessera/kernel';
import {
  clientSpan,
  disabledTelemetry,
  setServerRoute,
  type ErrorSink,
  type Telemetry,
} from '@tessera/telemetry';
import { fetchClientOrigins, withClientOrigins } from './edge/client-origins.ts';
import { isBrowserPage, sendRefusalPage } from './edge/refusal-page.ts';
import {
  limitHeader,
  memoryRateLimitStore,
  policyHeader,
  redisRateLimitStore,
  type RateLimitCheck,
  type RateLimitPolicy,
  type RateLimitStore,
} from './edge/rate-limit.ts';
import { createGatewayMetrics } from './metrics.ts';
import { describeProxiedRoutes, gatewayOpenApi, OPENAPI_PATH, switchSchema } from './openapi.ts';
import { forwardHeaders, responseHeaders } from './proxy/headers.ts';
import { relay } from './proxy/relay.ts';
import { compileRoutes, type RouteClass, type RouteEntry } from './routes.ts';
import {
  createInstance,
  pickInstance,
  probe,
  recordFailure,
  recordSuccess,
  type BreakerOptions,
  type Color,
  type Instance,
  type UpstreamPool,
} from './upstreams/pool.ts';

/** Instances of one pool: a blue set, an optional green set, and which is active. */
export interface PoolConfig {
  blue: string[];
  green?: string[];
  active?: Color;
}

/** Rate-limit policies per route class (per client IP) and per identity from the token. */
export interface RateLimitConfig {
  perIp: Record<RouteClass, RateLimitPolicy>;
  perClient: RateLimitPolicy;
  perUser: RateLimitPolicy;
  /** When Redis fails: allow (default, counted and logged) or refuse with 503. */
  failOpen: boolean;
}

/** Everything the gateway is configured with (env + optional GATEWAY_CONFIG file). */
export interface GatewayConfig {
  routes: RouteEntry[];
  pools: Record<string, PoolConfig>;
  trustedProxies: string[];
  cors: Record<RouteClass, string[]>;
  rateLimits: RateLimitConfig;
  bodyLimits: Record<RouteClass, number>;
  timeoutMs: number;
  healthIntervalMs: number;
  breaker: BreakerOptions;
  /** Bearer secret for the blue/green admin call (`POST /_gateway/pools/{pool}/switch`); unset = disabled. */
  adminToken?: string | undefined;
  /** Bearer token `/metrics` requires (`METRICS_TOKEN`); unset: open. */
  metricsToken?: string | undefined;
  /**
   * How often the registered browser apps' origins are read from the `auth` pool
   * (`/internal/client-origins`) for the token and OAuth CORS allowlists; default 30 s, 0 = never.
   */
  clientOriginsRefreshMs?: number | undefined;
  https?: { key: string | Buffer; cert: string | Buffer } | undefined;
}

/** What the gateway runs on. */
export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  redis?: Redis | undefined;
  redisKeyPrefix?: string;
  /** Edge token check on /v1/* (the services check again). */
  verifier?: TokenVerifier | undefined;
  /** Tracing: server spans, one CLIENT span per upstream attempt (carrying `traceparent`), rate-limit spans. */
  telemetry?: Telemetry | undefined;
  /** Sentry-compatible sink for error reports, besides the log. */
  errorSink?: ErrorSink | undefined;
}

/** The built gateway: the app plus the operations tests and SIGHUP need. */
export interface Gateway {
  app: HttpServer;
  /** Switches a pool to a set after checking it is healthy; throws when it is not. */
  switchPool(pool: string, target: Color): Promise<void>;
  /** Replaces pools and policies from a new config (SIGHUP). */
  reload(config: GatewayConfig): Promise<void>;
  /** Runs one round of health checks now. */
  checkHealth(): Promise<void>;
  /** Reads the registered browser apps' origins from the auth pool now (also done periodically). */
  refreshClientOrigins(): Promise<void>;
  pools: Map<string, UpstreamPool>;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'EHOSTUNREACH',
]);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

function buildPools(config: GatewayConfig, previous?: Map<string, UpstreamPool>): Map<string, UpstreamPool> {
  const reuse = new Map<string, Instance>();
  for (const pool of previous?.values() ?? [])
    for (const set of Object.values(pool.sets)) for (const i of set) reuse.set(i.url, i);
  const pools = new Map<string, UpstreamPool>();
  for (const [name, pc] of Object.entries(config.pools)) {
    const make = (urls: string[] = []) => urls.map((url) => reuse.get(url) ?? createInstance(url));
    pools.set(name, {
      name,
      sets: { blue: make(pc.blue), green: make(pc.green) },
      active: pc.active ?? 'blue',
      cursor: 0,
    });
  }
  return pools;
}

/**
 * Builds the gateway: the single public origin. Routes by prefix to upstream pools (round robin
 * over healthy instances, active health checks, passive ejection, circuit breakers, one retry of
 * body-less idempotent requests on another instance), rate limits (GCRA, Redis or memory), CORS
 * per route class, security headers, body limits and the edge token check.
 *
 * @example
 * const gateway = await buildGatewayApp({ config: defaultGatewayConfig({...}), logger, redis, verifier });
 * await gateway.app.listen({ host: '127.0.0.1', port: 8080 });
 */
export async function buildGatewayApp(deps: GatewayDeps): Promise<Gateway> {
  let config = deps.config;
  const telemetry = deps.telemetry ?? disabledTelemetry('gateway');
  const httpMetrics = createHttpMetrics({ service: 'gateway' }, { exemplars: telemetry.enabled });
  const metrics = createGatewayMetrics(httpMetrics.registry);
  let pools = buildPools(config);
  let match = compileRoutes(config.routes);
  let cors: CorsPolicies = corsSets(config);
  const store: RateLimitStore = deps.redis
    ? redisRateLimitStore(deps.redis, deps.redisKeyPrefix ?? 'tessera:gateway:rl:')
    : memoryRateLimitStore();
  const log = deps.logger;
  let lastLimiterWarn = 0;
  let trustFn = proxyAddr.compile(config.trustedProxies);
  const trusted = (addr: string) => config.trustedProxies.length > 0 && trustFn(addr, 0);

  const app = createHttpServer({
    name: 'gateway',
    logger: log,
    metrics: httpMetrics,
    cors: false,
    parseJson: false,
    trustProxy: config.trustedProxies.length ? config.trustedProxies : false,
    hsts: Boolean(config.https),
    https: config.https,
    requestTimeoutMs: config.timeoutMs + 5_000,
    metricsToken: config.metricsToken,
    telemetry,
    errorSink: deps.errorSink,
    readiness: [
      {
        name: 'upstreams',
        critical: true,
        check: async () => {
          for (const pool of pools.values()) {
            if (!pool.sets[pool.active].some((i) => i.healthy))
              throw new Error(`no healthy instance in ${pool.name}`);
          }
        },
      },
    ],
  });
  app.server.maxHeadersCount = 100;
  app.removeAllContentTypeParsers();
  // Bodies are forwarded as raw streams, never parsed at the edge.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Registered before the gateway's routes so their schemas land in the document.
  await app.register(swagger, {
    openapi: gatewayOpenApi({
      admin: Boolean(config.adminToken),
      metricsToken: Boolean(config.metricsToken),
    }),
  });

  const updateGauges = () => {
    for (const pool of pools.values()) {
      for (const color of ['blue', 'green'] as const) {
        for (const i of pool.sets[color]) {
          metrics.healthy.set({ upstream: pool.name, instance: i.origin, color }, i.healthy ? 1 : 0);
          metrics.circuit.set(
            { upstream: pool.name, instance: i.origin },
            i.circuit === 'closed' ? 0 : i.circuit === 'half-open' ? 1 : 2,
          );
        }
      }
    }
  };
  const checkHealth = async () => {
    await Promise.all(
      instancesOf(pools).map(
        async (i) => void (i.healthy = await probe(i, Math.min(1_000, config.healthIntervalMs))),
      ),
    );
    updateGauges();
  };
  await checkHealth();
  const healthTimer = setInterval(() => void checkHealth(), config.healthIntervalMs);
  healthTimer.unref();

  // The token and OAuth endpoints also allow the origins of the browser apps registered at auth.
  let registeredOrigins: ReadonlySet<string> = new Set();
  let lastOriginsWarn = 0;
  const refreshClientOrigins = async () => {
    const pool = pools.get('auth');
    if (!pool) return;
    for (const instance of pool.sets[pool.active].filter((i) => i.healthy)) {
      const origins = await fetchClientOrigins(instance, 1_000);
      if (origins) {
        registeredOrigins = origins;
        return;
      }
    }
    if (Date.now() - lastOriginsWarn > 60_000) {
      lastOriginsWarn = Date.now();
      log.warn('gateway: registered client origins could not be read; keeping the last list');
    }
  };
  await refreshClientOrigins();
  const originsRefreshMs = config.clientOriginsRefreshMs ?? 30_000;
  const originsTimer =
    originsRefreshMs > 0 ? setInterval(() => void refreshClientOrigins(), originsRefreshMs) : undefined;
  originsTimer?.unref();

  const rateLimit = async (
    request: FastifyRequest,
    reply: FastifyReply,
    routeClass: RouteClass,
    claims?: AccessTokenClaims,
  ) => {
    const limits = config.rateLimits;
    const checks: RateLimitCheck[] = [{ policy: limits.perIp[routeClass], key: request.ip }];
    if (claims) {
      checks.push({ policy: limits.perClient, key: claims.client_id });
      if (!claims.sub.startsWith('client:')) checks.push({ policy: limits.perUser, key: claims.sub });
    }
    let decision;
    try {
      decision = telemetry.enabled
        ? await telemetry.span(
            'ratelimit.decide',
            { 'tessera.ratelimit.checks': checks.length },
            async (span) => {
              const result = await store.take(checks);
              span.setAttributes({
                'tessera.ratelimit.allowed': result.allowed,
                'tessera.ratelimit.policy': result.policy.name,
              });
              return result;
            },
          )
        : await store.take(checks);
    } catch (err) {
      metrics.rateLimiterErrors.inc({ outcome: limits.failOpen ? 'fail_open' : 'fail_closed' });
      if (Date.now() - lastLimiterWarn > 10_000) {
        lastLimiterWarn = Date.now();
        log.warn(
          { err: { message: (err as Error).message }, failOpen: limits.failOpen },
          'rate limiter unavailable',
        );
      }
      if (limits.failOpen) return true;
      throw new ServiceUnavailableError('rate_limiter_unavailable', 'the rate limiter is unavailable', 1);
    }
    void reply.header('ratelimit-policy', policyHeader(decision)).header('ratelimit', limitHeader(decision));
    if (decision.allowed) return true;
    metrics.rateLimited.inc({ policy: decision.policy.name });
    throw new AppError('rate_limited', 429, 'Too Many Requests', {
      detail: 'too many requests; retry later',
      headers: { 'retry-after': String(decision.retryAfterSeconds) },
    });
  };

  const edgeToken = async (request: FastifyRequest): Promise<AccessTokenClaims | undefined> => {
    if (!deps.verifier) return undefined;
    // Sees every Authorization header (Node keeps only the first in `headers`): several → 400.
    const token = extractBearerFromRequest(request.raw);
    if (!token) throw new TokenError('missing_token', 'an access token is required');
    return deps.verifier.verify(token);
  };

  // A half-open instance is picked only as the circuit's one probe: the gauge says so while it runs.
  const pick = (pool: UpstreamPool, exclude?: Instance) => {
    const picked = pickInstance(pool, config.breaker, Date.now(), exclude);
    if (picked?.circuit === 'half-open')
      metrics.circuit.set({ upstream: pool.name, instance: picked.origin }, 1);
    return picked;
  };

  const forward = async (
    request: FastifyRequest,
    reply: FastifyReply,
    route: RouteEntry,
  ): Promise<FastifyReply> => {
    const pool = pools.get(route.pool);
    if (!pool)
      throw new ServiceUnavailableError('upstream_unavailable', 'no upstream is configured for this route');
    const incoming = request.headers;
    const length = Number(incoming['content-length'] ?? 0);
    const limit = config.bodyLimits[route.routeClass];
    if (length > limit)
      throw new AppError('payload_too_large', 413, 'Content Too Large', {
        detail: `bodies here are limited to ${limit} bytes`,
      });
    const chunked = incoming['transfer-encoding'] !== undefined;
    const hasBody = length > 0 || chunked;
    const peerIp = request.socket.remoteAddress ?? '';
    const headers = forwardHeaders(incoming, {
      requestId: request.id,
      peerIp,
      peerTrusted: trusted(peerIp),
      proto: request.protocol === 'https' ? 'https' : 'http',
      host: incoming.host ?? '',
    });
    // A chunked body announces no length: read it up to the limit first, so a body over it is
    // refused (413) before any upstream sees the request.
    let body: Buffer | IncomingMessage | null = null;
    if (hasBody) {
      try {
        body = chunked ? await readUpTo(request.raw, limit) : request.raw;
      } catch (err) {
        // Our own refusal (413) ends the read too, and leaves the request incomplete: not a departure.
        if (!(err instanceof AppError) && clientGone(request)) return abandon(request, reply);
        throw err;
      }
    }
    const res = reply.raw;
    const target = {
      res,
      // The upstream's status and headers go straight to the client (merged with the edge's own
      // headers); the reply is then hijacked: Fastify's stream piping and header copies are skipped,
      // its onResponse hooks (metrics) still run when the response finishes.
      start: (statusCode: number, upstreamHeaders: Record<string, string | string[] | undefined>) => {
        res.writeHead(statusCode, responseHeaders(upstreamHeaders, reply.getHeaders()));
        reply.hijack();
      },
      onLateError: (err: Error) => {
        metrics.upstreamErrors.inc({ upstream: pool.name, kind: 'body' });
        request.log.warn({ err: { message: err.message } }, 'upstream response body failed');
      },
    };
    let instance = pick(pool);
    for (let attempt = 0; ; attempt++) {
      if (!instance) {
        metrics.upstreamRequests.inc({ upstream: pool.name, status: 'unavailable' });
        throw new ServiceUnavailableError(
          'upstream_unavailable',
          `the ${pool.name} service is unavailable`,
          5,
        );
      }
      const started = performance.now();
      const upstream = instance;
      const send = (attemptHeaders: string[]) =>
        relay(
          upstream.client,
          {
            method: request.method,
            path: request.url,
            headers: attemptHeaders,
            body,
            headersTimeout: config.timeoutMs,
            bodyTimeout: config.timeoutMs,
          },
          target,
        );
      try {
        const status = telemetry.enabled
          ? await clientSpan(
              telemetry,
              request.method,
              {
                'http.request.method': request.method,
                'url.full': upstream.origin + pathOf(request.url),
                'tessera.upstream': pool.name,
              },
              async (span) => {
                // The upstream continues this attempt's span, not the caller's.
                const propagation: Record<string, string> = {};
                telemetry.inject(propagation);
                const code = await send(withHeaders(headers, propagation));
                span.setAttribute('http.response.status_code', code);
                return code;
              },
            )
          : await send(headers);
        metrics.upstreamDuration.observe({ upstream: pool.name }, (performance.now() - started) / 1000);
        if (recordSuccess(instance)) updateGauges();
        metrics.upstreamRequests.inc({ upstream: pool.name, status: String(status) });
        return reply;
      } catch (err) {
        metrics.upstreamDuration.observe({ upstream: pool.name }, (performance.now() - started) / 1000);
        // The client closed its connection while its body was being forwarded: the exchange
        // failed, but not because of the upstream. No connection-error count, no strike on the
        // instance's circuit (three aborted uploads would otherwise cut off a healthy instance),
        // no 5xx report.
        if (hasBody && clientGone(request)) {
          metrics.upstreamRequests.inc({ upstream: pool.name, status: 'client_closed' });
          return abandon(request, reply);
        }
        const code = (err as { code?: string }).code ?? '';
        if (TIMEOUT_ERRORS.has(code)) {
          metrics.upstreamErrors.inc({ upstream: pool.name, kind: 'timeout' });
          metrics.upstreamRequests.inc({ upstream: pool.name, status: 'timeout' });
          throw new AppError('upstream_timeout', 504, 'Gateway Timeout', {
            expose: true,
            detail: `the ${pool.name} service did not answer in time`,
            headers: { 'retry-after': '5' },
          });
        }
        if (!CONNECTION_ERRORS.has(code)) throw err;
        metrics.upstreamErrors.inc({ upstream: pool.name, kind: 'connection' });
        recordFailure(instance, config.breaker, Date.now());
        updateGauges();
        // A request with a body may have been partly sent; only body-less idempotent requests are replayed.
        if (attempt > 0 || hasBody || !IDEMPOTENT.has(request.method)) {
          metrics.upstreamRequests.inc({ upstream: pool.name, status: 'unavailable' });
          throw new ServiceUnavailableError(
            'upstream_unavailable',
            `the ${pool.name} service is unavailable`,
            5,
          );
        }
        // Retried (and counted) only when another instance can take it; otherwise 503 at the loop's top.
        instance = pick(pool, instance);
        if (instance) metrics.retries.inc({ upstream: pool.name });
      }
    }
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0]!;
    if (hasDotSegment(path)) {
      request.metricsRoute = 'unmatched';
      throw new BadRequestError('dot_segment', 'paths must not contain "." or ".." segments');
    }
    const route = match(path);
    // Counted under the table entry's prefix (`/v1/users`), not the catch-all; unknown paths as `unmatched`.
    request.metricsRoute = route ? route.prefix : 'unmatched';
    if (!route) {
      // The gateway's own read-only resources: other methods are 405 (RFC 9110 §15.5.6), not 404.
      if (OWN_READ_PATHS.has(path)) {
        if (request.method === 'OPTIONS') return reply.code(204).header('allow', OWN_READ_ALLOW).send();
        throw new AppError('method_not_allowed', 405, 'Method Not Allowed', {
          detail: `${request.method} is not supported here`,
          headers: { allow: OWN_READ_ALLOW },
        });
      }
      throw new AppError('not_found', 404, 'Not Found', { detail: 'no such resource' });
    }
    if (telemetry.enabled) setServerRoute(request.traceContext, request.method, route.prefix);
    if (applyCors(request, reply, cors[route.routeClass])) return reply;
    let claims: AccessTokenClaims | undefined;
    // A plain OPTIONS asks which methods the resource has (RFC 9110 §9.3.7): the service answers it
    // before any authentication (ADR 0013), so the edge does not ask for a token either.
    if (route.routeClass === 'api' && request.method !== 'OPTIONS') {
      try {
        claims = await edgeToken(request);
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        // A refused token is still charged to the client's address: floods of bad tokens are limited too.
        await rateLimit(request, reply, route.routeClass);
        return sendTokenError(reply, err);
      }
    }
    try {
      await rateLimit(request, reply, route.routeClass, claims);
      return await forward(request, reply, route);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      // The edge's own refusals on an endpoint whose clients read OAuth errors (RFC 6749 §5.2 JSON).
      if (OAUTH_JSON_PATHS.has(path)) {
        if (err.code === 'payload_too_large')
          return sendOAuthRefusal(reply, path, err, 'invalid_request', 'the request body is too large');
        if (err.code === 'rate_limited')
          return sendOAuthRefusal(
            reply,
            path,
            err,
            'temporarily_unavailable',
            'too many requests; retry later',
          );
      }
      // A refusal on a page a person sees, to a browser: a page, not JSON on screen.
      if (isBrowserPage(path, route.routeClass) && acceptsHtml(request))
        return sendRefusalPage(request, reply, err);
      throw err;
    }
  };

  // One catch-all: the route table (not Fastify's router) decides, so a config reload can change it.
  // Hidden from the gateway's document: info.description names the prefixes and their services.
  app.route({ method: [...METHODS], url: '/*', schema: { hide: true }, handler });
  app.route({ method: [...METHODS], url: '/', schema: { hide: true }, handler });

  // The gateway's own document (see OPENAPI_PATH for why under `/_gateway/`). A static route, so
  // Fastify's router picks it before the catch-all: like /livez, /readyz and /metrics it is the
  // gateway's own answer, never routed upstream, rate limited or token-checked (a public, cached
  // document; it reveals nothing a request to the admin path would not).
  let served: { routes: RouteEntry[]; doc: object } | undefined;
  app.get(OPENAPI_PATH, { logLevel: 'warn', schema: { hide: true } }, async () => {
    if (served?.routes !== config.routes) {
      const doc = app.swagger();
      served = {
        routes: config.routes,
        doc: { ...doc, info: { ...doc.info, description: describeProxiedRoutes(config.routes) } },
      };
    }
    return served.doc;
  });

  const switchPool = async (name: string, target: Color) => {
    const pool = pools.get(name);
    if (!pool) throw new AppError('pool_not_found', 404, 'Not Found', { detail: 'no such pool' });
    const set = pool.sets[target];
    const healthy = await Promise.all(set.map((i) => probe(i, 1_000)));
    set.forEach((i, n) => (i.healthy = healthy[n]!));
    if (!healthy.some(Boolean)) {
      throw new AppError('target_unhealthy', 409, 'Conflict', {
        detail: `the ${target} set of ${name} has no healthy instance`,
      });
    }
    // One assignment: every request picked after this line goes to the new set.
    pool.active = target;
    for (const i of set) recordSuccess(i);
    updateGauges();
    log.info({ pool: name, active: target }, 'gateway: traffic switched');
  };

  if (config.adminToken) {
    app.post(
      '/_gateway/pools/:pool/switch',
      {
        // The admin token is checked before anything else, so an unauthenticated caller learns
        // nothing about pools or parameters.
        onRequest: (request, reply, done) => {
          const token = extractBearer(request.headers.authorization) ?? '';
          if (config.adminToken && sameSecret(token, config.adminToken)) return done();
          void sendTokenError(
            reply,
            new TokenError(token ? 'invalid_token' : 'missing_token', 'an admin token is required'),
          );
        },
        schema: switchSchema,
      },
      async (request) => {
        const { pool } = request.params;
        const target = request.query.to;
        await switchPool(pool, target);
        return { pool, active: target };
      },
    );
  }

  app.addHook('onClose', async () => {
    clearInterval(healthTimer);
    clearInterval(originsTimer);
    await Promise.all(instancesOf(pools).map((i) => i.client.close()));
  });

  return {
    app,
    get pools() {
      return pools;
    },
    switchPool,
    checkHealth,
    refreshClientOrigins,
    async reload(next) {
      const old = pools;
      const candidate = buildPools(next, old);
      const previous = new Set(instancesOf(old));
      const kept = new Set(instancesOf(candidate));
      const created = [...kept].filter((i) => !previous.has(i));
      await Promise.all(
        created.map(async (i) => void (i.healthy = await probe(i, Math.min(1_000, next.healthIntervalMs)))),
      );
      // Like the admin switch: traffic never moves to a set with no healthy instance. A pool whose
      // active instances are unchanged is exempt (a reload during an outage must still apply).
      for (const pool of candidate.values()) {
        const before = old.get(pool.name);
        const unchanged =
          before !== undefined && sameInstances(before.sets[before.active], pool.sets[pool.active]);
        if (!unchanged && !pool.sets[pool.active].some((i) => i.healthy)) {
          await Promise.all(created.map((i) => i.client.close()));
          throw new AppError('target_unhealthy', 409, 'Conflict', {
            detail: `the ${pool.active} set of ${pool.name} has no healthy instance; configuration not reloaded`,
          });
        }
      }
      config = next;
      pools = candidate;
      match = compileRoutes(next.routes);
      cors = corsSets(next);
      trustFn = proxyAddr.compile(next.trustedProxies);
      updateGauges();
      await Promise.all([...previous].filter((i) => !kept.has(i)).map((i) => i.client.close()));
      log.info('gateway: configuration reloaded');
    },
  };

  function corsSets(c: GatewayConfig): CorsPolicies {
    // Credentials only ever for listed origins: the allowlists hold exact origins, never `*`.
    const policy = (allowed: OriginAllowlist): CorsPolicy => ({ allowed, credentials: true });
    const configured = (routeClass: RouteClass) => new Set(c.cors[routeClass]);
    return {
      token: policy(withClientOrigins(configured('token'), () => registeredOrigins)),
      oauth: policy(withClientOrigins(configured('oauth'), () => registeredOrigins)),
      login: policy(configured('login')),
      api: policy(configured('api')),
    };
  }
}

/** The CORS policy of each route class. */
type CorsPolicies = Record<RouteClass, CorsPolicy>;

/**
 * auth's endpoints whose clients read RFC 6749 §5.2 error JSON (token, RFC 7009 revocation, RFC 7662
 * introspection) or RFC 6750 Bearer errors (userinfo): an edge refusal there is answered in that
 * form, as auth itself would, not as a problem document.
 */
/** The gateway's own resources, served by static GET routes (HEAD included); never proxied. */
const OWN_READ_PATHS: ReadonlySet<string> = new Set(['/livez', '/readyz', '/metrics', OPENAPI_PATH]);
const OWN_READ_ALLOW = 'GET, HEAD, OPTIONS';

const OAUTH_JSON_PATHS: ReadonlySet<string> = new Set([
  '/oauth2/token',
  '/oauth2/revoke',
  '/oauth2/introspect',
  '/oauth2/userinfo',
]);

/**
 * The edge's refusal `refused` as OAuth error JSON (same status, same headers, `Retry-After`
 * included): OAuth client libraries read `error`, and a problem document in its place would be
 * an "unexpected response" to them. Userinfo's clients also get the Bearer challenge (RFC 6750 §3).
 */
function sendOAuthRefusal(
  reply: FastifyReply,
  path: string,
  refused: AppError,
  error: 'invalid_request' | 'temporarily_unavailable',
  description: string,
): FastifyReply {
  if (refused.headers) void reply.headers(refused.headers);
  if (path === '/oauth2/userinfo' && error === 'invalid_request')
    void reply.header('www-authenticate', `Bearer error="${error}", error_description="${description}"`);
  return reply
    .code(refused.status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('application/json; charset=utf-8')
    .send({ error, error_description: description });
}

/** A copy of a flat header list with `extra` set (replacing fields of the same name). */
function withHeaders(list: readonly string[], extra: Record<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2)
    if (extra[list[i]!] === undefined) out.push(list[i]!, list[i + 1]!);
  for (const name in extra) out.push(name, extra[name]!);
  return out;
}

function instancesOf(pools: Map<string, UpstreamPool>): Instance[] {
  return [...pools.values()].flatMap((p) => [...p.sets.blue, ...p.sets.green]);
}

function sameInstances(a: readonly Instance[], b: readonly Instance[]): boolean {
  return a.length === b.length && a.every((instance, n) => instance === b[n]);
}

/**
 * Whether a path holds a `.` or `..` segment, plain or percent-encoded: the route table matches
 * prefixes, so `/oauth2/../internal/x` would pass as an OAuth path to an upstream that might
 * resolve it. Such paths are refused rather than normalised.
 */
function hasDotSegment(path: string): boolean {
  if (!path.includes('/.') && !path.includes('%2')) return false;
  return path.split('/').some((segment) => {
    const plain = segment.replace(/%2e/gi, '.');
    return plain === '.' || plain === '..';
  });
}

function pathOf(url: string): string {
  return url.split('?', 1)[0] ?? url;
}

/** Whether the client closed its connection before its whole request arrived. */
function clientGone(request: FastifyRequest): boolean {
  return !request.raw.complete && request.raw.socket.destroyed;
}

/**
 * Gives up on a request whose client is gone: nothing can be sent, so the reply is taken over and
 * closed, recorded with nginx's 499 (client closed request), a client-side status, not an error.
 */
function abandon(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  request.log.info('client closed the connection before its request body arrived');
  reply.raw.statusCode = 499;
  reply.hijack();
  reply.raw.destroy();
  return reply;
}

async function readUpTo(stream: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of stream) {
    seen += chunk.length;
    if (seen > limit)
      throw new AppError('payload_too_large', 413, 'Content Too Large', {
        detail: `bodies here are limited to ${limit} bytes`,
      });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, seen);
}
