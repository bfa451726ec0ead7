import type { Clock } from '@tessera/kernel';
import type { Telemetry } from '@tessera/telemetry';
import type { GrantHandler, TokenResponse } from '../../../contracts.ts';
import type { RefreshTokens } from '../../../grants/refresh-tokens.ts';
import { OAuthError } from '../../errors.ts';
import {
  buildTokenResponse,
  grantAudience,
  loadAuthz,
  signAccessToken,
  type TokenIssuerDeps,
} from './issue-tokens.ts';
import type { RefreshAttempt, RefreshCheck } from './refresh-checks/context.ts';
import { checkRefreshClient } from './refresh-checks/check-refresh-client.ts';
import { checkFamilyActive } from './refresh-checks/check-family-active.ts';
import { checkRefreshUnused } from './refresh-checks/check-refresh-unused.ts';
import { checkRefreshExpiry } from './refresh-checks/check-refresh-expiry.ts';
import { checkRefreshScope } from './refresh-checks/check-refresh-scope.ts';
import { checkRefreshUser } from './refresh-checks/check-refresh-user.ts';

/** Dependencies of {@link createRefreshTokenGrant}. */
export interface RefreshGrantDeps extends TokenIssuerDeps {
  refreshTokens: RefreshTokens;
  clock: Clock;
  /** Tracing: the rotation is a `refresh.rotate` span. */
  telemetry?: Telemetry | undefined;
}

/** The rules a refresh must pass, in order (client first: another client cannot revoke the family). */
export const REFRESH_CHECKS: readonly RefreshCheck[] = [
  checkRefreshClient,
  checkFamilyActive,
  checkRefreshUnused,
  checkRefreshExpiry,
  checkRefreshScope,
  checkRefreshUser,
];

/**
 * The `refresh_token` grant (RFC 6749 §6, RFC 9700 §4.14.2): checks the token against
 * {@link REFRESH_CHECKS}, rotates it with a compare-and-set (of two concurrent uses exactly one
 * wins; the loser is a reuse and revokes the family), re-reads the user's roles, and issues new
 * tokens in the same family.
 */
export function createRefreshTokenGrant(deps: RefreshGrantDeps): GrantHandler {
  return {
    grantType: 'refresh_token',
    async handle(client, params): Promise<TokenResponse> {
      const token = params.refresh_token;
      if (!token) throw new OAuthError('invalid_request', 'refresh_token is required');
      const stored = await deps.refreshTokens.find(token);
      if (!stored) throw new OAuthError('invalid_grant', 'the refresh token is invalid');
      const attempt: RefreshAttempt = { client, params, stored, now: deps.clock.now() };
      for (const check of REFRESH_CHECKS) await check(attempt, deps);
      const { family } = stored;
      const authz = await loadAuthz(deps, family);
      const user = attempt.user;
      const scopes = attempt.scopes;
      if (!user || !scopes) throw new Error('refresh checks did not establish user and scope');
      const audience = grantAudience(client, family, params, deps, scopes);
      // Sign first, then rotate and record the access token in one statement (one commit); a
      // token signed for a rotation that loses the race is never handed out.
      const access = await signAccessToken(deps, { client, family, user, scopes, audience }, authz);
      const rotate = () => deps.refreshTokens.rotate(stored, client.refreshTokenIdleTtlSeconds, access);
      const next = deps.telemetry?.enabled
        ? await deps.telemetry.span(
            'refresh.rotate',
            { 'tessera.client_id': client.clientId },
            async (span) => {
              const rotated = await rotate();
              span.setAttribute(
                'tessera.refresh.reuse_detected',
                'failure' in rotated && rotated.failure === 'used',
              );
              return rotated;
            },
          )
        : await rotate();
      if ('failure' in next) {
        if (next.failure === 'revoked') throw new OAuthError('invalid_grant', 'the grant has been revoked');
        await deps.families.revoke(family.id, 'refresh_token_reuse');
        throw new OAuthError('invalid_grant', 'the refresh token has already been used');
      }
      // No re-check after issuance: the rotation share-locked the live family, so a revocation
      // either came first (no rotation) or waits and then deny-lists the access token recorded.
      return buildTokenResponse(
        deps,
        { client, family, user, scopes, audience, refreshToken: next.token },
        access,
      );
    },
  };
}
