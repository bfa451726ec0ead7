/**
 * Signs access tokens (RFC 9068) and ID tokens (OpenID Connect Core §2) with the key store's
 * current key. The hot path is one clock read, one random id, one JSON encoding and one
 * WebCrypto signature; the key and its encoded header are prepared once per key.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '@tessera/kernel';
import type { AccessTokenInput, IdTokenInput, TokenSigner } from '../contracts.ts';
import { algorithmSpec } from '../keys/algorithms.ts';
import type { ActiveKey, KeyStore } from '../keys/key-store.ts';
import { prepareKey, signCompact, type PreparedKey } from './jws.ts';

/** Options of {@link JwtTokenSigner}. */
export interface JwtTokenSignerOptions {
  keys: Pick<KeyStore, 'signingKey'>;
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

/**
 * The issuer's {@link TokenSigner}.
 *
 * @example
 * const signer = new JwtTokenSigner({ keys, issuer: 'http://localhost:8080', clock: systemClock });
 * const { token, jti, exp } = await signer.signAccessToken({ sub: 'client:svc', clientId: 'svc', aud: 'tessera-api', scope: '', ttlSeconds: 600 });
 */
export class JwtTokenSigner implements TokenSigner {
  readonly #keys: Pick<KeyStore, 'signingKey'>;
  readonly #issuer: string;
  readonly #clock: Clock;
  #lastActive: ActiveKey | undefined;
  #prepared: PreparedKey | undefined;

  constructor(options: JwtTokenSignerOptions) {
    if (!options.issuer) throw new TypeError('JwtTokenSigner: issuer is required');
    this.#keys = options.keys;
    this.#issuer = options.issuer;
    this.#clock = options.clock;
  }

  async signAccessToken(input: AccessTokenInput): Promise<{ token: string; jti: string; exp: number }> {
    const prepared = await this.#key();
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
    const prepared = await this.#key();
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
    if (input.accessToken !== undefined) claims.at_hash = this.#halfHash(input.accessToken);
    return signCompact(prepared, prepared.jwtHeader, claims);
  }

  /** OpenID Connect Core §3.1.3.6: left half of the hash of the ASCII token, base64url. */
  #halfHash(value: string): string {
    const alg = this.#lastActive?.alg ?? 'ES256';
    const digest = createHash(algorithmSpec(alg).halfHash).update(value, 'ascii').digest();
    return digest.subarray(0, digest.length / 2).toString('base64url');
  }

  async #key(): Promise<PreparedKey> {
    const active = await this.#keys.signingKey();
    if (active !== this.#lastActive || !this.#prepared) {
      this.#prepared = prepareKey(active);
      this.#lastActive = active;
    }
    return this.#prepared;
  }
}
