import { randomBytes } from 'node:crypto';

/** Millisecond of the last id, and its 42-bit counter (RFC 9562 §6.2 method 1, seeded at random). */
let lastMs = -1;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, a 42-bit counter, 32 random bits. Time-ordered, so
 * primary-key inserts stay at the right edge of the index and ids sort by creation time — also
 * within one millisecond: the counter starts at a random value below 2^41 in each new millisecond
 * and is incremented for every further id of that millisecond (in this process).
 *
 * @example
 * const id = uuidv7(); // '019372a4-...'
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  if (now === lastMs) counter++;
  else {
    lastMs = now;
    counter = bytes.readUIntBE(6, 6) % 2 ** 41;
  }
  const high = Math.floor(counter / 2 ** 24); // 18 bits: 4 in rand_a's first nibble, 8, then 6
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (high >>> 14);
  bytes[7] = (high >>> 6) & 0xff;
  bytes[8] = 0x80 | (high & 0x3f);
  bytes.writeUIntBE(counter % 2 ** 24, 9, 3);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Injected time source (HOUSE-STYLE rule 6): tests pass a fixed or steppable clock. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
