import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The master key that encrypts signing keys at rest (AES-256-GCM). In embedded mode it is
 * generated on first start into `<dataDir>/master.key` with mode 0600 (and a warning, because a
 * key next to the data it protects only guards against leaked backups of the database alone);
 * `TESSERA_MASTER_KEY` (base64, 32 bytes) always wins.
 *
 * @example
 * const { key, generated } = await loadOrCreateMasterKey('./.data', process.env.TESSERA_MASTER_KEY);
 */
export async function loadOrCreateMasterKey(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<{ key: Buffer; source: 'env' | 'file' | 'generated' }> {
  if (fromEnv) return { key: decodeMasterKey(fromEnv, 'TESSERA_MASTER_KEY'), source: 'env' };
  const file = path.join(dataDir, 'master.key');
  try {
    return { key: decodeMasterKey((await readFile(file, 'utf8')).trim(), file), source: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  await writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return { key, source: 'generated' };
}

/**
 * Decodes a base64 master key and checks it is 32 bytes.
 *
 * @example
 * decodeMasterKey(process.env.TESSERA_MASTER_KEY!, 'TESSERA_MASTER_KEY');
 */
export function decodeMasterKey(text: string, where: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32)
    throw new Error(`${where} must be 32 bytes encoded as base64 (openssl rand -base64 32)`);
  return key;
}
