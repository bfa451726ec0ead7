/**
 * The auth service's CLI commands, as functions over a database connection; the platform's
 * `npm run tessera -- clients create|list|rotate-secret|delete` and `keys rotate|list` call them.
 * Each returns plain data for the caller to print (a secret appears only in what creates it).
 */
import { systemClock, type Clock } from '@tessera/kernel';
import type { AuthConfig } from './config.ts';
import type { AuthDatabase } from './db/database.ts';
import { ClientRepository, type ClientInput, type ClientRecord } from './clients/repository.ts';
import { KeyStore, type KeyStoreOptions } from './keys/key-store.ts';
import {
  idTokenAlgorithmsFor,
  SigningKeys,
  type KeyInfoInSet,
  type RotationResult,
} from './keys/signing-keys.ts';

/** What the commands need besides the database. */
export interface CliContext {
  db: AuthDatabase;
  config: Pick<
    AuthConfig,
    'apiAudience' | 'accessTokenTtlSeconds' | 'signingAlg' | 'keyPropagationSeconds' | 'idTokenTtlSeconds'
  >;
  clock?: Clock;
}

function repository(ctx: CliContext): ClientRepository {
  return new ClientRepository(ctx.db, ctx.clock ?? systemClock, {
    defaultAudience: ctx.config.apiAudience,
    accessTokenTtlSeconds: ctx.config.accessTokenTtlSeconds,
    idTokenAlgorithms: idTokenAlgorithmsFor(ctx.config.signingAlg),
  });
}

/**
 * `clients create`: returns the client and, for secret-based methods, its secret (shown once).
 *
 * @example
 * const { client, secret } = await clientsCreate(ctx, { name: 'Billing', type: 'confidential', scopes: ['users:read'] });
 */
export async function clientsCreate(
  ctx: CliContext,
  input: ClientInput,
): Promise<{ client: ClientRecord; secret: string | undefined }> {
  return repository(ctx).create(input);
}

/** `clients list`. */
export async function clientsList(ctx: CliContext): Promise<ClientRecord[]> {
  return repository(ctx).list();
}

/** `clients rotate-secret <id>`: the new secret (the old one stops working at once). */
export async function clientsRotateSecret(
  ctx: CliContext,
  clientId: string,
): Promise<{ client: ClientRecord; secret: string }> {
  return repository(ctx).rotateSecret(clientId);
}

/** `clients delete <id>`: false when there was no such client. */
export async function clientsDelete(ctx: CliContext, clientId: string): Promise<boolean> {
  return repository(ctx).delete(clientId);
}

function keyOptions(ctx: CliContext, masterKey: Buffer): KeyStoreOptions {
  return {
    db: ctx.db,
    masterKey,
    clock: ctx.clock ?? systemClock,
    alg: ctx.config.signingAlg,
    propagationSeconds: ctx.config.keyPropagationSeconds,
    retentionSeconds: Math.max(3600, ctx.config.idTokenTtlSeconds) + 60,
  };
}

/**
 * `keys rotate`: publishes a new `next` key (a pending one starts signing now); see ADR 0002.
 *
 * @example
 * const { current, next } = await keysRotate(ctx, masterKey);
 */
export async function keysRotate(ctx: CliContext, masterKey: Buffer): Promise<RotationResult> {
  const keys = SigningKeys.create(keyOptions(ctx, masterKey));
  await keys.init();
  return keys.rotate();
}

/** `keys list`: every key of every key set with its state. */
export async function keysList(ctx: CliContext, masterKey: Buffer): Promise<KeyInfoInSet[]> {
  const keys = SigningKeys.create(keyOptions(ctx, masterKey));
  await keys.init();
  return keys.list();
}

/**
 * `keys rewrap`: re-encrypts every signing key's data key under a new master key (master key
 * rotation); restart every instance with the new key afterwards.
 */
export async function keysRewrap(
  ctx: CliContext,
  oldMasterKey: Buffer,
  newMasterKey: Buffer,
): Promise<number> {
  return new KeyStore(keyOptions(ctx, oldMasterKey)).rewrapAll(newMasterKey);
}
