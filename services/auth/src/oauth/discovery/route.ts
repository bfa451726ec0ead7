/**
 * `/.well-known/openid-configuration`, `/.well-known/oauth-authorization-server` (RFC 8414 §3) and
 * `/jwks.json` (RFC 7517 §5). Public, cacheable documents: the metadata for 5 minutes; the JWKS
 * for 5 minutes too, which the key propagation delay (ADR 0002) comfortably exceeds, with an ETag
 * so verifiers refetching on an unknown `kid` pay little.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JSONWebKeySet } from 'jose';
import type { HttpServer } from '@tessera/kernel';
import { JWKS_PATH } from './metadata.ts';

export const JWKS_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60';
const METADATA_CACHE_CONTROL = 'public, max-age=300';

/** Dependencies of the discovery routes. */
export interface DiscoveryRouteDeps {
  metadata: Record<string, unknown>;
  jwks: () => Promise<JSONWebKeySet>;
}

function sendCacheable(
  request: FastifyRequest,
  reply: FastifyReply,
  body: string,
  type: string,
  cacheControl: string,
) {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  void reply.header('cache-control', cacheControl).header('etag', etag);
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(type).send(body);
}

/**
 * Registers the discovery and JWKS routes.
 *
 * @example
 * registerDiscoveryRoutes(app, { metadata, jwks: () => keys.publicJwks() });
 */
export function registerDiscoveryRoutes(app: HttpServer, deps: DiscoveryRouteDeps): void {
  const metadataBody = JSON.stringify(deps.metadata);
  const metadata = (request: FastifyRequest, reply: FastifyReply) =>
    sendCacheable(request, reply, metadataBody, 'application/json; charset=utf-8', METADATA_CACHE_CONTROL);
  app.get('/.well-known/openid-configuration', metadata);
  app.get('/.well-known/oauth-authorization-server', metadata);

  let lastSet: JSONWebKeySet | undefined;
  let lastBody = '';
  app.get(JWKS_PATH, async (request, reply) => {
    const set = await deps.jwks();
    if (set !== lastSet) {
      lastSet = set;
      lastBody = JSON.stringify({ keys: set.keys });
    }
    return sendCacheable(request, reply, lastBody, 'application/jwk-set+json', JWKS_CACHE_CONTROL);
  });
}
