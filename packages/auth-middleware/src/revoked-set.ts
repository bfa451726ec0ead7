/**
 * An in-memory set of revoked access-token ids for the verifier's `isRevoked` hook: a lookup is a
 * Map read, never I/O, so the hook costs nothing on the cached fast path. It is fed from outside
 * (the issuer's revocation feed); each entry is kept until its token's `exp` plus a grace period
 * that covers the verifier's clock tolerance, and the set is bounded.
 */

/** Options of {@link RevokedTokenSet}. */
export interface RevokedTokenSetOptions {
  /** Most entries kept (default 100,000); past it the oldest added entries are dropped first. */
  max?: number;
  /**
   * Seconds an entry outlives its `exp` (default 60, the verifier's largest `clockToleranceSec`):
   * a verifier accepts a token until `exp` + its tolerance, so the entry must last as long.
   */
  graceSec?: number;
  /** Current time in ms (default `Date.now`). */
  now?: () => number;
  /** Called with the dropped id when the bound forces a live entry out. */
  onEvict?: (jti: string) => void;
}

/**
 * Revoked `jti`s, each until `exp` + grace.
 *
 * @example
 * const revoked = new RevokedTokenSet({ max: 100_000 });
 * revoked.add(jti, exp);
 * const verifier = createTokenVerifier({ jwksUrl, issuer, audience, isRevoked: async (jti) => revoked.has(jti) });
 */
export class RevokedTokenSet {
  /** jti → forget-after time in ms; insertion order is the eviction order. */
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  readonly #graceMs: number;
  readonly #now: () => number;
  readonly #onEvict: ((jti: string) => void) | undefined;

  constructor(options: RevokedTokenSetOptions = {}) {
    const max = options.max ?? 100_000;
    const graceSec = options.graceSec ?? 60;
    if (!Number.isInteger(max) || max < 1)
      throw new TypeError('RevokedTokenSet: max must be a positive integer');
    if (!Number.isFinite(graceSec) || graceSec < 0)
      throw new TypeError('RevokedTokenSet: graceSec must be a non-negative number');
    this.#max = max;
    this.#graceMs = graceSec * 1000;
    this.#now = options.now ?? Date.now;
    this.#onEvict = options.onEvict;
  }

  /** Number of entries held (expired ones included until the next prune). */
  get size(): number {
    return this.#entries.size;
  }

  /** Records `jti` as revoked until `exp` (Unix seconds) + grace; an already expired one is ignored. */
  add(jti: string, exp: number): void {
    const until = exp * 1000 + this.#graceMs;
    if (until <= this.#now()) return;
    const known = this.#entries.get(jti);
    if (known !== undefined) {
      if (until > known) this.#entries.set(jti, until);
      return;
    }
    if (this.#entries.size >= this.#max) this.prune();
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
      this.#onEvict?.(oldest);
    }
    this.#entries.set(jti, until);
  }

  /** True while `jti` is recorded and not past its `exp` + grace. */
  has(jti: string): boolean {
    const until = this.#entries.get(jti);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#entries.delete(jti);
    return false;
  }

  /** Drops every entry past its `exp` + grace; returns how many. */
  prune(): number {
    const now = this.#now();
    let dropped = 0;
    for (const [jti, until] of this.#entries) {
      if (until <= now) {
        this.#entries.delete(jti);
        dropped++;
      }
    }
    return dropped;
  }
}
