/**
 * Redirect URI matching (SECURITY 1): exact string comparison, no normalisation (RFC 9700
 * §4.1.3), with one exception — RFC 8252 §7.3 loopback redirects of native apps, whose port is
 * chosen at run time: a registered `http://127.0.0.1/...` or `http://[::1]/...` URI *without a
 * port* matches the same URI with any port. A loopback URI registered with a port (a browser app
 * on `http://127.0.0.1:5173/callback`) matches only itself: otherwise any local process listening
 * on another port could receive that app's authorization codes. Private-use URI schemes (RFC 8252 §7.1, `com.example.app:/cb`) are
 * ordinary exact matches. `localhost` gets no port exception (RFC 8252 §8.3 advises against it).
 */
import type { OAuthClient } from '../contracts.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

function withoutPort(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (
    url.protocol !== 'http:' ||
    !LOOPBACK_HOSTS.has(url.hostname) ||
    url.username ||
    url.password ||
    url.hash
  ) {
    return undefined;
  }
  return `http://${url.hostname}${url.pathname}${url.search}`;
}

/**
 * True when `uri` is one of the client's registered redirect URIs (exact), or a loopback variant
 * with any port of one registered without a port.
 *
 * @example
 * if (!matchRedirectUri(client, params.redirect_uri)) return errorPage('redirect_uri is not registered');
 */
export function matchRedirectUri(client: Pick<OAuthClient, 'redirectUris'>, uri: string): boolean {
  if (client.redirectUris.includes(uri)) return true;
  const presented = withoutPort(uri);
  if (presented === undefined) return false;
  // The literal text must also agree outside the port: `new URL` would normalise `/a/../b`.
  return client.redirectUris.some((registered) => {
    const base = withoutPort(registered);
    return (
      base !== undefined &&
      base === presented &&
      new URL(registered).port === '' &&
      stripPort(registered) === stripPort(uri)
    );
  });
}

function stripPort(uri: string): string {
  return uri.replace(/^(http:\/\/(?:127\.0\.0\.1|\[::1\]))(?::\d{1,5})?(?=[/?]|$)/, '$1');
}

/**
 * Checks one redirect URI at registration: absolute, no fragment, and either https, loopback
 * http, http://localhost (development), or a private-use scheme with a dot (RFC 8252 §7.1).
 * Returns a reason when it is not acceptable.
 *
 * @example
 * const problem = redirectUriProblem('http://localhost:5173/callback'); // undefined
 */
export function redirectUriProblem(uri: string): string | undefined {
  // Sent back verbatim in `Location`: whitespace, control characters or a backslash there would
  // be a header injection, or a URI each parser reads differently.
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(uri))
    return 'must not contain spaces, control characters or backslashes';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (url.hash || uri.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain credentials';
  // Redirect URIs match exactly (RFC 9700 §2.1): a `*` would only ever match itself, and whoever
  // registers one means a wildcard this server does not have.
  if (url.hostname.includes('*') || url.hostname.includes('%2a') || url.hostname.includes('%2A'))
    return 'must name one host: wildcards are not supported (redirect URIs match exactly)';
  // `https:host/x` and `https:///host` parse, by repair, as `https://host/`: only the plain form.
  if ((url.protocol === 'https:' || url.protocol === 'http:') && !/^https?:\/\/[^/?#]/i.test(uri))
    return 'must be of the form scheme://host/path';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname) || url.hostname === 'localhost'
      ? undefined
      : 'must use https (http only for loopback)';
  }
  if (/^(javascript|data|file|vbscript|blob):$/i.test(url.protocol)) return 'uses a forbidden scheme';
  return url.protocol.slice(0, -1).includes('.')
    ? undefined
    : 'private-use schemes must be reverse domain names (RFC 8252 §7.1)';
}
