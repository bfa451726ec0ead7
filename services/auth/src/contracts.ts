/**
 * The seams between the auth service's features. `clients/`, `keys/`, `tokens/` and the token,
 * introspection and revocation routes implement some; `login/`, `sessions/`, `oauth/authorize/`
 * and the code and refresh grants implement others. `app.ts` wires them together.
 */
import type { FastifyRequest } from 'fastify';

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A registered OAuth client as the protocol code sees it (never carries the plain secret). */
export interface OAuthClient {
  clientId: string;
  name: string;
  type: 'public' | 'confidential';
  tokenEndpointAuthMethod: ClientAuthMethod;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  /** Scopes the client may request (`openid profile email offline_access users:read` ...). */
  scopes: string[];
  /** Audiences its access tokens may carry; the first is the default. */
  audiences: string[];
  accessTokenTtlSeconds: number;
  refreshTokenIdleTtlSeconds: number;
  refreshTokenAbsoluteTtlSeconds: number;
  /** First-party clients skip the consent page. */
  firstParty: boolean;
  /** Public keys for private_key_jwt (a JWKS document), when that method is used. */
  jwks?: { keys: Record<string, unknown>[] } | undefined;
  /** OIDC `id_token_signed_response_alg`; undefined = the issuer's signing algorithm. */
  idTokenSignedResponseAlg?: 'ES256' | 'EdDSA' | 'RS256' | undefined;
  /**
   * When this client was registered. A grant older than that belongs to an earlier, deleted
   * client that had the same id, and is worth nothing to this one.
   */
  registeredAt?: Date | undefined;
}

/** Looks clients up (cached); used by every endpoint that receives a client_id. */
export interface ClientLookup {
  find(clientId: string): Promise<OAuthClient | undefined>;
}

/**
 * Authenticates the client of a token, introspection or revocation request (RFC 6749 §2.3,
 * RFC 7523 for private_key_jwt). Throws OAuthError('invalid_client') on failure.
 * `body` is the parsed form body (client_id, client_secret, client_assertion...).
 */
export interface ClientAuthenticator {
  authenticate(request: FastifyRequest, body: Record<string, string | undefined>): Promise<OAuthClient>;
}

/** Claims of an access token before signing (RFC 9068); the signer adds iss, iat, nbf, exp, jti. */
export interface AccessTokenInput {
  sub: string;
  clientId: string;
  aud: string | string[];
  scope: string;
  ttlSeconds: number;
  /** Authorization claims for user tokens. */
  orgId?: string;
  roles?: string[];
  permissions?: string[];
  /** Refresh-token family / grant id, so revoking a family can find its access tokens. */
  grantId?: string;
  authTime?: number;
}

/** Claims of an ID token before signing (OpenID Connect Core §2); aud = client_id, azp = client_id. */
export interface IdTokenInput {
  sub: string;
  clientId: string;
  nonce?: string;
  authTime: number;
  ttlSeconds: number;
  /** The access token issued with it, for at_hash. */
  accessToken?: string;
  /** Extra standard claims (email, email_verified, name, org_id) allowed by the granted scopes. */
  claims?: Record<string, unknown>;
  /** The client's `id_token_signed_response_alg`; undefined = the issuer's signing algorithm. */
  alg?: 'ES256' | 'EdDSA' | 'RS256' | undefined;
}

/** Signs tokens with the current signing key (ES256 by default). */
export interface TokenSigner {
  signAccessToken(input: AccessTokenInput): Promise<{ token: string; jti: string; exp: number }>;
  signIdToken(input: IdTokenInput): Promise<string>;
}

/** Access tokens revoked before their `exp` (Redis when configured, else the database). */
export interface AccessTokenDenylist {
  add(jti: string, exp: number): Promise<void>;
  has(jti: string): Promise<boolean>;
}

/** What introspection reports about a refresh token (RFC 7662 §2.2). */
export interface RefreshTokenInfo {
  active: boolean;
  clientId: string;
  sub: string;
  scope: string;
  exp: number;
  iat: number;
  orgId?: string;
}

/** What {@link RefreshTokenStore.revokeFamily} did with a presented token. */
export type RefreshTokenRevocation = 'revoked' | 'unknown' | 'foreign';

/**
 * The refresh-token families (grants), owned by the code/refresh grant feature and used by the
 * introspection and revocation routes.
 */
export interface RefreshTokenStore {
  /** Inactive/unknown → undefined. Never throws for garbage input. */
  inspect(token: string): Promise<RefreshTokenInfo | undefined>;
  /**
   * Revokes the token's whole family (refresh tokens and, via the denylist, its access tokens) if
   * `clientId` owns it. `unknown`: not a refresh token this server issued; `foreign`: issued to
   * another client, left untouched.
   */
  revokeFamily(token: string, clientId: string): Promise<RefreshTokenRevocation>;
}

/**
 * One grant type of the token endpoint. `client` is already authenticated (or identified for
 * public clients) and allowed to use this grant type; `params` is the form body.
 */
export interface GrantHandler {
  grantType: GrantType;
  handle(
    client: OAuthClient,
    params: Record<string, string | undefined>,
    request: FastifyRequest,
  ): Promise<TokenResponse>;
}

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

/** Roles and effective permissions of a user in one organization (from the user service). */
export interface AuthzContext {
  userId: string;
  orgId: string;
  orgSlug: string;
  roles: string[];
  permissions: string[];
}

/** A user as the user service describes it internally. */
export interface UserProfile {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  status: 'active' | 'disabled';
  /** ISO time of the last password change: grants older than this are invalid (SECURITY 14b). */
  passwordChangedAt: string | null;
  updatedAt: string;
}

/** The user service's internal API, as seen from auth (service token attached, authz cached). */
export interface UsersGateway {
  verifyCredentials(email: string, password: string): Promise<{ userId: string } | undefined>;
  getUser(userId: string): Promise<UserProfile | undefined>;
  listOrganizations(userId: string): Promise<Array<{ id: string; slug: string; name: string }>>;
  getAuthz(userId: string, orgId: string): Promise<AuthzContext | undefined>;
}
