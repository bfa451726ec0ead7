/**
 * The web origins of the browser apps registered at the auth service, read from its
 * `GET /internal/client-origins` and refreshed periodically, so the CORS allowlist of the token
 * and OAuth endpoints follows client registration (a new SPA works without a gateway restart).
 * A failed refresh keeps the last good list; the configured static lists always apply too.
 */
import type { Instance } from '../upstreams/pool.ts';

export const CLIENT_ORIGINS_PATH = '/internal/client-origins';
const MAX_ORIGINS = 5_000;
const ORIGIN = /^https?:\/\/[^/\s]{1,253}$/;

/**
 * Fetches the list from one auth instance; undefined when the instance fails or answers
 * something that is not a list of origins.
 *
 * @example
 * const origins = await fetchClientOrigins(instance, 1_000);
 */
export async function fetchClientOrigins(
  instance: Instance,
  timeoutMs: number,
): Promise<Set<string> | undefined> {
  try {
    const res = await instance.client.request({
      method: 'GET',
      path: CLIENT_ORIGINS_PATH,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    const body = (await res.body.json()) as { origins?: unknown };
    const origins = body.origins;
    if (!Array.isArray(origins) || origins.length > MAX_ORIGINS) return undefined;
    if (!origins.every((origin): origin is string => typeof origin === 'string' && ORIGIN.test(origin)))
      return undefined;
    return new Set(origins);
  } catch {
    return undefined;
  }
}

/** A static allowlist joined with the registered origins (read at call time). */
export function withClientOrigins(
  configured: ReadonlySet<string> | undefined,
  registered: () => ReadonlySet<string>,
): { has(origin: string): boolean } {
  return { has: (origin) => configured?.has(origin) === true || registered().has(origin) };
}
