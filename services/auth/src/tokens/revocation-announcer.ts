/**
 * Tells resource servers about every deny-listed access token (ADR 0008): on auth's Redis
 * revocation feed when Redis is configured (`@tessera/cache` revocation-feed), and to an optional
 * in-process listener (the all-in-one platform, which may run without Redis). `list()` is the
 * catch-up read for a resource server that starts later.
 */
import { gt } from 'drizzle-orm';
import type { Cluster, Redis } from 'ioredis';
import { publishRevocation, readRevocations, type Revocation } from '@tessera/cache';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../db/database.ts';
import { revokedAccessTokens } from './table.ts';

/** Called synchronously for each revocation; must not throw (a throw is swallowed). */
export type RevocationListener = (revocation: Revocation) => void;

/** Verifiers accept a token up to 60 s of clock skew past `exp`: its revocation stays listed as long. */
const LIST_GRACE_MS = 60_000;

/**
 * Announces revocations and lists the ones still relevant.
 *
 * @example
 * const announcer = new RevocationAnnouncer({ db, clock, redis, keyPrefix: 'tessera:auth:' });
 * await announcer.announce({ jti, exp });
 */
export class RevocationAnnouncer {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;
  readonly #redis: Redis | Cluster | undefined;
  readonly #keyPrefix: string;
  readonly #listener: RevocationListener | undefined;

  constructor(deps: {
    db: AuthDatabase;
    clock: Clock;
    redis?: Redis | Cluster | undefined;
    keyPrefix: string;
    listener?: RevocationListener | undefined;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#redis = deps.redis;
    this.#keyPrefix = deps.keyPrefix;
    this.#listener = deps.listener;
  }

  async announce(revocation: Revocation): Promise<void> {
    try {
      this.#listener?.(revocation);
    } catch {
      // The listener is the platform's in-memory set; it has nothing to report.
    }
    if (this.#redis) await publishRevocation(this.#redis, this.#keyPrefix, revocation, this.#clock.now());
  }

  /** The revocations whose tokens a verifier may still accept (Redis index, else the denylist table). */
  async list(): Promise<Revocation[]> {
    const now = this.#clock.now();
    if (this.#redis) return readRevocations(this.#redis, this.#keyPrefix, now);
    const rows = await this.#db
      .select({ id: revokedAccessTokens.id, expiresAt: revokedAccessTokens.expiresAt })
      .from(revokedAccessTokens)
      .where(gt(revokedAccessTokens.expiresAt, new Date(now - LIST_GRACE_MS)));
    return rows.map((row) => ({ jti: row.id, exp: Math.ceil(row.expiresAt.getTime() / 1000) }));
  }
}
