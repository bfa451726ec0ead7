/**
 * Compact JWS signing (RFC 7515 §7.1) assembled by hand around `node:crypto`'s `sign` with a
 * callback: the protected header is encoded once per key and reused, and the signature runs on
 * libuv's thread pool, so the event loop stays free while both cores sign. The callback form
 * dispatches for about half the event-loop time of `crypto.subtle.sign` (ES256: ~8 against ~15 µs
 * per signature); both were measured against jose's `SignJWT` in `bench/token.ts` (docs/benchmarks.md).
 */
import { sign, type SignKeyObjectInput } from 'node:crypto';
import { algorithmSpec } from '../keys/algorithms.ts';
import type { SigningAlgorithm } from '../config.ts';
import type { ActiveKey } from '../keys/key-store.ts';

/** A signing key with its encoded protected headers, ready for the hot path. */
export interface PreparedKey {
  kid: string;
  alg: SigningAlgorithm;
  /** The digest `sign` takes (null for Ed25519, which hashes internally). */
  digest: 'sha256' | null;
  /** The key, with JOSE's raw `r || s` ECDSA signature format (RFC 7518 §3.4). */
  signKey: SignKeyObjectInput;
  /** base64url of `{"alg","kid","typ":"at+jwt"}` (RFC 9068 §2.1). */
  accessTokenHeader: string;
  /** base64url of `{"alg","kid","typ":"JWT"}` for ID tokens and service tokens of other kinds. */
  jwtHeader: string;
}

const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * Prepares `active` for signing: encodes its headers once.
 *
 * @example
 * const prepared = prepareKey(await keys.signingKey());
 */
export function prepareKey(active: ActiveKey): PreparedKey {
  return {
    kid: active.kid,
    alg: active.alg,
    digest: algorithmSpec(active.alg).signDigest,
    signKey: { key: active.key, dsaEncoding: 'ieee-p1363' },
    accessTokenHeader: encodeJson({ alg: active.alg, kid: active.kid, typ: 'at+jwt' }),
    jwtHeader: encodeJson({ alg: active.alg, kid: active.kid, typ: 'JWT' }),
  };
}

/**
 * Signs `payload` under an already encoded protected header; returns the compact JWS.
 *
 * @example
 * const jwt = await signCompact(prepared, prepared.accessTokenHeader, { sub: 'client:x', ... });
 */
export async function signCompact(
  prepared: PreparedKey,
  encodedHeader: string,
  payload: object,
): Promise<string> {
  const input = `${encodedHeader}.${encodeJson(payload)}`;
  const signature = await new Promise<Buffer>((resolve, reject) => {
    sign(prepared.digest, Buffer.from(input, 'latin1'), prepared.signKey, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
  return `${input}.${signature.toString('base64url')}`;
}
