/**
 * The user service's internal API as the auth service sees it (docs/internal-api.md): every call
 * carries a service token this issuer mints for itself (`sub: service:tessera-auth`, scope
 * `internal`), reused until a minute before it expires; authorization contexts go through the
 * two-level cache because every token issuance for a user needs one.
 */
import {
  AppError,
  ServiceUnavailableError,
  createServiceClient,
  type Clock,
  type ServiceClient,
} from '@tessera/kernel';
import type { Telemetry } from '@tessera/telemetry';
import type { AuthzContext, TokenSigner, UserProfile, UsersGateway } from './contracts.ts';

export const SERVICE_SUBJECT = 'service:tessera-auth';
export const SERVICE_CLIENT_ID = 'tessera-auth';
const SERVICE_TOKEN_TTL_S = 600;
const RENEW_BEFORE_S = 60;

/** Options of {@link HttpUsersGateway}. */
export interface HttpUsersGatewayOptions {
  /** Base URL of the user service (`TESSERA_USERS_URL`). */
  baseUrl: string;
  signer: TokenSigner;
  /** `aud` of the service token (`TESSERA_API_AUDIENCE`). */
  audience: string;
  clock: Clock;
  /** Propagated headers (request id, traceparent) for each call. */
  headers?: () => Record<string, string>;
  timeoutMs?: number;
  /** Tracing: each call is a CLIENT span carrying `traceparent`. */
  telemetry?: Telemetry | undefined;
}

/** Mints and reuses the auth service's own service token. */
export class ServiceTokenSource {
  readonly #signer: TokenSigner;
  readonly #audience: string;
  readonly #clock: Clock;
  #current: { token: string; exp: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(signer: TokenSigner, audience: string, clock: Clock) {
    this.#signer = signer;
    this.#audience = audience;
    this.#clock = clock;
  }

  /** A valid service token, minted again a minute before the current one expires. */
  async get(): Promise<string> {
    const now = Math.floor(this.#clock.now() / 1000);
    if (this.#current && now < this.#current.exp - RENEW_BEFORE_S) return this.#current.token;
    this.#pending ??= this.#signer
      .signAccessToken({
        sub: SERVICE_SUBJECT,
        clientId: SERVICE_CLIENT_ID,
        aud: this.#audience,
        scope: 'internal',
        ttlSeconds: SERVICE_TOKEN_TTL_S,
      })
      .then(({ token, exp }) => {
        this.#current = { token, exp };
        return token;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }
}

function unexpected(status: number): AppError {
  return status >= 500
    ? new ServiceUnavailableError('upstream_unavailable', 'the user service is unavailable')
    : new AppError('upstream_error', 502, 'Bad Gateway', { detail: `the user service answered ${status}` });
}

/**
 * The HTTP implementation of {@link UsersGateway}.
 *
 * @example
 * const users = new HttpUsersGateway({ baseUrl: 'http://127.0.0.1:8082', signer, audience: 'tessera-api', clock });
 * const authz = await users.getAuthz(userId, orgId);
 */
export class HttpUsersGateway implements UsersGateway {
  readonly #client: ServiceClient;
  readonly tokens: ServiceTokenSource;

  constructor(options: HttpUsersGatewayOptions) {
    this.tokens = new ServiceTokenSource(options.signer, options.audience, options.clock);
    this.#client = createServiceClient({
      baseUrl: options.baseUrl,
      token: () => this.tokens.get(),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      telemetry: options.telemetry,
    });
  }

  async verifyCredentials(email: string, password: string): Promise<{ userId: string } | undefined> {
    const res = await this.#client.request<{ userId: string }>('POST', '/internal/credentials/verify', {
      email,
      password,
    });
    if (res.status === 200) return { userId: res.body.userId };
    if (res.status === 401 || res.status === 400) return undefined;
    throw unexpected(res.status);
  }

  async getUser(userId: string): Promise<UserProfile | undefined> {
    const res = await this.#client.request<UserProfile>(
      'GET',
      `/internal/users/${encodeURIComponent(userId)}`,
    );
    if (res.status === 200) return res.body;
    if (res.status === 404 || res.status === 400) return undefined;
    throw unexpected(res.status);
  }

  async listOrganizations(userId: string): Promise<Array<{ id: string; slug: string; name: string }>> {
    const res = await this.#client.request<{
      organizations: Array<{ id: string; slug: string; name: string }>;
    }>('GET', `/internal/users/${encodeURIComponent(userId)}/orgs`);
    if (res.status === 200) return res.body.organizations;
    if (res.status === 404 || res.status === 400) return [];
    throw unexpected(res.status);
  }

  async getAuthz(userId: string, orgId: string): Promise<AuthzContext | undefined> {
    // No cache on this side: the user service answers from its two-level cache, which its own
    // writes invalidate after commit. A second cache here would keep serving roles and
    // permissions that were just removed (SECURITY: revocations apply to the next token).
    const res = await this.#client.request<AuthzContext>(
      'GET',
      `/internal/users/${encodeURIComponent(userId)}/authz?org=${encodeURIComponent(orgId)}`,
    );
    if (res.status === 200) return res.body;
    if (res.status === 404 || res.status === 400) return undefined;
    throw unexpected(res.status);
  }

  /** Closes the HTTP pool. */
  close(): Promise<void> {
    return this.#client.close();
  }
}
