import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { Telemetry } from './telemetry.ts';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps the server's `request` listener so each request runs inside a SERVER span that continues
 * the caller's W3C trace context (re-entered after body parsing with {@link withServerContext},
 * cheaper than binding the request's emitters). The span ends when the response finishes or the
 * connection closes. Recorded: method, path without query (queries carry codes and tokens),
 * scheme, peer address, status; never headers or bodies. Call {@link setServerRoute} once the
 * route template is known. Requests to `ignorePaths` (health probes, scrapes) are not traced.
 *
 * @example
 * traceHttpServer(app.server, telemetry);
 */
export function traceHttpServer(
  server: Server,
  telemetry: Telemetry,
  ignorePaths: ReadonlySet<string> = new Set(),
): void {
  if (!telemetry.enabled) return;
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  for (const listener of listeners) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
      // Probes and scrapes are not traced: they would bury the requests that matter.
      if (ignorePaths.has(path)) {
        listener.call(server, req, res);
        return;
      }
      const method = req.method ?? 'GET';
      const span = telemetry.startServerSpan(req.headers, method);
      const ctx = trace.setSpan(ROOT_CONTEXT, span);
      // An unsampled request keeps its (non-recording) span for propagation and pays nothing more.
      if (span.isRecording()) {
        span.setAttributes({
          'http.request.method': method,
          'url.path': path.slice(0, 512),
          'url.scheme': 'encrypted' in req.socket ? 'https' : 'http',
          'network.peer.address': req.socket.remoteAddress ?? '',
          'user_agent.original': (req.headers['user-agent'] ?? '').slice(0, 256),
        });
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) {
            span.setAttribute('error.type', String(res.statusCode));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        };
        res.once('finish', end);
        res.once('close', end);
      }
      // Routing, hooks and body-less handlers run inside `ctx` from here (the first hook captures
      // it with captureServerContext); a body is read in socket callbacks outside it, so the
      // framework re-enters it once parsed (withServerContext).
      context.with(ctx, () => listener.call(server, req, res));
    });
  }
}

/**
 * The active trace context, to keep on the framework's request object: call it in the first
 * request hook (which runs inside the context {@link traceHttpServer} entered). Keeping it there
 * rather than on the IncomingMessage avoids changing Node's request object shape.
 *
 * @example
 * request.traceContext = captureServerContext();
 */
export function captureServerContext(): Context {
  return context.active();
}

/**
 * Names the request's server span after its route template (`GET /v1/users/:id`).
 *
 * @example
 * setServerRoute(request.traceContext, 'GET', request.routeOptions.url);
 */
export function setServerRoute(ctx: Context | null, method: string, route: string | undefined): void {
  const span = ctx && trace.getSpan(ctx);
  if (!span?.isRecording() || !route) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
}

/**
 * Runs `next` inside the request's trace context (a hook after body parsing calls it, since the
 * body arrives in socket callbacks outside the context); just calls `next` when already inside
 * it (body-less requests never left it) or for untraced requests.
 *
 * @example
 * app.addHook('preValidation', (request, _reply, done) => withServerContext(request.traceContext, done));
 */
export function withServerContext(ctx: Context | null, next: () => void): void {
  if (ctx && context.active() !== ctx) context.with(ctx, next);
  else next();
}

/**
 * The trace id of the request's server span (with `sampledOnly`, only when that trace is
 * sampled), for exemplars and error reports outside the request's async context.
 *
 * @example
 * const traceId = serverTraceId(request.traceContext, true);
 */
export function serverTraceId(ctx: Context | null, sampledOnly = false): string | undefined {
  const spanContext = ctx ? trace.getSpanContext(ctx) : undefined;
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  if (sampledOnly && (spanContext.traceFlags & 1) === 0) return undefined;
  return spanContext.traceId;
}
