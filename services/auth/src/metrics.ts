import { Counter, Gauge, type Registry } from 'prom-client';

/** The auth service's business metrics (docs/observability.md lists them). */
export interface AuthMetrics {
  tokensIssued: Counter<'grant_type' | 'client_id'>;
  logins: Counter<'result'>;
  lockouts: Counter<'scope'>;
  refreshReuse: Counter;
  tokensRevoked: Counter<'reason'>;
}

/** Why tokens were revoked. */
export type RevocationReason = 'revocation_request' | 'refresh_reuse' | 'code_reuse';

/** What the signing-key gauges read at scrape time. */
export interface SigningKeyView {
  list(): Promise<Array<{ state: string; activatesAt: string; keySet?: string }>>;
}

/**
 * Registers the auth metrics on `registry`: tokens issued by grant and client, logins by result,
 * lockouts by counter, refresh-token reuse detections, revocations by reason.
 *
 * @example
 * const metrics = createAuthMetrics(httpMetrics.registry);
 * metrics.tokensIssued.inc({ grant_type: 'refresh_token', client_id: 'demo-spa' });
 */
export function createAuthMetrics(registry: Registry): AuthMetrics {
  return {
    tokensIssued: new Counter({
      name: 'tessera_tokens_issued_total',
      help: 'Token responses issued by the token endpoint, by grant type and client.',
      labelNames: ['grant_type', 'client_id'] as const,
      registers: [registry],
    }),
    logins: new Counter({
      name: 'tessera_logins_total',
      help: 'Login form submissions, by result: success, failure (wrong email or password), locked (refused by the brute-force guard).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    lockouts: new Counter({
      name: 'tessera_login_lockouts_total',
      help: 'Login attempts refused because an account or an IP address is locked, by which counter locked it.',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    refreshReuse: new Counter({
      name: 'tessera_refresh_reuse_detected_total',
      help: 'Already-rotated refresh tokens presented again (the whole family is revoked each time).',
      registers: [registry],
    }),
    tokensRevoked: new Counter({
      name: 'tessera_tokens_revoked_total',
      help: 'Revocations, by reason: revocation_request (RFC 7009), refresh_reuse, code_reuse.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

/**
 * Registers `tessera_signing_keys{state}` and `tessera_signing_key_expiry_timestamp_seconds`
 * (when the current key reaches `maxAgeSeconds`, the recommended rotation period), read from the
 * key store at scrape time. An alert fires when that time is near and no `next` key exists.
 *
 * @example
 * registerSigningKeyMetrics(registry, keys, 90 * 86_400);
 */
export function registerSigningKeyMetrics(
  registry: Registry,
  keys: SigningKeyView,
  maxAgeSeconds: number,
): void {
  new Gauge({
    name: 'tessera_signing_keys',
    help: 'Signing keys published in JWKS, by key set (primary, id-token-rs256) and state: next (published, not yet signing), current, retired.',
    labelNames: ['key_set', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = new Map<string, { next: number; current: number; retired: number }>();
      for (const key of await keys.list()) {
        const set = key.keySet ?? 'primary';
        const count = counts.get(set) ?? { next: 0, current: 0, retired: 0 };
        counts.set(set, count);
        if (key.state === 'next' || key.state === 'current' || key.state === 'retired') count[key.state] += 1;
      }
      for (const [set, count] of counts)
        for (const [state, n] of Object.entries(count)) this.set({ key_set: set, state }, n);
    },
  });
  new Gauge({
    name: 'tessera_signing_key_expiry_timestamp_seconds',
    help: 'Unix time at which the current signing key of each key set reaches its recommended maximum age (TESSERA_SIGNING_KEY_MAX_AGE_DAYS).',
    labelNames: ['key_set'] as const,
    registers: [registry],
    async collect() {
      for (const key of await keys.list()) {
        if (key.state !== 'current') continue;
        this.set({ key_set: key.keySet ?? 'primary' }, Date.parse(key.activatesAt) / 1000 + maxAgeSeconds);
      }
    },
  });
}
