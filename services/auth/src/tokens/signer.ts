/**
 * Signs access tokens (RFC 9068) and ID tokens (OpenID Connect Core §2) with the key store's
 * current key. The hot path is one clock read, one random id, one JSON encoding and one
 * `node:crypto` signature on libuv's thread pool (`jws.ts`); the key and its encoded header are
 * prepared once per key.
 */
import { hash, randomUUID } from 'node:crypto';
import type { Clock } from '@tessera/kernel';
import type { SigningAlgorithm } from '../config.ts';
import type { AccessTokenInput, IdTokenInput, TokenSigner } from '../contracts.ts';
import { algorithmSpec } from '../keys/algorithms.ts';
import type { ActiveKey, KeyStore } from '../keys/key-store.ts';
import { prepareKey, signCompact, type PreparedKey } from './jws.ts';

/** Options of {@link JwtTokenSigner}. */
export interface JwtTokenSignerOptions {
  keys: Pick<KeyStore, 'signingKey'>;
  /**
   * The store that signs ID tokens with a client's `id_token_signed_response_alg` (undefined:
   * the issuer's algorithm); default: `keys` for every ID token.
   */
  idTokenKeys?: (alg: SigningAlgorithm | undefined) => Pick<KeyStore, 'signingKey'>;
  /** The `iss` claim: the public URL. */
  issuer: string;
  clock: Clock;
}

/** The RFC 9068 claims of an access token this issuer signs. */
export interface AccessTokenClaimSet {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  client_id: string;
  scope: string;
  auth_time?: number;
  org_id?: string;
  roles?: string[];
  permissions?: string[];
}

/** OpenID Connect Core §3.1.3.6: left half of the hash of the ASCII token (the hash of the ID token's `alg`), base64url. */
function halfHash(alg: SigningAlgorithm, value: string): string {
  const digest = hash(algorithmSpec(alg).halfHash, value, 'buffer');
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/**
 * The issuer's {@link TokenSigner}.
 *
 * @example
 * const signer = new JwtTokenSigner({ keys, issuer: 'http://localhost:8080', clock: systemClock });
 * const { token, jti, exp } = await signer.signAccessToken({ sub: 'client:svc', clientId: 'svc', aud: 'tessera-api', scope: '', ttlSeconds: 600 });
 */
export class JwtTokenSigner implements TokenSigner {
  readonly #keys: Pick<KeyStore, 'signingKey'>;
  readonly #idTokenKeys: (alg: SigningAlgorithm | undefined) => Pick<KeyStore, 'signingKey'>;
  readonly #issuer: string;
  readonly #clock: Clock;
  /** Per store: the key it last handed out and that key prepared (header encoded once). */
  readonly #prepared = new WeakMap<object, { active: ActiveKey; prepared: PreparedKey }>();

  constructor(options: JwtTokenSignerOptions) {
    if (!options.issuer) throw new TypeError('JwtTokenSigner: issuer is required');
    this.#keys = options.keys;
    this.#idTokenKeys = options.idTokenKeys ?? (() => options.keys);
    this.#issuer = options.issuer;
    this.#clock = options.clock;
  }

  async signAccessToken(input: AccessTokenInput): Promise<{ token: string; jti: string; exp: number }> {
    const prepared = await this.#key(this.#keys);
    const iat = Math.floor(this.#clock.now() / 1000);
    const exp = iat + input.ttlSeconds;
    const jti = randomUUID();
    const claims: AccessTokenClaimSet = {
      iss: this.#issuer,
      sub: input.sub,
      aud: input.aud,
      exp,
      iat,
      nbf: iat,
      jti,
      client_id: input.clientId,
      scope: input.scope,
    };
    if (input.authTime !== undefined) claims.auth_time = input.authTime;
    if (input.orgId !== undefined) claims.org_id = input.orgId;
    if (input.roles !== undefined) claims.roles = input.roles;
    if (input.permissions !== undefined) claims.permissions = input.permissions;
    const token = await signCompact(prepared, prepared.accessTokenHeader, claims);
    return { token, jti, exp };
  }

  async signIdToken(input: IdTokenInput): Promise<string> {
    const prepared = await this.#key(this.#idTokenKeys(input.alg));
    const iat = Math.floor(this.#clock.now() / 1000);
    const claims: Record<string, unknown> = {
      ...input.claims,
      iss: this.#issuer,
      sub: input.sub,
      aud: input.clientId,
      azp: input.clientId,
      exp: iat + input.ttlSeconds,
      iat,
      auth_time: input.authTime,
    };
    if (input.nonce !== undefined) claims.nonce = input.nonce;
    if (input.accessToken !== undefined) claims.at_hash = halfHash(prepared.alg, input.accessToken);
    return signCompact(prepared, prepared.jwtHeader, claims);
  }

  async #key(store: Pick<KeyStore, 'signingKey'>): Promise<PreparedKey> {
    const active = await store.signingKey();
    const cached = this.#prepared.get(store);
    if (cached?.active === active) return cached.prepared;
    const prepared = prepareKey(active);
    this.#prepared.set(store, { active, prepared });
    return prepared;
  }
}
