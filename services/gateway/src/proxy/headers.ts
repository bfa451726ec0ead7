import type { IncomingHttpHeaders, OutgoingHttpHeader } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop headers, never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * Request headers this hop consumes. `Expect`: Node's server has already answered
 * `100-continue` to the client (and refuses any other expectation with 417), so the body is on
 * its way; the upstream gets it without the handshake (undici refuses to send `Expect` at all).
 */
const CONSUMED_REQUEST = new Set(['expect']);

/**
 * The fields a `Connection` header names (RFC 9110 §7.6.1): options for this connection only,
 * which a proxy removes along with the hop-by-hop fields.
 */
function connectionOptions(value: string | string[] | undefined): Set<string> | undefined {
  // The usual values name no other field (and are hop-by-hop fields' values, not field names).
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const names = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const name = part.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names.size > 0 ? names : undefined;
}

/** Upstream response headers the edge drops (version leaks). */
const STRIPPED_RESPONSE = new Set([...HOP_BY_HOP, 'server', 'x-powered-by']);

/** What the gateway knows about the client for the forwarded headers. */
export interface ForwardContext {
  requestId: string;
  /** The peer of the TCP connection. */
  peerIp: string;
  /** Whether the peer is a trusted proxy (then its X-Forwarded-* are kept and extended). */
  peerTrusted: boolean;
  proto: 'http' | 'https';
  host: string;
}

/**
 * Request headers for the upstream as a flat `[name, value, name, value, …]` list (what undici
 * takes without copying): hop-by-hop fields, the fields `Connection` names and `Expect` removed,
 * `x-request-id` set, and `x-forwarded-for/proto/host` rebuilt so a client that is not a trusted
 * proxy cannot spoof them.
 *
 * @example
 * const headers = forwardHeaders(request.headers, ctx);
 */
export function forwardHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): string[] {
  const out: string[] = [];
  const options = connectionOptions(incoming.connection);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || CONSUMED_REQUEST.has(name) || options?.has(name)) continue;
    if (name.startsWith('x-forwarded-') || name === 'x-request-id') continue;
    const value = incoming[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const v of value) out.push(name, v);
  }
  const priorFor = ctx.peerTrusted ? incoming['x-forwarded-for'] : undefined;
  out.push('x-forwarded-for', priorFor ? `${String(priorFor)}, ${ctx.peerIp}` : ctx.peerIp);
  const priorProto = ctx.peerTrusted ? incoming['x-forwarded-proto'] : undefined;
  out.push(
    'x-forwarded-proto',
    typeof priorProto === 'string' && /^https?$/.test(priorProto) ? priorProto : ctx.proto,
  );
  const priorHost = ctx.peerTrusted ? incoming['x-forwarded-host'] : undefined;
  out.push('x-forwarded-host', typeof priorHost === 'string' ? priorHost : ctx.host);
  out.push('x-request-id', ctx.requestId);
  return out;
}

/** A response header list for `ServerResponse.writeHead`: `[name, value, name, value, …]`. */
export type HeaderList = OutgoingHttpHeader[];

/**
 * The response headers for the client as one flat list for `writeHead`: the edge's own headers
 * (security headers, CORS, RateLimit, request id) unless the upstream sent the same field, then
 * the upstream's headers minus hop-by-hop ones (and those its `Connection` names), `Server` and
 * `X-Powered-By`. An upstream header wins over the edge's (e.g. a route's own
 * Content-Security-Policy), except that a policy without `frame-ancestors` gets
 * `frame-ancestors 'none'` added.
 *
 * @example
 * res.writeHead(status, responseHeaders(upstreamHeaders, reply.getHeaders()));
 */
export function responseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  edge: Readonly<Record<string, OutgoingHttpHeader | undefined>>,
): HeaderList {
  const out: HeaderList = [];
  for (const name in edge) {
    const value = edge[name];
    if (value === undefined || upstream[name] !== undefined) continue;
    out.push(name, value);
  }
  const options = connectionOptions(upstream.connection);
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || STRIPPED_RESPONSE.has(name) || options?.has(name)) continue;
    out.push(name, name === 'content-security-policy' ? withFrameAncestors(value) : value);
  }
  return out;
}

/** An upstream CSP that does not say who may frame the page gets `frame-ancestors 'none'` (clickjacking). */
function withFrameAncestors(csp: string | string[]): string | string[] {
  if (Array.isArray(csp))
    return csp.some((p) => /frame-ancestors/i.test(p)) ? csp : [...csp, "frame-ancestors 'none'"];
  return /frame-ancestors/i.test(csp) ? csp : `${csp.replace(/[;\s]+$/, '')}; frame-ancestors 'none'`;
}
