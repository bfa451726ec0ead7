import type {
  AuthzContext,
  OAuthClient,
  TokenResponse,
  TokenSigner,
  UserProfile,
  UsersGateway,
} from '../../../contracts.ts';
import type { GrantFamilies, GrantFamily } from '../../../grants/families.ts';
import { OAuthError } from '../../errors.ts';
import { audienceClaim, requestedAudiences } from '../route.ts';
import { permissionsForScopes } from './permission-scopes.ts';

/** What the code and refresh grants need to mint tokens. */
export interface TokenIssuerDeps {
  signer: TokenSigner;
  families: GrantFamilies;
  users: UsersGateway;
  issuer: string;
  idTokenTtlSeconds: number;
  /**
   * Userinfo takes tokens for the platform API (`api`) or for itself (`userinfo`, its URL): a user
   * token granted `openid` whose audience is neither also names userinfo, as its `aud` says.
   */
  userinfoAudiences?: { api: string; userinfo: string } | undefined;
}

/** One token response to mint for a family. */
export interface TokenIssue {
  client: OAuthClient;
  family: GrantFamily;
  user: UserProfile;
  scopes: string[];
  /** The access token's `aud` ({@link grantAudience}). */
  audience: string | string[];
  refreshToken: string | undefined;
  nonce?: string | undefined;
}

/**
 * The `aud` of a user token (RFC 8707 §2.2). The grant's resources are those the authorization
 * request named, else the client's audiences, in both cases only those the client still has. A
 * token request naming `resource` (or `audience`) gets exactly those, each of which must be among
 * the grant's (invalid_target otherwise: never a token for an audience the client did not ask
 * for); without, the authorization request's resources, else the client's first audience. Only
 * in that last, unrestricted case does a token granted `openid` also name userinfo when its
 * audience would not let it call userinfo; a token the client restricted stays restricted.
 *
 * @example
 * const audience = grantAudience(client, family, params, deps, scopes); // 'https://api.example.com/'
 */
export function grantAudience(
  client: OAuthClient,
  family: Pick<GrantFamily, 'resources'>,
  params: Record<string, string | undefined>,
  deps: Pick<TokenIssuerDeps, 'issuer' | 'userinfoAudiences'>,
  scopes: readonly string[],
): string | string[] {
  const named = family.resources ?? [];
  const granted = named.length > 0 ? named.filter((r) => client.audiences.includes(r)) : client.audiences;
  const requested = requestedAudiences(params);
  if (requested.some((resource) => !granted.includes(resource)))
    throw new OAuthError('invalid_target', 'the requested resource is not part of this grant');
  if (requested.length === 0 && named.length > 0 && granted.length === 0)
    throw new OAuthError(
      'invalid_target',
      'the resources of this grant are no longer available to the client',
    );
  const chosen =
    requested.length > 0 ? requested : named.length > 0 ? granted : [client.audiences[0] ?? deps.issuer];
  const userinfo = deps.userinfoAudiences;
  if (
    requested.length === 0 &&
    named.length === 0 &&
    userinfo &&
    scopes.includes('openid') &&
    !chosen.includes(userinfo.api) &&
    !chosen.includes(userinfo.userinfo)
  )
    chosen.push(userinfo.userinfo);
  return audienceClaim(chosen);
}

/**
 * Reads the user's roles and permissions in the grant's organization, fresh for every token
 * (role changes apply at the next refresh). A user who left the organization loses the grant.
 */
export async function loadAuthz(
  deps: TokenIssuerDeps,
  family: GrantFamily,
): Promise<AuthzContext | undefined> {
  if (!family.orgId) return undefined;
  const authz = await deps.users.getAuthz(family.userId, family.orgId);
  if (authz) return authz;
  await deps.families.revoke(family.id, 'membership_removed');
  throw new OAuthError('invalid_grant', 'the user is no longer a member of the organization');
}

/** The ID token claims the granted scopes allow (OIDC Core §5.4), plus the organization. */
function idTokenClaims(user: UserProfile, scopes: string[], orgId: string | null): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes('email')) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  if (scopes.includes('profile') && user.name !== null) claims.name = user.name;
  if (orgId) claims.org_id = orgId;
  return claims;
}

/** A signed access token not yet handed out. */
export interface SignedAccessToken {
  token: string;
  jti: string;
  exp: number;
}

/**
 * Mints the access token (RFC 9068, with org_id/roles/permissions) for a grant: `permissions` holds
 * the user's permissions that a granted scope names (see permission-scopes.ts).
 *
 * @example
 * const access = await signAccessToken(deps, issue, authz);
 */
export async function signAccessToken(
  deps: TokenIssuerDeps,
  issue: Pick<TokenIssue, 'client' | 'family' | 'user' | 'scopes' | 'audience'>,
  authz: AuthzContext | undefined,
): Promise<SignedAccessToken> {
  const { client, family, user, scopes } = issue;
  return deps.signer.signAccessToken({
    sub: user.id,
    clientId: client.clientId,
    aud: issue.audience,
    scope: scopes.join(' '),
    ttlSeconds: client.accessTokenTtlSeconds,
    // The user's permissions in the organization, limited to those the granted scopes name.
    ...(authz
      ? {
          orgId: authz.orgId,
          roles: authz.roles,
          permissions: permissionsForScopes(authz.permissions, scopes),
        }
      : {}),
    grantId: family.id,
    authTime: Math.floor(family.authTime.getTime() / 1000),
  });
}

/**
 * Mints the access token, records its jti on the family, and completes the response (see
 * {@link completeTokenResponse}).
 *
 * @example
 * return issueTokens(deps, { client, family, user, scopes, refreshToken }, authz);
 */
export async function issueTokens(
  deps: TokenIssuerDeps,
  issue: TokenIssue,
  authz: AuthzContext | undefined,
): Promise<TokenResponse> {
  const access = await signAccessToken(deps, issue, authz);
  await deps.families.recordAccessToken(issue.family.id, access.jti, access.exp);
  return completeTokenResponse(deps, issue, access);
}

/**
 * Builds the response around an access token already recorded on the family (adds an ID token
 * when `openid` was granted), then re-checks the family (see {@link buildTokenResponse} for the
 * response alone). If a concurrent request revoked it
 * meanwhile (the loser of a redemption race is a reuse, RFC 9700 §4.14.2: the server cannot tell
 * attacker from client, so it revokes the active tokens), the revocation is applied again so the
 * access token just recorded is deny-listed too: the race still has exactly one successful
 * response, but no token escapes the revocation.
 *
 * @example
 * return completeTokenResponse(deps, { client, family, user, scopes, refreshToken: next }, access);
 */
export async function completeTokenResponse(
  deps: TokenIssuerDeps,
  issue: TokenIssue,
  access: SignedAccessToken,
): Promise<TokenResponse> {
  const response = await buildTokenResponse(deps, issue, access);
  if (await deps.families.isRevoked(issue.family.id))
    await deps.families.revoke(issue.family.id, 'revocation');
  return response;
}

/**
 * The token response (access token, refresh token, ID token when `openid` was granted) without
 * the revocation re-check; for callers whose write already excluded a concurrent revocation.
 *
 * @example
 * return buildTokenResponse(deps, { client, family, user, scopes, refreshToken }, access);
 */
export async function buildTokenResponse(
  deps: TokenIssuerDeps,
  issue: TokenIssue,
  access: SignedAccessToken,
): Promise<TokenResponse> {
  const { client, family, user, scopes } = issue;
  const scope = scopes.join(' ');
  const response: TokenResponse = {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: client.accessTokenTtlSeconds,
    scope,
  };
  if (issue.refreshToken) response.refresh_token = issue.refreshToken;
  if (scopes.includes('openid')) {
    response.id_token = await deps.signer.signIdToken({
      sub: user.id,
      clientId: client.clientId,
      ...(issue.nonce !== undefined ? { nonce: issue.nonce } : {}),
      authTime: Math.floor(family.authTime.getTime() / 1000),
      ttlSeconds: deps.idTokenTtlSeconds,
      accessToken: access.token,
      claims: idTokenClaims(user, scopes, family.orgId),
      alg: client.idTokenSignedResponseAlg,
    });
  }
  return response;
}
