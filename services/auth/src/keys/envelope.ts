/**
 * Envelope encryption of private keys at rest (SECURITY 37): each secret gets its own random
 * 256-bit data key; the data key encrypts the secret with AES-256-GCM and is itself wrapped with
 * AES-256-GCM under the master key. Both layers bind `context` (e.g. the key id) as associated
 * data, so a sealed value cannot be moved to another row. Rotating the master key re-wraps only
 * the data keys ({@link rewrap}).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function gcmEncrypt(key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; data: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv, data };
}

function gcmDecrypt(key: Buffer, iv: Buffer, data: Buffer, aad: string): Buffer {
  if (data.length < TAG_BYTES) throw new Error('envelope: ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]);
}

function assertMasterKey(masterKey: Buffer): void {
  if (masterKey.length !== 32) throw new TypeError('envelope: the master key must be 32 bytes');
}

interface Parts {
  wrapIv: Buffer;
  wrapped: Buffer;
  iv: Buffer;
  data: Buffer;
}

function parse(sealed: string): Parts {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) throw new Error('envelope: unknown format');
  const [wrapIv, wrapped, iv, data] = parts.slice(1).map((part) => Buffer.from(part, 'base64url')) as [
    Buffer,
    Buffer,
    Buffer,
    Buffer,
  ];
  return { wrapIv, wrapped, iv, data };
}

function format(parts: Parts): string {
  return [VERSION, parts.wrapIv, parts.wrapped, parts.iv, parts.data]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/**
 * Encrypts `plaintext` under a fresh data key wrapped by `masterKey`; `context` is bound as AAD.
 *
 * @example
 * const sealed = seal(masterKey, pkcs8Der, `signing-key:${kid}`);
 */
export function seal(masterKey: Buffer, plaintext: Buffer, context: string): string {
  assertMasterKey(masterKey);
  const dataKey = randomBytes(32);
  const inner = gcmEncrypt(dataKey, plaintext, `data:${context}`);
  const outer = gcmEncrypt(masterKey, dataKey, `wrap:${context}`);
  dataKey.fill(0);
  return format({ wrapIv: outer.iv, wrapped: outer.data, iv: inner.iv, data: inner.data });
}

/**
 * Decrypts a value made by {@link seal}; throws when the master key, context or bytes are wrong.
 *
 * @example
 * const pkcs8Der = open(masterKey, row.privateKeySealed, `signing-key:${row.kid}`);
 */
export function open(masterKey: Buffer, sealed: string, context: string): Buffer {
  assertMasterKey(masterKey);
  const parts = parse(sealed);
  let dataKey: Buffer;
  try {
    dataKey = gcmDecrypt(masterKey, parts.wrapIv, parts.wrapped, `wrap:${context}`);
  } catch {
    // The only likely cause on a healthy database: a different master key than the one that
    // sealed it (a new ./.data/master.key against an existing DATABASE_URL, a mistyped env).
    throw new Error(
      `${context} was sealed under a different master key: set TESSERA_MASTER_KEY to the key this database was created with`,
    );
  }
  try {
    return gcmDecrypt(dataKey, parts.iv, parts.data, `data:${context}`);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Re-wraps the data key of a sealed value under a new master key (master key rotation); the
 * encrypted secret itself is untouched.
 *
 * @example
 * row.privateKeySealed = rewrap(oldMaster, newMaster, row.privateKeySealed, `signing-key:${row.kid}`);
 */
export function rewrap(oldMasterKey: Buffer, newMasterKey: Buffer, sealed: string, context: string): string {
  assertMasterKey(oldMasterKey);
  assertMasterKey(newMasterKey);
  const parts = parse(sealed);
  const dataKey = gcmDecrypt(oldMasterKey, parts.wrapIv, parts.wrapped, `wrap:${context}`);
  try {
    const outer = gcmEncrypt(newMasterKey, dataKey, `wrap:${context}`);
    return format({ ...parts, wrapIv: outer.iv, wrapped: outer.data });
  } finally {
    dataKey.fill(0);
  }
}
