/**
 * The issuer's signing keys: created on first start, rotated by `rotate()`, published in JWKS.
 * States are derived from `activates_at` alone (ADR 0002), so every instance agrees without
 * coordination: `next` (published, not signing) → `current` (signing) → `retired` (published
 * until every token it signed has expired) → unpublished.
 */
import type { KeyObject, webcrypto } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { JSONWebKeySet } from 'jose';
import type { Clock, Logger } from '@tessera/kernel';
import type { SigningAlgorithm } from '../config.ts';
import type { AuthDatabase } from '../db/database.ts';
import { generateSigningKey, importPrivateKey, importPublicKey, isSigningAlgorithm } from './algorithms.ts';
import { open, rewrap, seal } from './envelope.ts';
import { signingKeys, type SigningKeyRow } from './table.ts';

export type KeyState = 'next' | 'current' | 'retired' | 'expired';

/** A key as the admin API and CLI show it (never the private part). */
export interface KeyInfo {
  kid: string;
  alg: SigningAlgorithm;
  state: KeyState;
  createdAt: string;
  activatesAt: string;
  /** When a newer key took over (retired keys only). */
  retiredAt?: string;
  /** When it leaves JWKS (retired keys only). */
  publishedUntil?: string;
}

/** The key that signs right now, prepared for the hot path. */
export interface ActiveKey {
  kid: string;
  alg: SigningAlgorithm;
  /** The private key, opened from its sealed PKCS#8 (the decrypted bytes are zeroed once loaded). */
  key: KeyObject;
}

/** Options of {@link KeyStore}; checked in the constructor. */
export interface KeyStoreOptions {
  db: AuthDatabase;
  masterKey: Buffer;
  clock: Clock;
  /** Algorithm of keys created from now on. */
  alg: SigningAlgorithm;
  /**
   * The key set this store manages (default `primary`); each set is its own timeline, e.g. the
   * RS256 keys that sign ID tokens for clients asking for RS256 (see `signingKeys.keySet`).
   */
  keySet?: string;
  /** How long a rotated-in key is published before it signs. */
  propagationSeconds: number;
  /** How long a retired key stays published: the longest token lifetime plus clock skew. */
  retentionSeconds: number;
  /** How often the rows are re-read so rotations by other instances are seen (default 30 s). */
  refreshIntervalMs?: number;
  logger?: Logger;
}

interface Derived {
  signing: SigningKeyRow;
  published: SigningKeyRow[];
  /** The next instant at which a state changes (activation or end of publication). */
  validUntil: number;
}

const context = (kid: string) => `signing-key:${kid}`;

/**
 * Loads, creates and rotates the signing keys; hands the signer its prepared key and the JWKS route
 * its document.
 *
 * @example
 * const keys = new KeyStore({ db, masterKey, clock, alg: 'ES256', propagationSeconds: 900, retentionSeconds: 3660 });
 * await keys.init();
 * const { kid, key } = await keys.signingKey();
 */
export class KeyStore {
  readonly #db: AuthDatabase;
  readonly #masterKey: Buffer;
  readonly #clock: Clock;
  readonly #alg: SigningAlgorithm;
  readonly #keySet: string;
  readonly #propagationMs: number;
  readonly #retentionMs: number;
  readonly #refreshMs: number;
  readonly #logger: Logger | undefined;
  #rows: SigningKeyRow[] = [];
  #loadedAt = -Infinity;
  #derived: Derived | undefined;
  #active: ActiveKey | undefined;
  #jwks: JSONWebKeySet = { keys: [] };
  #publicKeys = new Map<string, Promise<webcrypto.CryptoKey>>();
  #privateKeys = new Map<string, Promise<KeyObject>>();
  #pending: Promise<void> | undefined;
  #newestCreatedAt = -Infinity;

  constructor(options: KeyStoreOptions) {
    if (options.masterKey.length !== 32) throw new TypeError('KeyStore: masterKey must be 32 bytes');
    if (!isSigningAlgorithm(options.alg))
      throw new TypeError(`KeyStore: unsupported algorithm ${String(options.alg)}`);
    if (!(options.propagationSeconds >= 0)) throw new TypeError('KeyStore: propagationSeconds must be >= 0');
    if (!(options.retentionSeconds > 0)) throw new TypeError('KeyStore: retentionSeconds must be > 0');
    this.#db = options.db;
    this.#masterKey = options.masterKey;
    this.#clock = options.clock;
    this.#alg = options.alg;
    this.#keySet = options.keySet ?? 'primary';
    this.#propagationMs = options.propagationSeconds * 1000;
    this.#retentionMs = options.retentionSeconds * 1000;
    this.#refreshMs = options.refreshIntervalMs ?? 30_000;
    this.#logger = options.logger;
  }

  /** The algorithm of keys this store creates. */
  get algorithm(): SigningAlgorithm {
    return this.#alg;
  }

  /**
   * Ensures a signing key exists (the first start creates one that signs at once: nobody can hold
   * an older JWKS yet). When the configured algorithm differs from the current key's and no key of
   * it is pending, a key of the new algorithm is added as `next`.
   */
  async init(): Promise<void> {
    await this.#load();
    if (this.#rows.length === 0) {
      await this.#insert(this.#alg, this.#clock.now());
      await this.#load();
    }
    const derived = this.#derive(this.#clock.now());
    const pendingOfAlg = this.#rows.some(
      (row) => row.alg === this.#alg && row.activatesAt.getTime() > this.#clock.now(),
    );
    if (derived.signing.alg !== this.#alg && !pendingOfAlg) {
      await this.#insert(this.#alg, this.#clock.now() + this.#propagationMs);
      this.#logger?.info(
        { alg: this.#alg },
        'signing algorithm changed: a key of the new algorithm is published as next',
      );
      await this.#load();
    }
    await this.#prepare();
  }

  /**
   * Rotates: a pending `next` key starts signing now (it has been published since the previous
   * rotation), and a new key is published as `next`, signing after the propagation delay. The key
   * that stops signing stays published until its tokens have expired.
   *
   * @example
   * const { next } = await keys.rotate();
   */
  async rotate(): Promise<{ current: KeyInfo; next: KeyInfo }> {
    const now = this.#clock.now();
    await this.#load();
    const pending = this.#rows.filter((row) => row.activatesAt.getTime() > now);
    for (const row of pending) {
      await this.#db
        .update(signingKeys)
        .set({ activatesAt: new Date(now) })
        .where(eqKid(row.kid));
    }
    if (this.#rows.length === 0) await this.#insert(this.#alg, now);
    const next = await this.#insert(this.#alg, now + Math.max(this.#propagationMs, 1));
    await this.#load();
    await this.#prepare();
    const infos = this.#infos(this.#clock.now());
    const current = infos.find((info) => info.state === 'current');
    const nextInfo = infos.find((info) => info.kid === next);
    if (!current || !nextInfo) throw new Error('KeyStore: rotation left no current or next key');
    return { current, next: nextInfo };
  }

  /** The key to sign with now; reloads rows at most every refresh interval. */
  async signingKey(): Promise<ActiveKey> {
    const now = this.#clock.now();
    if (
      this.#active &&
      this.#derived &&
      now < this.#derived.validUntil &&
      now - this.#loadedAt < this.#refreshMs
    ) {
      return this.#active;
    }
    await this.#refresh();
    if (!this.#active) throw new Error('KeyStore: not initialised (call init())');
    return this.#active;
  }

  /** The public JWKS document: next, current and still-published retired keys. */
  async publicJwks(): Promise<JSONWebKeySet> {
    await this.signingKey();
    return this.#jwks;
  }

  /**
   * The verification key for `kid` when it is published (introspection, revocation, the admin
   * API's token check); undefined for an unknown or unpublished kid.
   */
  async verificationKey(
    kid: string,
  ): Promise<{ alg: SigningAlgorithm; key: webcrypto.CryptoKey } | undefined> {
    await this.signingKey();
    const row = this.#derived?.published.find((candidate) => candidate.kid === kid);
    if (!row || !isSigningAlgorithm(row.alg)) return undefined;
    let key = this.#publicKeys.get(kid);
    if (!key) {
      key = importPublicKey(row.alg, row.publicJwk);
      this.#publicKeys.set(kid, key);
    }
    return { alg: row.alg, key: await key };
  }

  /** Every key with its derived state, oldest first. */
  async list(): Promise<KeyInfo[]> {
    await this.#load();
    await this.#prepare();
    return this.#infos(this.#clock.now());
  }

  /**
   * Re-wraps every key's data key, in every key set, under `newMasterKey` (master key rotation,
   * SECURITY 37) in one transaction. The running instance keeps working; restart every instance
   * with the new master key afterwards.
   *
   * @example
   * await keys.rewrapAll(newMasterKey);
   */
  async rewrapAll(newMasterKey: Buffer): Promise<number> {
    // Every key set: the master key seals them all.
    const rows = await this.#db.select().from(signingKeys);
    await this.#db.transaction(async (tx) => {
      for (const row of rows) {
        const sealed = rewrap(this.#masterKey, newMasterKey, row.privateKeySealed, context(row.kid));
        await tx.update(signingKeys).set({ privateKeySealed: sealed }).where(eqKid(row.kid));
      }
    });
    return rows.length;
  }

  async #refresh(): Promise<void> {
    this.#pending ??= (async () => {
      try {
        if (this.#clock.now() - this.#loadedAt >= this.#refreshMs) {
          try {
            await this.#load();
          } catch (err) {
            if (!this.#active) throw err;
            // Keep signing with what is known; the derived states still advance with time.
            this.#logger?.warn(
              { err: err instanceof Error ? err.name : 'error' },
              'signing keys could not be reloaded',
            );
            this.#loadedAt = this.#clock.now();
          }
        }
        await this.#prepare();
      } finally {
        this.#pending = undefined;
      }
    })();
    return this.#pending;
  }

  async #load(): Promise<void> {
    this.#rows = await this.#db
      .select()
      .from(signingKeys)
      .where(eq(signingKeys.keySet, this.#keySet))
      .orderBy(asc(signingKeys.activatesAt), asc(signingKeys.createdAt), asc(signingKeys.kid));
    this.#loadedAt = this.#clock.now();
  }

  async #prepare(): Promise<void> {
    const derived = this.#derive(this.#clock.now());
    const row = derived.signing;
    if (!isSigningAlgorithm(row.alg)) throw new Error(`KeyStore: key ${row.kid} has unsupported algorithm`);
    let key = this.#privateKeys.get(row.kid);
    if (!key) {
      const alg = row.alg;
      key = Promise.resolve().then(() => {
        const pkcs8 = open(this.#masterKey, row.privateKeySealed, context(row.kid));
        try {
          return importPrivateKey(alg, pkcs8);
        } finally {
          pkcs8.fill(0);
        }
      });
      this.#privateKeys.set(row.kid, key);
      key.catch(() => this.#privateKeys.delete(row.kid));
    }
    this.#active = { kid: row.kid, alg: row.alg, key: await key };
    this.#derived = derived;
    this.#jwks = { keys: derived.published.map((published) => published.publicJwk) };
    for (const kid of this.#privateKeys.keys()) if (kid !== row.kid) this.#privateKeys.delete(kid);
  }

  #derive(now: number): Derived {
    const activated = this.#rows.filter((row) => row.activatesAt.getTime() <= now);
    const signing = activated.at(-1);
    if (!signing) throw new Error('KeyStore: no signing key (call init())');
    const transitions: number[] = [now + this.#refreshMs];
    const published: SigningKeyRow[] = [];
    for (const [index, row] of this.#rows.entries()) {
      const activatesAt = row.activatesAt.getTime();
      if (activatesAt > now) {
        published.push(row);
        transitions.push(activatesAt);
        continue;
      }
      const successor = this.#rows.slice(index + 1).find((later) => later.activatesAt.getTime() <= now);
      if (!successor) {
        published.push(row);
        continue;
      }
      const publishedUntil = successor.activatesAt.getTime() + this.#retentionMs;
      if (publishedUntil > now) {
        published.push(row);
        transitions.push(publishedUntil);
      }
    }
    return { signing, published, validUntil: Math.min(...transitions) };
  }

  #infos(now: number): KeyInfo[] {
    return this.#rows.map((row, index) => {
      const activatesAt = row.activatesAt.getTime();
      const base = {
        kid: row.kid,
        alg: row.alg as SigningAlgorithm,
        createdAt: row.createdAt.toISOString(),
        activatesAt: row.activatesAt.toISOString(),
      };
      if (activatesAt > now) return { ...base, state: 'next' as const };
      const successor = this.#rows.slice(index + 1).find((later) => later.activatesAt.getTime() <= now);
      if (!successor) return { ...base, state: 'current' as const };
      const until = successor.activatesAt.getTime() + this.#retentionMs;
      return {
        ...base,
        state: until > now ? ('retired' as const) : ('expired' as const),
        retiredAt: successor.activatesAt.toISOString(),
        publishedUntil: new Date(until).toISOString(),
      };
    });
  }

  async #insert(alg: SigningAlgorithm, activatesAt: number): Promise<string> {
    // Keys are ordered by (activates_at, created_at): a key promoted by rotate() may activate in the
    // same millisecond as the one it replaces, so creation times are kept strictly increasing.
    const newest = Math.max(this.#newestCreatedAt, ...this.#rows.map((row) => row.createdAt.getTime()));
    const createdAt = Math.max(this.#clock.now(), newest + 1);
    this.#newestCreatedAt = createdAt;
    const generated = await generateSigningKey(alg);
    await this.#db.insert(signingKeys).values({
      kid: generated.kid,
      alg,
      keySet: this.#keySet,
      publicJwk: generated.publicJwk,
      privateKeySealed: seal(this.#masterKey, generated.pkcs8, context(generated.kid)),
      createdAt: new Date(createdAt),
      activatesAt: new Date(activatesAt),
    });
    generated.pkcs8.fill(0);
    return generated.kid;
  }
}

function eqKid(kid: string) {
  return eq(signingKeys.kid, kid);
}
