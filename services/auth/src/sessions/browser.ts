import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionCookie } from './cookie.ts';
import type { Session, SessionStore, SignedInSession } from './store.ts';

/** The session of the current request together with its cookie token (needed for CSRF). */
export interface CurrentSession {
  session: Session;
  token: string;
}

/**
 * Sessions as the pages use them: read from the cookie, created on demand, rotated at sign-in,
 * ended at logout.
 */
export class BrowserSessions {
  readonly store: SessionStore;
  readonly cookie: SessionCookie;

  constructor(store: SessionStore, cookie: SessionCookie) {
    this.store = store;
    this.cookie = cookie;
  }

  /** The live session of this browser, if any. */
  async current(request: FastifyRequest): Promise<CurrentSession | undefined> {
    const token = this.cookie.read(request);
    const session = await this.store.findByToken(token);
    return session && token ? { session, token } : undefined;
  }

  /** The live session of this browser, or a new anonymous one whose cookie is set on `reply`. */
  async ensure(request: FastifyRequest, reply: FastifyReply): Promise<CurrentSession> {
    const existing = await this.current(request);
    if (existing) return existing;
    const created = await this.store.createAnonymous();
    this.cookie.set(reply, created.token, this.store.cookieMaxAge(created.session));
    return created;
  }

  /**
   * Starts a signed-in session under a brand-new token and sets its cookie (SECURITY 24: the id
   * changes at login). The caller moves what belongs to `previous` and then calls {@link end}-like
   * cleanup with {@link discard}.
   */
  async signIn(reply: FastifyReply, userId: string): Promise<{ session: SignedInSession; token: string }> {
    const created = await this.store.createSignedIn(userId);
    this.cookie.set(reply, created.token, this.store.cookieMaxAge(created.session));
    return created;
  }

  /** Deletes a session that has been replaced (its cookie was already overwritten). */
  async discard(session: Session): Promise<void> {
    await this.store.destroy(session.id);
  }

  /** Ends the session server-side and clears the cookie. */
  async end(reply: FastifyReply, session: Session | undefined): Promise<void> {
    if (session) await this.store.destroy(session.id);
    this.cookie.clear(reply);
  }
}
