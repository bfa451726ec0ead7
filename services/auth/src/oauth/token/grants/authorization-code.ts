import type { Clock } from '@tessera/kernel';
import type { GrantHandler, OAuthClient, TokenResponse } from '../../../contracts.ts';
import type { AuthorizationCodes } from '../../../grants/codes.ts';
import type { RefreshTokens } from '../../../grants/refresh-tokens.ts';
import { OAuthError } from '../../errors.ts';
import { grantAudience, issueTokens, loadAuthz, type TokenIssuerDeps } from './issue-tokens.ts';
import type { CodeCheck, CodeRedemption } from './code-checks/context.ts';
import { checkCodeClient } from './code-checks/check-code-client.ts';
import { checkCodeUnused } from './code-checks/check-code-unused.ts';
import { checkCodeExpiry } from './code-checks/check-code-expiry.ts';
import { checkCodeRedirectUri } from './code-checks/check-code-redirect-uri.ts';
import { checkCodeVerifier } from './code-checks/check-code-verifier.ts';

/** Dependencies of {@link createAuthorizationCodeGrant}. */
export interface CodeGrantDeps extends TokenIssuerDeps {
  codes: AuthorizationCodes;
  refreshTokens: RefreshTokens;
  clock: Clock;
}

/**
 * The rules a redemption must pass, in order: the client check comes first so that another
 * client can neither burn the code nor trigger the reuse revocation.
 */
export const CODE_CHECKS: readonly CodeCheck[] = [
  checkCodeClient,
  checkCodeUnused,
  checkCodeExpiry,
  checkCodeRedirectUri,
  checkCodeVerifier,
];

/** A refresh token is issued only for offline_access and a client allowed the refresh grant. */
function wantsRefreshToken(client: OAuthClient, scopes: string[]): boolean {
  return scopes.includes('offline_access') && client.grantTypes.includes('refresh_token');
}

/**
 * The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6): checks the code against
 * {@link CODE_CHECKS}, marks it used with a compare-and-set (a concurrent redemption that loses
 * is a reuse: the grant is revoked), then issues access, ID and refresh tokens for its family.
 */
export function createAuthorizationCodeGrant(deps: CodeGrantDeps): GrantHandler {
  return {
    grantType: 'authorization_code',
    async handle(client, params): Promise<TokenResponse> {
      const code = params.code;
      if (!code) throw new OAuthError('invalid_request', 'code is required');
      const stored = await deps.codes.find(code);
      if (!stored) throw new OAuthError('invalid_grant', 'the code is invalid');
      const redemption: CodeRedemption = { client, params, stored, now: deps.clock.now() };
      for (const check of CODE_CHECKS) await check(redemption, deps);
      // Before the code is used: a wrong `resource` is the client's mistake to correct (RFC 8707).
      const scopes = stored.family.scope.split(' ').filter((s) => s.length > 0);
      const audience = grantAudience(client, stored.family, params, deps, scopes);
      if (!(await deps.codes.consume(stored.code.codeHash))) {
        await deps.families.revoke(stored.family.id, 'code_reuse');
        throw new OAuthError('invalid_grant', 'the code has already been used');
      }
      const { family } = stored;
      const user = await deps.users.getUser(family.userId);
      if (!user || user.status !== 'active') {
        await deps.families.revoke(family.id, 'user_inactive');
        throw new OAuthError('invalid_grant', 'the grant is no longer valid');
      }
      const authz = await loadAuthz(deps, family);
      const refreshToken = wantsRefreshToken(client, scopes)
        ? await deps.refreshTokens.issue(family, client.refreshTokenIdleTtlSeconds)
        : undefined;
      return issueTokens(
        deps,
        { client, family, user, scopes, audience, refreshToken, nonce: stored.code.nonce ?? undefined },
        authz,
      );
    },
  };
}
