/**
 * Client lookups for the protocol endpoints, cached: every token request looks its client up, so
 * a hit must cost no database round trip. An LRU with a short TTL (the safety net for writes made
 * by another instance) that the repository empties for a client on every local write.
 */
import { LRUCache } from 'lru-cache';
import type { ClientLookup, OAuthClient } from '../contracts.ts';
import { toOAuthClient, type ClientRepository } from './repository.ts';

/** A client with what authentication needs; the secret hash never leaves this module's users. */
export interface AuthenticatableClient {
  client: OAuthClient;
  secretHash: string | null;
}

const MISSING = Symbol('missing');
type Entry = AuthenticatableClient | typeof MISSING;

/** Options of {@link CachedClientLookup}. */
export interface CachedClientLookupOptions {
  /** Most clients kept (default 1,000). */
  max?: number;
  /** Milliseconds an entry lives (default 10 s); unknown ids are remembered as unknown just as long. */
  ttlMs?: number;
}

/**
 * The cached {@link ClientLookup}.
 *
 * @example
 * const clients = new CachedClientLookup(repository);
 * const client = await clients.find('demo-spa');
 */
export class CachedClientLookup implements ClientLookup {
  readonly #repository: ClientRepository;
  readonly #cache: LRUCache<string, Entry>;
  readonly #loading = new Map<string, Promise<Entry>>();
  /** Bumped by every invalidation, so a load that raced a write does not cache the old row. */
  #epoch = 0;

  constructor(repository: ClientRepository, options: CachedClientLookupOptions = {}) {
    this.#repository = repository;
    this.#cache = new LRUCache<string, Entry>({ max: options.max ?? 1_000, ttl: options.ttlMs ?? 10_000 });
    repository.onChange((clientId) => this.invalidate(clientId));
  }

  async find(clientId: string): Promise<OAuthClient | undefined> {
    return (await this.findForAuthentication(clientId))?.client;
  }

  /** The client and its secret hash, for {@link import('../oauth/client-auth.ts').ClientAuthenticator}. */
  async findForAuthentication(clientId: string): Promise<AuthenticatableClient | undefined> {
    if (clientId.length === 0 || clientId.length > 128) return undefined;
    const cached = this.#cache.get(clientId);
    if (cached !== undefined) return cached === MISSING ? undefined : cached;
    let loading = this.#loading.get(clientId);
    if (!loading) {
      const started = this.#load(clientId).finally(() => {
        if (this.#loading.get(clientId) === started) this.#loading.delete(clientId);
      });
      loading = started;
      this.#loading.set(clientId, started);
    }
    const entry = await loading;
    return entry === MISSING ? undefined : entry;
  }

  /** Drops the cached copy of `clientId`. */
  invalidate(clientId: string): void {
    this.#epoch += 1;
    this.#cache.delete(clientId);
    this.#loading.delete(clientId);
  }

  async #load(clientId: string): Promise<Entry> {
    const epoch = this.#epoch;
    const row = await this.#repository.findRow(clientId);
    const entry: Entry = row ? { client: toOAuthClient(row), secretHash: row.secretHash } : MISSING;
    if (epoch === this.#epoch) this.#cache.set(clientId, entry);
    return entry;
  }
}
