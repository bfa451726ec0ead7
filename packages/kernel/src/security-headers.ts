import helmet, { type HelmetOptions } from 'helmet';

/**
 * The security headers helmet would set for `options`, computed once. `@fastify/helmet` rebuilds
 * helmet's middleware on every request; the values never change per request here (no CSP nonces
 * at this layer), so the server sets this precomputed object in one synchronous hook instead.
 *
 * @example
 * const headers = securityHeaders({ hsts: false });
 * app.addHook('onRequest', (_req, reply, done) => { reply.headers(headers); done(); });
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const collected: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      collected[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete collected[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as never, res as never, (err?: unknown) => {
    failure = err;
  });
  if (failure)
    throw new TypeError(
      `security headers: ${failure instanceof Error ? failure.message : 'invalid options'}`,
    );
  return collected;
}

/**
 * The headers every API response carries (SECURITY 34; OWASP REST Security): a CSP that lets a
 * response render nothing and be framed nowhere, `nosniff`, `no-referrer`, `X-Frame-Options:
 * DENY` for old browsers, `Cross-Origin-Resource-Policy: same-site`, and HSTS behind HTTPS.
 * Helmet's document-oriented headers (`X-XSS-Protection`, `X-Download-Options`,
 * `X-DNS-Prefetch-Control`, `Origin-Agent-Cluster`, `X-Permitted-Cross-Domain-Policies`, COOP) and
 * its default CSP source lists do nothing for JSON and cost bytes on every response; HTML routes
 * set their own CSP (with nonces) on top of these.
 *
 * @example
 * apiSecurityHeaders({ hsts: true })['strict-transport-security']; // 'max-age=31536000; includeSubDomains'
 */
export function apiSecurityHeaders(options: { hsts: boolean }): Readonly<Record<string, string>> {
  return Object.freeze(
    securityHeaders({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: { policy: 'same-site' },
      originAgentCluster: false,
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: options.hsts ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      xContentTypeOptions: true,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xFrameOptions: { action: 'deny' },
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
  );
}
