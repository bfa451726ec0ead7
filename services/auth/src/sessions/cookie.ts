import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The session cookie (SECURITY 24): `HttpOnly`, `SameSite=Lax`, `Path=/`; on an https issuer
 * also `Secure` and the `__Host-` prefix, which browsers only accept from a secure origin, for
 * the whole host, without a Domain attribute (no subdomain can plant or shadow it).
 */
export class SessionCookie {
  readonly name: string;
  readonly #secure: boolean;

  constructor(issuer: string) {
    this.#secure = new URL(issuer).protocol === 'https:';
    this.name = this.#secure ? '__Host-tessera_session' : 'tessera_session';
  }

  /** The token the browser sent, if any. */
  read(request: FastifyRequest): string | undefined {
    const value = request.cookies[this.name];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  }

  set(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
    void reply.setCookie(this.name, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.#secure,
      maxAge: maxAgeSeconds,
    });
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(this.name, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.#secure });
  }
}
