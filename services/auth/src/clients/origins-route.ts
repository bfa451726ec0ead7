/**
 * `GET /internal/client-origins`: the web origins of the registered browser-based clients, so the
 * gateway's CORS allowlist for the token and OAuth endpoints follows client registration
 * (issue: "the token endpoint allows the origins registered for its clients"). A browser app is a
 * public client (OAuth 2.1 §2.1); its origins are those of its `http(s)` redirect URIs.
 * Confidential clients call the token endpoint from servers, never from a browser, and native
 * apps' private-use schemes have no web origin, so neither is listed.
 *
 * Under `/internal/`, which the gateway never routes: the list is read by the gateway from the
 * auth instances directly. It holds origins only — what every one of these apps shows in its
 * own address bar.
 */
import { Type } from 'typebox';
import type { HttpServer } from '@tessera/kernel';
import type { OAuthClient } from '../contracts.ts';

export const CLIENT_ORIGINS_PATH = '/internal/client-origins';

/**
 * The web origins of `clients`' redirect URIs, for public clients using the code flow; sorted,
 * without duplicates.
 *
 * @example
 * browserClientOrigins([spa]); // ['http://localhost:5173']
 */
export function browserClientOrigins(clients: readonly OAuthClient[]): string[] {
  const origins = new Set<string>();
  for (const client of clients) {
    if (client.type !== 'public' || !client.grantTypes.includes('authorization_code')) continue;
    for (const uri of client.redirectUris) {
      const url = URL.parse(uri);
      if (url && (url.protocol === 'https:' || url.protocol === 'http:')) origins.add(url.origin);
    }
  }
  return [...origins].sort();
}

/**
 * Registers the route.
 *
 * @example
 * registerClientOriginsRoute(app, () => clients.list());
 */
export function registerClientOriginsRoute(
  app: HttpServer,
  listClients: () => Promise<readonly OAuthClient[]>,
): void {
  app.get(
    CLIENT_ORIGINS_PATH,
    {
      logLevel: 'warn',
      schema: {
        hide: true,
        response: {
          200: Type.Object({ origins: Type.Array(Type.String()) }, { additionalProperties: false }),
        },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
      return { origins: browserClientOrigins(await listClients()) };
    },
  );
}
