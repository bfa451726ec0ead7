import { randomFillSync } from 'node:crypto';

// Trace and span ids are drawn from a pool refilled by the CSPRNG: one syscall per ~500 requests
// instead of one per id, and no Math.random (ids may be used as unguessable correlation keys).
const POOL_BYTES = 8_192;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** A random W3C trace id (32 lowercase hex digits, never all zeros). */
export function newTraceId(): string {
  let id = randomHex(16);
  while (id === ZERO_TRACE_ID) id = randomHex(16);
  return id;
}

/** A random W3C span id (16 lowercase hex digits, never all zeros). */
export function newSpanId(): string {
  let id = randomHex(8);
  while (id === ZERO_SPAN_ID) id = randomHex(8);
  return id;
}

/**
 * The SDK's id generator. A server span whose sampling was decided before the SDK was asked
 * hands its trace id over with {@link useTraceIdOnce}, so the SDK's sampler sees the same id and
 * reaches the same decision.
 */
export class PooledIdGenerator {
  #next: string | undefined;

  /** The next `generateTraceId` returns `traceId` (call right before a synchronous `startSpan`). */
  useTraceIdOnce(traceId: string): void {
    this.#next = traceId;
  }

  generateTraceId(): string {
    const next = this.#next;
    this.#next = undefined;
    return next ?? newTraceId();
  }

  generateSpanId(): string {
    return newSpanId();
  }
}
