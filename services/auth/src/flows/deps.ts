/**
 * What the user-facing flows (login, sessions, consent, authorize, logout, userinfo and the code
 * and refresh grants) need from the rest of the auth service. `app.ts` builds one of these from
 * its own dependencies and hands it to `createFlows` (`./plugin.ts`).
 */
import type { Clock, Logger } from '@tessera/kernel';
import type { Redis, Cluster } from 'ioredis';
import type { JSONWebKeySet } from 'jose';
import type { AccessTokenDenylist, ClientLookup, TokenSigner, UsersGateway } from '../contracts.ts';
import type { AuthDatabase } from '../db/database.ts';
import type { AuthMetrics } from '../metrics.ts';
import type { Telemetry } from '@tessera/telemetry';

export type { AuthDatabase };

/** Tuning of the login brute-force guard (SECURITY 23). */
export interface LoginGuardConfig {
  /** Failures are counted in a window of this length, per account and per IP. */
  windowSeconds: number;
  /** Failures per account before every further attempt is delayed. */
  accountDelayAfter: number;
  /** Failures per account that lock it until the window ends. */
  accountLockAfter: number;
  ipDelayAfter: number;
  ipLockAfter: number;
  /** First delay; it doubles with each further failure up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Settings of the flows, checked once when the routes are built. */
export interface FlowConfig {
  /** The issuer: the public URL (`TESSERA_PUBLIC_URL`); https makes cookies `Secure` + `__Host-`. */
  issuer: string;
  /** Lifetime of a signed-in session (absolute, from the login). */
  sessionTtlSeconds: number;
  /** Lifetime of an anonymous session (a login page left open) and of a pending authorization request. */
  interactionTtlSeconds: number;
  /** Authorization code lifetime, at most 60 s (SECURITY 8). */
  codeTtlSeconds: number;
  /** ID token lifetime. */
  idTokenTtlSeconds: number;
  /** The platform API's audience (`TESSERA_API_AUDIENCE`): tokens for it may also call userinfo. */
  apiAudience: string;
  loginGuard: LoginGuardConfig;
}

/** Defaults for everything but the issuer. */
export const DEFAULT_FLOW_CONFIG: Omit<FlowConfig, 'issuer'> = {
  sessionTtlSeconds: 8 * 3600,
  interactionTtlSeconds: 30 * 60,
  codeTtlSeconds: 60,
  idTokenTtlSeconds: 3600,
  apiAudience: 'tessera-api',
  loginGuard: {
    windowSeconds: 15 * 60,
    accountDelayAfter: 3,
    accountLockAfter: 10,
    ipDelayAfter: 20,
    ipLockAfter: 100,
    baseDelayMs: 250,
    maxDelayMs: 4_000,
  },
};

/** The public keys this issuer signs with (the `/jwks.json` document), to verify its own tokens. */
export type JwksSource = () => Promise<JSONWebKeySet>;

/** Dependencies of the flows. */
export interface FlowDeps {
  db: AuthDatabase;
  clock: Clock;
  clients: ClientLookup;
  users: UsersGateway;
  signer: TokenSigner;
  denylist: AccessTokenDenylist;
  jwks: JwksSource;
  config: FlowConfig;
  /** Login attempt counters live in Redis when given (shared by every instance), else in memory. */
  redis?: Redis | Cluster | undefined;
  /** Prefix of the Redis keys written by the flows. */
  redisKeyPrefix?: string | undefined;
  logger?: Logger | undefined;
  /** Business metrics (logins, lockouts, reuse detections); absent in unit tests. */
  metrics?: AuthMetrics | undefined;
  telemetry?: Telemetry | undefined;
}

/**
 * Checks a {@link FlowConfig} once at build time (HOUSE-STYLE rule 13).
 *
 * @example
 * assertFlowConfig({ ...DEFAULT_FLOW_CONFIG, issuer: 'https://id.example.com' });
 */
export function assertFlowConfig(config: FlowConfig): void {
  let issuer: URL;
  try {
    issuer = new URL(config.issuer);
  } catch {
    throw new TypeError(`flows: issuer "${config.issuer}" is not a URL`);
  }
  if (issuer.protocol !== 'https:' && issuer.protocol !== 'http:')
    throw new TypeError('flows: issuer must be http(s)');
  if (issuer.search || issuer.hash) throw new TypeError('flows: issuer must have no query or fragment');
  if (!(config.codeTtlSeconds > 0 && config.codeTtlSeconds <= 60))
    throw new TypeError('flows: codeTtlSeconds must be 1..60');
  for (const key of ['sessionTtlSeconds', 'interactionTtlSeconds', 'idTokenTtlSeconds'] as const) {
    if (!(Number.isInteger(config[key]) && config[key] > 0))
      throw new TypeError(`flows: ${key} must be a positive integer`);
  }
  const guard = config.loginGuard;
  if (guard.accountLockAfter < 1 || guard.ipLockAfter < 1 || guard.windowSeconds < 1) {
    throw new TypeError('flows: loginGuard thresholds and window must be positive');
  }
}
