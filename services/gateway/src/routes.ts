/**
 * The route table: path prefixes → an upstream pool and a route class. The class selects the
 * edge policy (rate limit, CORS, body limit, token check). Matching is a precomputed scan of a
 * few prefixes, longest first.
 */

/** Policy groups at the edge. */
export type RouteClass = 'token' | 'login' | 'oauth' | 'api';

/** One entry of the table. `prefix` matches itself and anything below it (`/v1/users`, `/v1/users/…`, `/v1/users?…`). */
export interface RouteEntry {
  prefix: string;
  pool: string;
  routeClass: RouteClass;
}

/** The public routes of Tessera: auth's protocol and page paths, users' API. */
export const DEFAULT_ROUTES: RouteEntry[] = [
  { prefix: '/.well-known', pool: 'auth', routeClass: 'oauth' },
  { prefix: '/jwks.json', pool: 'auth', routeClass: 'oauth' },
  { prefix: '/oauth2/token', pool: 'auth', routeClass: 'token' },
  { prefix: '/oauth2', pool: 'auth', routeClass: 'oauth' },
  { prefix: '/login', pool: 'auth', routeClass: 'login' },
  { prefix: '/consent', pool: 'auth', routeClass: 'login' },
  { prefix: '/logout', pool: 'auth', routeClass: 'login' },
  { prefix: '/v1/clients', pool: 'auth', routeClass: 'api' },
  { prefix: '/v1/keys', pool: 'auth', routeClass: 'api' },
  { prefix: '/v1/users', pool: 'users', routeClass: 'api' },
  { prefix: '/v1/orgs', pool: 'users', routeClass: 'api' },
];

/** A compiled matcher over a route table. */
export type RouteMatcher = (path: string) => RouteEntry | undefined;

/**
 * Compiles the table: longest prefix wins, a prefix matches only at a segment boundary
 * (`/v1/users` matches `/v1/users/1`, not `/v1/usersx`).
 *
 * @example
 * const match = compileRoutes(DEFAULT_ROUTES);
 * match('/v1/users/123')?.pool; // 'users'
 */
export function compileRoutes(routes: RouteEntry[]): RouteMatcher {
  const sorted = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
  return (path) => {
    for (const route of sorted) {
      if (!path.startsWith(route.prefix)) continue;
      const next = path.charCodeAt(route.prefix.length);
      // end of string, '/', '?' or '.' (e.g. /jwks.json) after the prefix
      if (Number.isNaN(next) || next === 47 || next === 63) return route;
    }
    return undefined;
  };
}
