/**
 * The access-token denylist (RFC 7009 §2: a revoked JWT stays valid to anyone who does not ask,
 * so revocation records its `jti` until `exp`; introspection and the middleware's opt-in hook
 * consult it). Redis when configured, else the `revoked_access_tokens` table.
 */
import type { AccessTokenDenylist } from '../contracts.ts';
import type { ExpiringIdSet } from './once-store.ts';

/**
 * A denylist over any {@link ExpiringIdSet} (`RedisIdSet` or `DbIdSet`).
 *
 * @example
 * const denylist = new IdSetDenylist(new RedisIdSet(redis, 'tessera:auth:denied:', clock));
 * await denylist.add(claims.jti, claims.exp);
 */
export class IdSetDenylist implements AccessTokenDenylist {
  readonly #set: ExpiringIdSet;

  constructor(set: ExpiringIdSet) {
    this.#set = set;
  }

  async add(jti: string, exp: number): Promise<void> {
    await this.#set.add(jti, exp);
  }

  has(jti: string): Promise<boolean> {
    return this.#set.has(jti);
  }
}
