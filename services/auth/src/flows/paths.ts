/** The routes of the user-facing flows (paths only: the gateway serves them on the public origin). */
export const PATHS = {
  authorize: '/oauth2/authorize',
  resume: '/oauth2/authorize/resume',
  login: '/login',
  organization: '/login/organization',
  consent: '/consent',
  logout: '/logout',
  endSession: '/oauth2/logout',
  userinfo: '/oauth2/userinfo',
} as const;

/** A path with a query string built from `params` (undefined values left out). */
export function pathWithQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * `uri` with `params` appended to its query, the registered URI itself left byte for byte as it
 * is (no URL normalisation), as RFC 6749 §4.1.2 requires when adding response parameters.
 */
export function appendQuery(uri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  const text = query.toString();
  if (!text) return uri;
  const separator = uri.includes('?') ? (uri.endsWith('?') || uri.endsWith('&') ? '' : '&') : '?';
  return uri + separator + text;
}
