import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock, HttpServer } from '@tessera/kernel';
import type { AccessTokenDenylist, UsersGateway } from '../../contracts.ts';
import type { JwksSource } from '../../flows/deps.ts';
import { PATHS } from '../../flows/paths.ts';
import { verifyAccessToken } from './access-token.ts';

/** Dependencies of {@link registerUserinfoRoutes}. */
export interface UserinfoRouteDeps {
  users: UsersGateway;
  jwks: JwksSource;
  denylist: AccessTokenDenylist;
  issuer: string;
  clock: Clock;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function bearerError(
  reply: FastifyReply,
  status: 400 | 401 | 403,
  error?: string,
  description?: string,
): FastifyReply {
  const params = ['realm="tessera"'];
  if (error) params.push(`error="${error}"`);
  if (description) params.push(`error_description="${description}"`);
  return reply
    .code(status)
    .header('www-authenticate', `Bearer ${params.join(', ')}`)
    .header('cache-control', 'no-store')
    .send(
      error
        ? { error, ...(description ? { error_description: description } : {}) }
        : { error: 'invalid_request' },
    );
}

/**
 * `GET|POST /oauth2/userinfo` (OIDC Core §5.3): with a valid bearer access token that has the
 * `openid` scope, returns `sub` plus the claims its scopes allow (`email`, `email_verified` for
 * email, `name` for profile), read fresh from the user service. Errors per RFC 6750 §3.
 */
export function registerUserinfoRoutes(app: HttpServer, deps: UserinfoRouteDeps): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    if (header === undefined) return bearerError(reply, 401);
    const match = BEARER.exec(header);
    if (!match?.[1]) return bearerError(reply, 400, 'invalid_request', 'malformed Authorization header');
    const token = await verifyAccessToken(match[1], { ...deps, now: deps.clock.now() });
    if (!token) return bearerError(reply, 401, 'invalid_token', 'the access token is invalid or expired');
    if (!token.scopes.includes('openid'))
      return bearerError(reply, 403, 'insufficient_scope', 'requires the openid scope');
    const user = await deps.users.getUser(token.sub);
    if (!user || user.status !== 'active')
      return bearerError(reply, 401, 'invalid_token', 'the user is no longer active');
    const claims: Record<string, unknown> = { sub: user.id };
    if (token.scopes.includes('email')) {
      claims.email = user.email;
      claims.email_verified = user.emailVerified;
    }
    if (token.scopes.includes('profile') && user.name !== null) claims.name = user.name;
    return reply.header('cache-control', 'no-store').send(claims);
  };
  app.get(PATHS.userinfo, handler);
  app.post(PATHS.userinfo, handler);
}
