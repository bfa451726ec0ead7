import type { IncomingHttpHeaders } from 'node:http';

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

/** Upstream response headers the edge drops (version leaks). */
const STRIPPED_RESPONSE = new Set([...HOP_BY_HOP, 'server', 'x-powered-by']);

/** What the gateway knows about the client for the forwarded headers. */
export interface ForwardContext {
  requestId: string;
  /** The client's address as computed from trusted proxies only. */
  clientIp: string;
  /** The peer of the TCP connection. */
  peerIp: string;
  /** Whether the peer is a trusted proxy (then its X-Forwarded-* are kept and extended). */
  peerTrusted: boolean;
  proto: 'http' | 'https';
  host: string;
}

/**
 * Request headers for the upstream: hop-by-hop removed, `x-request-id` set, and
 * `x-forwarded-for/proto/host` rebuilt so a client that is not a trusted proxy cannot spoof them.
 *
 * @example
 * const headers = forwardHeaders(request.headers, ctx);
 */
export function forwardHeaders(
  incoming: IncomingHttpHeaders,
  ctx: ForwardContext,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || name.startsWith('x-forwarded-')) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  const priorFor = ctx.peerTrusted ? incoming['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${ctx.peerIp}` : ctx.peerIp;
  const priorProto = ctx.peerTrusted ? incoming['x-forwarded-proto'] : undefined;
  out['x-forwarded-proto'] =
    typeof priorProto === 'string' && /^https?$/.test(priorProto) ? priorProto : ctx.proto;
  const priorHost = ctx.peerTrusted ? incoming['x-forwarded-host'] : undefined;
  out['x-forwarded-host'] = typeof priorHost === 'string' ? priorHost : ctx.host;
  out['x-request-id'] = ctx.requestId;
  return out;
}

/**
 * Copies upstream response headers that may reach the client.
 *
 * @example
 * for (const [k, v] of responseHeaders(res.headers)) reply.header(k, v);
 */
export function responseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Array<[string, string | string[]]> {
  const out: Array<[string, string | string[]]> = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || STRIPPED_RESPONSE.has(name)) continue;
    out.push([name, value]);
  }
  return out;
}
