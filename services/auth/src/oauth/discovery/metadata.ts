/**
 * The authorization server metadata (RFC 8414 §2) and OpenID Provider metadata (OpenID Connect
 * Discovery 1.0 §3): built once from what is actually registered — grant handlers, client
 * authentication methods, the signing algorithm and what the features contribute — so the
 * document never promises more than the server does.
 */
import type { GrantType } from '../../contracts.ts';
import type { SigningAlgorithm } from '../../config.ts';
import { ASSERTION_ALGORITHMS } from '../client-auth.ts';
import { INTROSPECTION_PATH } from '../introspect/route.ts';
import { REVOCATION_PATH } from '../revoke/route.ts';
import { TOKEN_PATH } from '../token/route.ts';

export const JWKS_PATH = '/jwks.json';
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** Scopes advertised by default: OpenID Connect's and the permissions of Tessera's own APIs. */
export const DEFAULT_SCOPES_SUPPORTED = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'users:read',
  'users:write',
  'orgs:read',
  'orgs:write',
];

/** Inputs of {@link buildMetadata}. */
export interface MetadataInput {
  issuer: string;
  grantTypes: readonly GrantType[];
  signingAlg: SigningAlgorithm;
  /** Algorithms ID tokens can be signed with (the signing algorithm first; RS256 always, OIDC Discovery §3). */
  idTokenSigningAlgs?: readonly SigningAlgorithm[];
  scopesSupported: readonly string[];
  /** Members contributed by features (authorization, userinfo and logout endpoints, claims...). */
  extra: Readonly<Record<string, unknown>>;
}

/**
 * The metadata document served at both well-known locations.
 *
 * @example
 * const doc = buildMetadata({ issuer, grantTypes: ['client_credentials'], signingAlg: 'ES256', scopesSupported, extra: {} });
 */
export function buildMetadata(input: MetadataInput): Record<string, unknown> {
  const url = (path: string) => `${input.issuer}${path}`;
  return {
    issuer: input.issuer,
    token_endpoint: url(TOKEN_PATH),
    jwks_uri: url(JWKS_PATH),
    introspection_endpoint: url(INTROSPECTION_PATH),
    revocation_endpoint: url(REVOCATION_PATH),
    grant_types_supported: [...input.grantTypes],
    scopes_supported: [...input.scopesSupported],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    id_token_signing_alg_values_supported: [...(input.idTokenSigningAlgs ?? [input.signingAlg])],
    subject_types_supported: ['public'],
    response_types_supported: [],
    ...input.extra,
  };
}
