/**
 * Compact JWS signing (RFC 7515 §7.1) assembled by hand around `crypto.subtle.sign`: the protected
 * header is encoded once per key and reused, and WebCrypto runs the signature on libuv's thread
 * pool. Measured against jose's `SignJWT` in `bench/token.ts --micro` (docs/benchmarks.md).
 */
import { webcrypto } from 'node:crypto';
import { algorithmSpec } from '../keys/algorithms.ts';
import type { SigningAlgorithm } from '../config.ts';
import type { ActiveKey } from '../keys/key-store.ts';

const { subtle } = webcrypto;

/** A signing key with its encoded protected headers, ready for the hot path. */
export interface PreparedKey {
  kid: string;
  alg: SigningAlgorithm;
  key: webcrypto.CryptoKey;
  signParams: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams;
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
    key: active.key,
    signParams: algorithmSpec(active.alg).sign,
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
  const signature = await subtle.sign(prepared.signParams, prepared.key, Buffer.from(input, 'latin1'));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
