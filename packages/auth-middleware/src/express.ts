import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { extractBearer } from './bearer.ts';
import { hasPermissions, hasScopes, type AccessTokenClaims } from './claims.ts';
import { TokenError } from './errors.ts';
import type { TokenVerifier } from './verifier.ts';

/** Options for {@link expressAuth}. */
export interface ExpressAuthOptions {
  verifier: TokenVerifier;
  scopes?: string[];
  permissions?: string[];
  realm?: string;
}

/** Express requests carry the verified claims in `res.locals.auth` and `req.auth`. */
export type AuthenticatedRequest = Request & { auth?: AccessTokenClaims };

/**
 * Express middleware with the same semantics as the Fastify guards: 401 + `WWW-Authenticate`
 * for a missing or invalid token, 403 `insufficient_scope` for missing scopes or permissions.
 *
 * @example
 * app.get('/orders', expressAuth({ verifier, permissions: ['orders:read'] }), (req, res) => res.json(req.auth));
 */
export function expressAuth(options: ExpressAuthOptions): RequestHandler {
  const realm = options.realm ?? 'tessera';
  return (req: Request, res: Response, next: NextFunction) => {
    const run = async () => {
      const token = extractBearer(req.headers.authorization);
      if (!token) throw new TokenError('missing_token', 'an access token is required');
      const claims = await options.verifier.verify(token);
      if (options.scopes && !hasScopes(claims, options.scopes)) {
        throw new TokenError(
          'insufficient_scope',
          'the token lacks a required scope',
          options.scopes.join(' '),
        );
      }
      if (options.permissions && !hasPermissions(claims, options.permissions)) {
        throw new TokenError(
          'insufficient_scope',
          'the token lacks a required permission',
          options.permissions.join(' '),
        );
      }
      (req as AuthenticatedRequest).auth = claims;
      res.locals.auth = claims;
    };
    run().then(
      () => next(),
      (err: unknown) => {
        if (!(err instanceof TokenError)) {
          next(err);
          return;
        }
        if (err.status !== 503) res.setHeader('www-authenticate', err.wwwAuthenticate(realm));
        res.status(err.status).type('application/problem+json').send(JSON.stringify(err.toProblem()));
      },
    );
  };
}
