import type { Clock } from '@tessera/kernel';
import type { RefreshTokenInfo, RefreshTokenRevocation, RefreshTokenStore } from '../contracts.ts';
import type { GrantFamilies } from './families.ts';
import { refreshTokenExpiry, type RefreshTokens } from './refresh-tokens.ts';

/**
 * The {@link RefreshTokenStore} the introspection and revocation endpoints use (RFC 7662,
 * RFC 7009): a token is active only while it is its family's current token, unexpired and not
 * revoked; revoking any token of a family (current or rotated) revokes the family.
 */
export class GrantRefreshTokenStore implements RefreshTokenStore {
  readonly #tokens: RefreshTokens;
  readonly #families: GrantFamilies;
  readonly #clock: Clock;

  constructor(tokens: RefreshTokens, families: GrantFamilies, clock: Clock) {
    this.#tokens = tokens;
    this.#families = families;
    this.#clock = clock;
  }

  async inspect(token: string): Promise<RefreshTokenInfo | undefined> {
    const stored = await this.#tokens.find(token);
    if (!stored) return undefined;
    const exp = refreshTokenExpiry(stored);
    if (stored.token.rotatedAt || stored.family.revokedAt || exp.getTime() <= this.#clock.now())
      return undefined;
    return {
      active: true,
      clientId: stored.family.clientId,
      sub: stored.family.userId,
      scope: stored.family.scope,
      exp: Math.floor(exp.getTime() / 1000),
      iat: Math.floor(stored.token.createdAt.getTime() / 1000),
      ...(stored.family.orgId ? { orgId: stored.family.orgId } : {}),
    };
  }

  async revokeFamily(token: string, clientId: string): Promise<RefreshTokenRevocation> {
    const stored = await this.#tokens.find(token);
    if (!stored) return 'unknown';
    if (stored.family.clientId !== clientId) return 'foreign';
    await this.#families.revoke(stored.family.id, 'revocation');
    return 'revoked';
  }
}
