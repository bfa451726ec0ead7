import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientsCreate,
  clientsDelete,
  clientsList,
  clientsRotateSecret,
  keysList,
  keysRotate,
  type CliContext,
} from './cli.ts';
import { defaultAuthConfig } from './config.ts';
import { eq } from 'drizzle-orm';
import { hashClientSecret } from './clients/secrets.ts';
import { oauthClients } from './clients/table.ts';
import { createTestAuthDatabase, type TestAuthDatabase } from './testing.ts';

let database: TestAuthDatabase;
let ctx: CliContext;
const masterKey = randomBytes(32);

beforeAll(async () => {
  database = await createTestAuthDatabase();
  ctx = { db: database.db, config: defaultAuthConfig() };
});
afterAll(async () => database?.drop());

describe('CLI commands', () => {
  it('creates, lists, rotates and deletes a client, showing each secret only where it is made', async () => {
    const created = await clientsCreate(ctx, {
      clientId: 'cli-svc',
      name: 'CLI service',
      type: 'confidential',
      scopes: ['users:read'],
    });
    expect(created.secret).toMatch(/^[\w-]{43}$/);
    expect((await clientsList(ctx)).map((client) => client.clientId)).toEqual(['cli-svc']);
    expect(JSON.stringify(await clientsList(ctx))).not.toContain(created.secret);
    const rotated = await clientsRotateSecret(ctx, 'cli-svc');
    expect(rotated.secret).not.toBe(created.secret);
    const [stored] = await database.db
      .select()
      .from(oauthClients)
      .where(eq(oauthClients.clientId, 'cli-svc'));
    expect(stored!.secretHash).toBe(hashClientSecret(rotated.secret));
    expect(await clientsDelete(ctx, 'cli-svc')).toBe(true);
    expect(await clientsDelete(ctx, 'cli-svc')).toBe(false);
    expect(await clientsList(ctx)).toEqual([]);
  });

  it('rotates the signing keys: the first run creates the current key, rotation adds a next key', async () => {
    const { current, next, idToken } = await keysRotate(ctx, masterKey);
    expect(current.state).toBe('current');
    expect(next.state).toBe('next');
    // The RS256 ID-token set (OIDC Core §15.1) rotates with it.
    expect(idToken?.next.alg).toBe('RS256');
    expect((await keysList(ctx, masterKey)).map((key) => [key.keySet, key.kid, key.state])).toEqual([
      ['primary', current.kid, 'current'],
      ['primary', next.kid, 'next'],
      ['id-token-rs256', idToken?.current.kid, 'current'],
      ['id-token-rs256', idToken?.next.kid, 'next'],
    ]);
  });
});
