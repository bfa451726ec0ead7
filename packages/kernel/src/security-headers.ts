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
