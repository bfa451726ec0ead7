/**
 * The JWS algorithms the issuer signs with, mapped to WebCrypto for generating and importing keys.
 * Signing itself goes through `node:crypto`'s `sign` with a callback, on libuv's thread pool
 * (`tokens/jws.ts`; docs/benchmarks.md, token section).
 */
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningAlgorithm } from '../config.ts';

const { subtle } = webcrypto;
type CryptoKey = webcrypto.CryptoKey;

interface AlgorithmSpec {
  generate: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | webcrypto.Algorithm;
  import: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm;
  /** Hash for OpenID Connect `at_hash` / `c_hash` (Core §3.1.3.6; SHA-512 for Ed25519). */
  halfHash: 'sha256' | 'sha512';
  /** The digest `node:crypto`'s `sign` takes (null for Ed25519, which hashes internally). */
  signDigest: 'sha256' | null;
  /** The `node:crypto` type (and curve) of the private key. */
  privateKey: { type: string; curve?: string };
}

const SPECS: Record<SigningAlgorithm, AlgorithmSpec> = {
  ES256: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    import: { name: 'ECDSA', namedCurve: 'P-256' },
    halfHash: 'sha256',
    signDigest: 'sha256',
    privateKey: { type: 'ec', curve: 'prime256v1' },
  },
  EdDSA: {
    generate: { name: 'Ed25519' },
    import: { name: 'Ed25519' },
    halfHash: 'sha512',
    signDigest: null,
    privateKey: { type: 'ed25519' },
  },
  RS256: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    halfHash: 'sha256',
    signDigest: 'sha256',
    privateKey: { type: 'rsa' },
  },
};

/** True for the algorithms this issuer can sign with. */
export function isSigningAlgorithm(alg: string): alg is SigningAlgorithm {
  return Object.hasOwn(SPECS, alg);
}

/** The WebCrypto key parameters of `alg`, its half-hash and what `node:crypto` signs it with. */
export function algorithmSpec(alg: SigningAlgorithm): AlgorithmSpec {
  return SPECS[alg];
}

/** A freshly generated key pair: the public JWK (kid = RFC 7638 thumbprint) and the PKCS#8 private key. */
export interface GeneratedKey {
  kid: string;
  publicJwk: JWK;
  pkcs8: Buffer;
}

/**
 * Generates a signing key pair for `alg`.
 *
 * @example
 * const { kid, publicJwk, pkcs8 } = await generateSigningKey('ES256');
 */
export async function generateSigningKey(alg: SigningAlgorithm): Promise<GeneratedKey> {
  const pair = (await subtle.generateKey(SPECS[alg].generate, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const jwk = (await subtle.exportKey('jwk', pair.publicKey)) as JWK;
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', pair.privateKey));
  const publicOnly: JWK = pickPublic(jwk);
  const kid = await calculateJwkThumbprint(publicOnly, 'sha256');
  return { kid, publicJwk: { ...publicOnly, kid, alg, use: 'sig' }, pkcs8 };
}

function pickPublic(jwk: JWK): JWK {
  if (jwk.kty === 'EC') return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  if (jwk.kty === 'OKP') return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  return { kty: jwk.kty, n: jwk.n, e: jwk.e };
}

/**
 * Loads a PKCS#8 private key as the `node:crypto` key the signer uses (`tokens/jws.ts`); refuses a
 * key of another type than `alg` needs.
 *
 * @example
 * const key = importPrivateKey('ES256', pkcs8);
 */
export function importPrivateKey(alg: SigningAlgorithm, pkcs8: Buffer): KeyObject {
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const expected = SPECS[alg].privateKey;
  if (
    key.asymmetricKeyType !== expected.type ||
    (expected.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== expected.curve)
  )
    throw new Error(`the private key is not a ${alg} key`);
  return key;
}

/**
 * Imports a published JWK as a WebCrypto verification key.
 *
 * @example
 * const key = await importPublicKey('ES256', row.publicJwk);
 */
export async function importPublicKey(alg: SigningAlgorithm, jwk: JWK): Promise<CryptoKey> {
  return subtle.importKey('jwk', pickPublic(jwk) as webcrypto.JsonWebKey, SPECS[alg].import, false, [
    'verify',
  ]);
}
