/**
 * The user-facing flows (login, sessions, consent, authorize, logout, userinfo, code and refresh
 * grants) as an auth feature: `createFlows` fed from the core, plus the discovery members those
 * flows implement.
 */
import type { AuthFeatureFactory } from './app.ts';
import { DEFAULT_FLOW_CONFIG, type FlowConfig } from './flows/deps.ts';
import { createFlows } from './flows/plugin.ts';

/** Discovery members of the flows (OpenID Connect Discovery §3, RFC 9207, RFC 7636). */
export const FLOWS_METADATA = {
  authorization_endpoint: '/oauth2/authorize',
  userinfo_endpoint: '/oauth2/userinfo',
  end_session_endpoint: '/oauth2/logout',
  response_types_supported: ['code'],
  response_modes_supported: ['query'],
  code_challenge_methods_supported: ['S256'],
  prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
  authorization_response_iss_parameter_supported: true,
  request_parameter_supported: false,
  request_uri_parameter_supported: false,
  claims_parameter_supported: false,
  claims_supported: [
    'sub',
    'iss',
    'aud',
    'exp',
    'iat',
    'auth_time',
    'nonce',
    'at_hash',
    'azp',
    'email',
    'email_verified',
    'name',
    'org_id',
  ],
} as const;

const ENDPOINTS = ['authorization_endpoint', 'userinfo_endpoint', 'end_session_endpoint'] as const;

/**
 * The discovery members of the flows with absolute endpoint URLs for `issuer`.
 *
 * @example
 * const metadata = flowsMetadata('https://id.example.com');
 */
export function flowsMetadata(issuer: string): Record<string, unknown> {
  const metadata: Record<string, unknown> = { ...FLOWS_METADATA };
  for (const name of ENDPOINTS) metadata[name] = `${issuer}${FLOWS_METADATA[name]}`;
  return metadata;
}

/**
 * The flows feature with some of its configuration replaced (tests shorten the login guard's delays).
 *
 * @example
 * await buildAuthApp({ ...deps, features: [flowsFeatureWith({ loginGuard: { ...DEFAULT_FLOW_CONFIG.loginGuard, baseDelayMs: 1 } })] });
 */
export function flowsFeatureWith(overrides: Partial<Omit<FlowConfig, 'issuer'>>): AuthFeatureFactory {
  return (core) => {
    const flows = createFlows({
      db: core.db,
      clock: core.clock,
      clients: core.clients,
      users: core.users,
      signer: core.signer,
      denylist: core.denylist,
      jwks: core.jwks,
      redis: core.redis,
      redisKeyPrefix: core.redisKeyPrefix,
      logger: core.logger,
      metrics: core.metrics,
      telemetry: core.telemetry,
      config: {
        ...DEFAULT_FLOW_CONFIG,
        sessionTtlSeconds: core.config.sessionTtlSeconds,
        idTokenTtlSeconds: core.config.idTokenTtlSeconds,
        apiAudience: core.config.apiAudience,
        ...overrides,
        issuer: core.issuer,
      },
    });
    return { ...flows, metadata: flowsMetadata(core.issuer) };
  };
}

/**
 * The default feature of `buildAuthApp`.
 *
 * @example
 * await buildAuthApp({ ...deps, features: [flowsFeature] });
 */
export const flowsFeature: AuthFeatureFactory = flowsFeatureWith({});
