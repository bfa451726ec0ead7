/**
 * Coalesces concurrent lookups by key into one statement: every key asked for during one turn of
 * the event loop is answered by a single `... where key = any($1)` query, sent in the loop's check
 * phase (`setImmediate`). Under load a refresh costs a fraction of a round trip for its lookups
 * instead of one each; alone, a lookup waits for nothing but the end of the current loop turn.
 *
 * Each batch is a fresh read issued after every caller in it asked, so it sees everything that was
 * committed before any of them asked: a lookup is never answered from an older state than an
 * unbatched query would have seen.
 */
export class KeyedBatcher<K, V> {
  readonly #run: (keys: K[]) => Promise<Map<K, V>>;
  readonly #maxBatch: number;
  #pending = new Map<K, Array<{ resolve: (value: V | undefined) => void; reject: (err: unknown) => void }>>();
  #scheduled = false;

  /**
   * @param run answers a batch of distinct keys; a key missing from the map resolves to undefined.
   * @param maxBatch the most keys one statement carries (more wait for the next one, sent at once).
   *
   * @example
   * const revoked = new KeyedBatcher((ids: string[]) => loadRevokedAt(ids), 128);
   * const row = await revoked.load(familyId);
   */
  constructor(run: (keys: K[]) => Promise<Map<K, V>>, maxBatch = 128) {
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  /** The value for `key` (undefined when there is none), read with the other keys asked this turn. */
  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.#pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.#pending.set(key, [{ resolve, reject }]);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#pending.size > 0) {
      const batch = new Map<
        K,
        Array<{ resolve: (value: V | undefined) => void; reject: (err: unknown) => void }>
      >();
      for (const [key, waiters] of this.#pending) {
        if (batch.size >= this.#maxBatch) break;
        batch.set(key, waiters);
      }
      for (const key of batch.keys()) this.#pending.delete(key);
      // `run` may throw instead of rejecting: the promise constructor turns both into a rejection.
      new Promise<Map<K, V>>((resolve) => resolve(this.#run([...batch.keys()]))).then(
        (values) => {
          for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(values.get(key));
        },
        (err: unknown) => {
          for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(err);
        },
      );
    }
  }
}

interface Submitted<I, O> {
  key: string;
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Application-level group commit: items submitted while a batch is in flight are written together
 * by the next one, in one statement (one transaction, one WAL flush). One batch at a time per
 * process, so two batches of this process never wait on each other's row locks; items with the
 * same key never share a batch (the later one waits for the next batch and sees the first one's
 * committed effect, exactly as if the two had run one after the other). Alone, an item is sent in
 * the current loop turn's check phase, without waiting for anything else.
 *
 * Every item's promise settles only after its batch committed (or failed, then with the batch's
 * error): nothing is reported done before it is durable.
 */
export class SerialBatcher<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxBatch: number;
  #queue: Array<Submitted<I, O>> = [];
  #busy = false;

  /**
   * @param run writes a batch and returns one result per item, in order.
   * @param maxBatch the most items one statement carries.
   *
   * @example
   * const rotations = new SerialBatcher((items: Rotation[]) => rotateAll(items), 64);
   * const next = await rotations.submit(rotation, rotation.tokenHash);
   */
  constructor(run: (items: I[]) => Promise<O[]>, maxBatch = 64) {
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  /** Writes `item` with whatever else is waiting; `key` keeps conflicting items in separate batches. */
  submit(item: I, key: string): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ key, item, resolve, reject });
      if (!this.#busy) {
        this.#busy = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const batch: Array<Submitted<I, O>> = [];
    const keys = new Set<string>();
    const rest: Array<Submitted<I, O>> = [];
    for (const entry of this.#queue) {
      if (batch.length < this.#maxBatch && !keys.has(entry.key)) {
        keys.add(entry.key);
        batch.push(entry);
      } else rest.push(entry);
    }
    this.#queue = rest;
    if (batch.length === 0) {
      this.#busy = false;
      return;
    }
    new Promise<O[]>((resolve) => resolve(this.#run(batch.map((entry) => entry.item))))
      .then((results) => {
        if (results.length !== batch.length)
          throw new Error('batch returned a result count that does not match');
        batch.forEach((entry, index) => entry.resolve(results[index] as O));
      })
      .catch((err: unknown) => {
        for (const entry of batch) entry.reject(err);
      })
      .finally(() => this.#flush());
  }
}

/**
 * The statement name for queries built once and sent as PostgreSQL's *unnamed* statement: the
 * SQL text is prepared in the process (no per-call query building), while the server parses and
 * plans it per execution, so its plan follows the tables' real size. A named statement would keep
 * the generic plan chosen while the tables were small; the refresh path's statements avoid that
 * differently, as functions with fixed access paths (ADR 0010).
 */
export const UNNAMED = '';
