import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { answerClientError } from './client-error.ts';
import { AppError, BadRequestError, toProblem } from './errors.ts';
import { assertSafeJson } from './json-guard.ts';
import { routeLabel } from './route-label.ts';
import type { Logger } from './logger.ts';
import { createHttpMetrics, renderMetrics, type HttpMetrics } from './metrics.ts';
import { createValidatorCompiler } from './validation.ts';
import { apiSecurityHeaders } from './security-headers.ts';
import { applyCors, originAllowlist, type CorsPolicy } from './cors.ts';
import { lazyChildLoggerFactory } from './lazy-logger.ts';
import { createErrorReporter, type ErrorReporter } from './error-reporter.ts';
import { safeErrorForLog } from './safe-error.ts';
import { sameSecret } from './same-secret.ts';
import {
  captureServerContext,
  serverTraceId,
  setServerRoute,
  traceHttpServer,
  withServerContext,
  type Context,
  type ErrorSink,
  type Telemetry,
} from '@tessera/telemetry';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace context (its server span) when tracing is on; null otherwise. */
    traceContext: Context | null;
    /**
     * The `route` label for metrics and error reports when Fastify's route template does not
     * name it (the gateway's catch-all sets its route table entry); null = the template.
     */
    metricsRoute: string | null;
  }
}

export { safeErrorForLog };

/** A Fastify instance with the TypeBox type provider: route schemas type the handlers. */
export type HttpServer = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * One dependency `/readyz` checks. A failing critical check answers 503 (take this instance out
 * of rotation); a failing non-critical one (Redis) answers 200 with `status: "degraded"`.
 */
export interface ReadinessCheck {
  name: string;
  critical: boolean;
  check: () => Promise<void>;
}

/** Options for {@link createHttpServer}. */
export interface HttpServerOptions {
  name: string;
  logger: Logger;
  /** Largest accepted body in bytes (default 64 KiB). */
  bodyLimit?: number;
  /** Exact origins allowed by CORS; empty = no cross-origin access. `*` is refused with credentials. */
  corsOrigins?: string[];
  corsCredentials?: boolean;
  /** Set false when the app handles CORS itself (the gateway decides per route class). */
  cors?: boolean;
  /** Set false when bodies must stay raw streams (the gateway forwards them unparsed). */
  parseJson?: boolean;
  trustProxy?: boolean | string | string[];
  readiness?: ReadinessCheck[];
  metrics?: HttpMetrics;
  /** Send Strict-Transport-Security (only when the public origin is HTTPS). */
  hsts?: boolean;
  https?: { key: string | Buffer; cert: string | Buffer };
  /** Milliseconds a request may take before the socket is closed (default 30 s). */
  requestTimeoutMs?: number;
  /** Tracing; when enabled every request runs in a SERVER span continuing the caller's trace. */
  telemetry?: Telemetry | undefined;
  /** A second destination for error reports (Sentry); the structured log line is always written. */
  errorSink?: ErrorSink | undefined;
  /**
   * When set, `GET /metrics` answers only requests carrying `Authorization: Bearer <this>`
   * (Prometheus: `authorization: { credentials: … }`); others get 401. Unset: open, for a port
   * only the scraper can reach.
   */
  metricsToken?: string | undefined;
}

/** The largest body a server accepts unless its options say otherwise: 64 KiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Routes whose 5xx is an answer, not a failure (a 503 from /readyz takes an instance out of rotation). */
const HEALTH_ROUTES = new Set(['/livez', '/readyz', '/metrics']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The router's limit on one path parameter (`routerOptions.maxParamLength`). */
const MAX_PARAM_LENGTH = 200;

/** Why the router refused `url`: a path segment over its length limit, or bad encoding. */
function urlRefusal(url: string): BadRequestError {
  const path = url.split('?', 1)[0] ?? '';
  if (path.split('/').some((segment) => segment.length > MAX_PARAM_LENGTH)) {
    return new BadRequestError(
      'path_segment_too_long',
      `a segment of the URL path is longer than ${MAX_PARAM_LENGTH} characters`,
    );
  }
  return new BadRequestError('malformed_url', 'the URL is not valid (bad percent-encoding or characters)');
}
const READINESS_TIMEOUT_MS = 2_000;

/**
 * Builds the Fastify server every Tessera service stands on: request ids, security headers,
 * CORS allowlist, body limit, strict schema validation, problem+json errors, `/livez`,
 * `/readyz`, `/metrics` with RED metrics. Register feature plugins on the result.
 *
 * @example
 * const app = createHttpServer({ name: 'users', logger, readiness: [{ name: 'postgres', critical: true, check: () => ping(conn) }] });
 * app.get('/v1/hello', { schema: { response: { 200: Type.Object({ hi: Type.String() }) } } }, async () => ({ hi: 'there' }));
 * await app.listen({ host: '127.0.0.1', port: 8082 });
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const credentials = options.corsCredentials ?? false;
  const cors: CorsPolicy | undefined =
    options.cors === false
      ? undefined
      : { allowed: originAllowlist(options.corsOrigins ?? [], credentials), credentials };
  const metrics =
    options.metrics ??
    createHttpMetrics({ service: options.name }, { exemplars: options.telemetry?.enabled ?? false });
  const security = apiSecurityHeaders({ hsts: options.hsts ?? false });
  const app = Fastify({
    loggerInstance: options.logger,
    // A URL Fastify cannot decode (e.g. `/%zz`) is refused before any hook runs: answer it like
    // every other error, problem document and security headers included.
    frameworkErrors: (error, request, reply) => {
      void reply.headers(security).header('x-request-id', request.id);
      sendError(urlRefusal(request.url), error, request, reply);
    },
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: options.trustProxy ?? false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
    forceCloseConnections: 'idle',
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: MAX_PARAM_LENGTH },
    ...(options.https ? { https: options.https } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpServer;

  const reporter = createErrorReporter({
    service: options.name,
    logger: options.logger,
    registry: metrics.registry,
    sink: options.errorSink,
    telemetry: options.telemetry,
  });
  app.decorate('errorReporter', reporter);
  const traced = options.telemetry?.enabled ?? false;
  // Declared up front so every request object has the same shape, traced or not.
  app.decorateRequest('traceContext', null);
  app.decorateRequest('metricsRoute', null);
  if (options.telemetry?.enabled) {
    traceHttpServer(app.server, options.telemetry, HEALTH_ROUTES);
    app.addHook('preValidation', (request, _reply, done) => withServerContext(request.traceContext, done));
  }

  app.setValidatorCompiler(createValidatorCompiler());
  if (options.parseJson !== false) installJsonParser(app);

  if (cors) {
    // Preflights are answered by the request hook; this route makes any other OPTIONS request an
    // RFC 9110 §9.3.7 answer (the methods the resource supports) instead of a 405.
    app.options('*', { schema: { hide: true } }, (request, reply) => {
      const allowed = allowedMethods(app, request.url);
      if (allowed.length === 0) {
        const err = new AppError('not_found', 404, 'Not Found', { detail: 'no such resource' });
        return sendError(err, err, request, reply);
      }
      return reply.code(204).header('allow', allowed.join(', ')).send();
    });
  }

  // Callback-style hooks: these run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(security).header('x-request-id', request.id);
    if (traced) {
      // The first hook runs inside the context traceHttpServer entered: keep it for the hooks
      // that run outside it (after body parsing, on response).
      request.traceContext = captureServerContext();
      setServerRoute(request.traceContext, request.method, request.routeOptions.url);
    }
    // RFC 9112 §3.2: a request with more than one Host line is refused (which one names the
    // target would be a guess, and the guess is how host-confusion attacks start).
    if (repeatsHost(request.raw.rawHeaders)) {
      done(new BadRequestError('repeated_host', 'the request must carry exactly one Host header'));
      return;
    }
    // PostgreSQL text cannot hold U+0000: refuse it at the edge instead of failing in the database.
    if (request.url.includes('%00')) {
      done(new BadRequestError('nul_character', 'the URL must not contain a NUL character (%00)'));
      return;
    }
    // A preflight is answered here, before any route or authentication runs.
    if (cors && applyCors(request, reply, cors)) return;
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: routeLabel(request),
      status_code: String(reply.statusCode),
    };
    metrics.requests.inc(labels);
    const seconds = reply.elapsedTime / 1000;
    if (metrics.exemplars) {
      // With exemplars on, prom-client's observe takes one object (the two-argument form would
      // record nothing); the exemplar links the sample to its trace when that trace is sampled.
      const traceId = serverTraceId(request.traceContext, true);
      const exemplarLabels = (traceId ? { trace_id: traceId } : {}) as unknown as typeof labels;
      metrics.duration.observe({ labels, value: seconds, exemplarLabels });
    } else metrics.duration.observe(labels, seconds);
    if (reply.statusCode >= 500 && !HEALTH_ROUTES.has(labels.route)) {
      reporter.reportRequest(request, reply.statusCode, undefined);
    }
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendError(toAppError(error), error, request, reply),
  );
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(app, request.url);
    const err =
      allowed.length > 0
        ? new AppError('method_not_allowed', 405, 'Method Not Allowed', {
            detail: `${request.method} is not supported here`,
            // RFC 9110 §15.5.6: a 405 names the methods the resource does support.
            headers: { allow: allowed.join(', ') },
          })
        : new AppError('not_found', 404, 'Not Found', { detail: 'no such resource' });
    return sendError(err, err, request, reply);
  });

  // Draining: Fastify closes the connections idle when close() begins; a keep-alive connection
  // whose request was still running would stay open after its answer and hold shutdown up until
  // the client went away. Close each one as soon as it turns idle.
  app.addHook('preClose', (done) => {
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    sweep.unref();
    app.server.once('close', () => clearInterval(sweep));
    done();
  });

  registerHealthRoutes(app, options.readiness ?? [], metrics, options.metricsToken);
  return app;
}

const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The methods some route of `app` serves at `url`'s path (parametric routes included), with
 * `OPTIONS` when preflights are answered there; empty when no route serves the path at all.
 */
function allowedMethods(app: HttpServer, url: string): string[] {
  const path = url.split('?', 1)[0] ?? '/';
  const served = ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
  if (served.length === 0) return [];
  return app.findRoute({ method: 'OPTIONS', url: path }) !== null ? [...served, 'OPTIONS'] : served;
}

/**
 * The error reporter {@link createHttpServer} made for `app` (for process-level reporting).
 *
 * @example
 * reportProcessErrors(errorReporterOf(app)!, shutdown);
 */
export function errorReporterOf(app: object): ErrorReporter | undefined {
  return (app as { errorReporter?: ErrorReporter }).errorReporter;
}

function installJsonParser(app: HttpServer): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      // RFC 8259 §8.1: JSON is UTF-8. Decoding bytes that are not would store U+FFFD in their place.
      if (!isUtf8(body as Buffer))
        throw new BadRequestError('invalid_utf8', 'the JSON body is not valid UTF-8');
      text = (body as Buffer).toString('utf8');
      assertSafeJson(text);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    void parse(request, text, done);
  });
}

function registerHealthRoutes(
  app: HttpServer,
  checks: ReadinessCheck[],
  metrics: HttpMetrics,
  metricsToken: string | undefined,
): void {
  app.get('/livez', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        const up = await withTimeout(c.check(), READINESS_TIMEOUT_MS).then(
          () => true,
          () => false,
        );
        return { name: c.name, critical: c.critical, up };
      }),
    );
    const criticalDown = results.some((r) => r.critical && !r.up);
    const degraded = results.some((r) => !r.up);
    reply.header('cache-control', 'no-store');
    reply.code(criticalDown ? 503 : 200);
    return {
      status: criticalDown ? 'unavailable' : degraded ? 'degraded' : 'ok',
      checks: Object.fromEntries(results.map((r) => [r.name, r.up ? 'up' : 'down'])),
    };
  });
  app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
    if (metricsToken !== undefined) {
      const presented = /^Bearer +(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!sameSecret(presented, metricsToken)) {
        throw new AppError('unauthorized', 401, 'Unauthorized', {
          detail: 'the metrics need the bearer token configured as METRICS_TOKEN',
          headers: { 'www-authenticate': 'Bearer realm="metrics"' },
        });
      }
    }
    const { contentType, body } = await renderMetrics(metrics.registry, request.headers.accept);
    reply.header('content-type', contentType);
    return body;
  });
}

const FASTIFY_CLIENT_ERRORS: Record<string, [code: string, status: number, title: string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 415, 'Unsupported Media Type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_content_length', 400, 'Bad Request'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 413, 'Content Too Large'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['malformed_json', 400, 'Bad Request'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['malformed_json', 400, 'Bad Request'],
};

/**
 * Maps anything thrown in a route to an {@link AppError}: ours pass through, Fastify's
 * validation and body-parser errors become 4xx, everything else a generic 500.
 *
 * @example
 * const appErr = toAppError(err);
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fe = error as Partial<FastifyError> & { validation?: unknown };
  if (fe.validation) {
    // A query parameter the operation does not declare: the same code as on operations without one.
    const first = (fe.validation as Array<{ keyword?: string }>)[0];
    const code =
      fe.validationContext === 'querystring' && first?.keyword === 'additionalProperties'
        ? 'unknown_parameter'
        : 'validation_failed';
    return new AppError(code, 400, 'Bad Request', {
      detail: `${fe.validationContext ?? 'request'}: ${fe.message ?? ''}`,
    });
  }
  const known = fe.code ? FASTIFY_CLIENT_ERRORS[fe.code] : undefined;
  if (known) return new AppError(known[0], known[1], known[2], { detail: fe.message ?? known[2] });
  if (error instanceof SyntaxError || (typeof fe.statusCode === 'number' && fe.statusCode === 400)) {
    return new AppError('malformed_json', 400, 'Bad Request', { detail: 'the body is not valid JSON' });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('bad_request', fe.statusCode, 'Bad Request', {
      detail: 'the request could not be processed',
    });
  }
  return new AppError('internal', 500, 'Internal Server Error');
}

/**
 * Sends `err` as problem+json; a 5xx is reported (log line with the request id, trace id, route,
 * user and client; Sentry when configured), its internals never sent.
 *
 * @example
 * app.setErrorHandler((e, req, reply) => sendError(toAppError(e), e, req, reply));
 */
export function sendError(
  err: AppError,
  original: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (err.status >= 500) {
    const reporter = errorReporterOf(request.server);
    if (reporter) reporter.reportRequest(request, err.status, original);
    else request.log.error({ err: safeErrorForLog(original) }, 'request failed');
  } else request.log.info({ code: err.code, status: err.status }, 'request rejected');
  if (err.headers) void reply.headers(err.headers);
  // An error is about one request: no cache keeps it (404 and 405 would be cacheable by default).
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  return reply.code(err.status).type('application/problem+json').send(toProblem(err, request.id));
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether Node's raw header list (`[name, value, …]`) holds more than one Host line. */
function repeatsHost(raw: readonly string[]): boolean {
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}
