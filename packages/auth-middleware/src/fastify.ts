import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { extractBearer } from './bearer.ts';
import { hasPermissions, hasScopes, type AccessTokenClaims } from './claims.ts';
import { TokenError } from './errors.ts';
import type { TokenVerifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token's claims, set by `authenticate` (undefined before). */
    auth?: AccessTokenClaims;
  }
  interface FastifyInstance {
    /** The verifier registered by {@link fastifyAuth}. */
    tokenVerifier: TokenVerifier;
  }
}

/** Options for {@link fastifyAuth}. */
export interface FastifyAuthOptions {
  verifier: TokenVerifier;
  realm?: string;
}

/**
 * Registers the token verifier on a Fastify instance. Protect routes with the preHandlers
 * {@link authenticate}, {@link requireScopes} and {@link requirePermissions}.
 *
 * @example
 * await app.register(fastifyAuth, { verifier });
 * app.get('/v1/users', { preHandler: requirePermissions('users:read') }, handler);
 */
export const fastifyAuth = fp<FastifyAuthOptions>(
  async (app: FastifyInstance, options) => {
    app.decorate('tokenVerifier', options.verifier);
    app.decorateRequest('auth', undefined);
    realms.set(app, options.realm ?? 'tessera');
  },
  { name: '@tessera/auth-middleware', fastify: '5.x' },
);

const realms = new WeakMap<FastifyInstance, string>();

/**
 * Sends a {@link TokenError} as problem+json with the RFC 6750 `WWW-Authenticate` header.
 *
 * @example
 * catch (err) { if (err instanceof TokenError) return sendTokenError(reply, err); }
 */
export function sendTokenError(reply: FastifyReply, err: TokenError, realm = 'tessera'): FastifyReply {
  if (err.status === 401 || err.status === 403 || err.status === 400) {
    void reply.header('www-authenticate', err.wwwAuthenticate(realm));
  }
  if (err.status === 503) void reply.header('retry-after', '5');
  return reply.code(err.status).type('application/problem+json').send(err.toProblem());
}

async function authenticateRequest(request: FastifyRequest): Promise<AccessTokenClaims> {
  if (request.auth) return request.auth;
  const token = extractBearer(request.headers.authorization);
  if (!token) throw new TokenError('missing_token', 'an access token is required');
  request.auth = await request.server.tokenVerifier.verify(token);
  return request.auth;
}

function guard(check?: (claims: AccessTokenClaims) => void): preHandlerAsyncHookHandler {
  return async function (request, reply) {
    try {
      const claims = await authenticateRequest(request);
      check?.(claims);
    } catch (err) {
      if (err instanceof TokenError)
        return sendTokenError(reply, err, realms.get(request.server) ?? 'tessera');
      throw err;
    }
  };
}

/**
 * preHandler: requires a valid access token and sets `request.auth`.
 *
 * @example
 * app.get('/v1/users/me', { preHandler: authenticate }, async (req) => req.auth!.sub);
 */
export const authenticate: preHandlerAsyncHookHandler = guard();

/**
 * preHandler: requires a valid token granted every listed scope (403 `insufficient_scope` otherwise).
 *
 * @example
 * app.get('/internal/x', { preHandler: requireScopes('internal') }, handler);
 */
export function requireScopes(...scopes: string[]): preHandlerAsyncHookHandler {
  return guard((claims) => {
    if (!hasScopes(claims, scopes)) {
      throw new TokenError('insufficient_scope', 'the token lacks a required scope', scopes.join(' '));
    }
  });
}

/**
 * preHandler: requires a valid token whose `permissions` claim holds every listed permission.
 *
 * @example
 * app.post('/v1/users', { preHandler: requirePermissions('users:write') }, handler);
 */
export function requirePermissions(...permissions: string[]): preHandlerAsyncHookHandler {
  return guard((claims) => {
    if (!hasPermissions(claims, permissions)) {
      throw new TokenError(
        'insufficient_scope',
        'the token lacks a required permission',
        permissions.join(' '),
      );
    }
  });
}
