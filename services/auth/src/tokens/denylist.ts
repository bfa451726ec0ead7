/**
 * The access-token denylist (RFC 7009 §2: a revoked JWT stays valid to anyone who does not ask,
 * so revocation records its `jti` until `exp`; introspection and the middleware's opt-in hook
 * consult it). Redis when configured, else the `revoked_access_tokens` table. Every addition is
 * also announced to resource servers (ADR 0008), which keep their own in-memory copy.
 */
import type { AccessTokenDenylist } from '../contracts.ts';
import type { ExpiringIdSet } from './once-store.ts';

/** Where additions are announced (see `revocation-announcer.ts`). */
export interface RevocationAnnouncement {
  announce(revocation: { jti: string; exp: number }): Promise<void>;
}

/**
 * A denylist over any {@link ExpiringIdSet} (`RedisIdSet` or `DbIdSet`).
 *
 * @example
 * const denylist = new IdSetDenylist(new RedisIdSet(redis, 'tessera:auth:denied:', clock), announcer);
 * await denylist.add(claims.jti, claims.exp);
 */
export class IdSetDenylist implements AccessTokenDenylist {
  readonly #set: ExpiringIdSet;
  readonly #announcer: RevocationAnnouncement | undefined;

  constructor(set: ExpiringIdSet, announcer?: RevocationAnnouncement) {
    this.#set = set;
    this.#announcer = announcer;
  }

  /** Records, then announces (also when already recorded: a repeat heals a lost announcement). */
  async add(jti: string, exp: number): Promise<void> {
    await this.#set.add(jti, exp);
    await this.#announcer?.announce({ jti, exp });
  }

  has(jti: string): Promise<boolean> {
    return this.#set.has(jti);
  }
}
