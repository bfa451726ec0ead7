/**
 * The issuer's key sets. The primary set signs access tokens, and ID tokens by default, with the
 * configured algorithm (ES256 unless `TESSERA_SIGNING_ALG` says otherwise). OpenID Connect makes
 * RS256 mandatory for ID tokens (Core §15.1, Discovery §3), so when the primary algorithm is not
 * RS256 a second set of RS256 keys signs the ID tokens of clients registered with
 * `idTokenSignedResponseAlg: 'RS256'`. Each set is its own timeline (ADR 0002); both are
 * published in one JWKS, rotated together and listed together.
 */
import type { JSONWebKeySet } from 'jose';
import type { SigningAlgorithm } from '../config.ts';
import { KeyStore, type KeyInfo, type KeyStoreOptions } from './key-store.ts';

/** The key set of RS256 ID-token keys (`signing_keys.key_set`). */
export const ID_TOKEN_RS256_SET = 'id-token-rs256';

/**
 * The algorithms ID tokens can be signed with when the issuer signs with `alg`: `alg` first, and
 * RS256 (OIDC Core §15.1).
 *
 * @example
 * idTokenAlgorithmsFor('ES256'); // ['ES256', 'RS256']
 */
export function idTokenAlgorithmsFor(alg: SigningAlgorithm): SigningAlgorithm[] {
  return alg === 'RS256' ? ['RS256'] : [alg, 'RS256'];
}

/** A key with the set it belongs to. */
export interface KeyInfoInSet extends KeyInfo {
  keySet: string;
}

/** What one rotation did: the primary set's keys, and the RS256 ID-token set's when it exists. */
export interface RotationResult {
  current: KeyInfo;
  next: KeyInfo;
  idToken?: { current: KeyInfo; next: KeyInfo };
}

/**
 * The primary key store plus, when needed, the RS256 ID-token store.
 *
 * @example
 * const keys = SigningKeys.create({ db, masterKey, clock, alg: 'ES256', propagationSeconds: 900, retentionSeconds: 3660 });
 * await keys.init();
 * keys.idTokenAlgorithms(); // ['ES256', 'RS256']
 */
export class SigningKeys {
  readonly primary: KeyStore;
  readonly #rs256: KeyStore | undefined;

  private constructor(primary: KeyStore, rs256: KeyStore | undefined) {
    this.primary = primary;
    this.#rs256 = rs256;
  }

  /** Both stores from the primary store's options (the RS256 set only when `alg` is not RS256). */
  static create(options: KeyStoreOptions): SigningKeys {
    const primary = new KeyStore(options);
    const rs256 =
      options.alg === 'RS256'
        ? undefined
        : new KeyStore({ ...options, alg: 'RS256', keySet: ID_TOKEN_RS256_SET });
    return new SigningKeys(primary, rs256);
  }

  async init(): Promise<void> {
    await this.primary.init();
    await this.#rs256?.init();
  }

  /** The algorithms ID tokens can be signed with: the primary one first, then RS256. */
  idTokenAlgorithms(): SigningAlgorithm[] {
    return idTokenAlgorithmsFor(this.primary.algorithm);
  }

  /**
   * The store that signs ID tokens with `alg`: the RS256 set for RS256 (unless RS256 is the
   * primary algorithm), else the primary store — also for an algorithm the issuer no longer
   * offers (a client registered before `TESSERA_SIGNING_ALG` changed), whose ID tokens then carry
   * the issuer's algorithm in their header rather than failing the grant.
   */
  idTokenStore(alg: SigningAlgorithm | undefined): KeyStore {
    return alg === 'RS256' && this.#rs256 ? this.#rs256 : this.primary;
  }

  /** One JWKS with every published key of both sets. */
  async publicJwks(): Promise<JSONWebKeySet> {
    const primary = await this.primary.publicJwks();
    if (!this.#rs256) return primary;
    return { keys: [...primary.keys, ...(await this.#rs256.publicJwks()).keys] };
  }

  /** Rotates both sets (the primary set first). */
  async rotate(): Promise<RotationResult> {
    const result: RotationResult = await this.primary.rotate();
    if (this.#rs256) result.idToken = await this.#rs256.rotate();
    return result;
  }

  /** Every key of both sets with its state and set, primary set first. */
  async list(): Promise<KeyInfoInSet[]> {
    const primary = (await this.primary.list()).map((key) => ({ ...key, keySet: 'primary' }));
    if (!this.#rs256) return primary;
    const rs256 = (await this.#rs256.list()).map((key) => ({ ...key, keySet: ID_TOKEN_RS256_SET }));
    return [...primary, ...rs256];
  }
}
