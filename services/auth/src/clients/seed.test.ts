import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { createTestAuthDatabase, type TestAuthDatabase } from '../testing.ts';
import { applyClientsSeed, ensureDemoClients } from './seed.ts';
import { hashClientSecret } from './secrets.ts';
import { oauthClients } from './table.ts';

let database: TestAuthDatabase;
beforeAll(async () => {
  database = await createTestAuthDatabase();
});
afterAll(async () => database?.drop());

const row = async (clientId: string) =>
  (await database.db.select().from(oauthClients).where(eq(oauthClients.clientId, clientId)))[0];

describe('ensureDemoClients', () => {
  it('creates demo-spa and demo-service once and returns the generated secret only the first time', async () => {
    const first = await ensureDemoClients(database.db);
    expect(first.created).toEqual(['demo-spa', 'demo-service']);
    expect(first.demoServiceSecret).toMatch(/^[\w-]{43}$/);
    const spa = await row('demo-spa');
    expect(spa).toMatchObject({
      type: 'public',
      tokenEndpointAuthMethod: 'none',
      secretHash: null,
      firstParty: true,
      redirectUris: ['http://localhost:5173/callback', 'http://127.0.0.1:5173/callback'],
      postLogoutRedirectUris: ['http://localhost:5173/'],
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: [
        'openid',
        'profile',
        'email',
        'offline_access',
        'users:read',
        'users:write',
        'orgs:read',
        'orgs:write',
      ],
    });
    const service = await row('demo-service');
    expect(service).toMatchObject({
      type: 'confidential',
      grantTypes: ['client_credentials'],
      secretHash: hashClientSecret(first.demoServiceSecret!),
    });
    const second = await ensureDemoClients(database.db);
    expect(second).toEqual({ demoServiceSecret: undefined, created: [] });
    expect((await row('demo-service'))!.secretHash).toBe(service!.secretHash);
  });

  it('takes demo-service’s secret from the caller when given', async () => {
    const secret = 'a-demo-secret-from-the-environment-0123456789';
    const result = await ensureDemoClients(database.db, { demoServiceSecret: secret });
    expect(result.demoServiceSecret).toBeUndefined();
    expect((await row('demo-service'))!.secretHash).toBe(hashClientSecret(secret));
  });
});

describe('applyClientsSeed', () => {
  const seed = {
    clients: [
      {
        clientId: 'seeded-api',
        name: 'Seeded API',
        type: 'confidential' as const,
        scopes: ['users:read'],
        secret: 'seeded-secret-0123456789-0123456789-abcdef',
      },
      {
        clientId: 'seeded-app',
        name: 'Seeded App',
        type: 'public' as const,
        redirectUris: ['https://app.example.com/cb'],
        scopes: ['openid'],
      },
    ],
  };

  it('creates the declared clients and is idempotent', async () => {
    const first = await applyClientsSeed(database.db, seed);
    expect(first).toEqual({ created: ['seeded-api', 'seeded-app'], updated: [], generatedSecrets: {} });
    const snapshot = await database.db.select().from(oauthClients).orderBy(asc(oauthClients.clientId));
    const second = await applyClientsSeed(database.db, seed);
    expect(second).toEqual({ created: [], updated: ['seeded-api', 'seeded-app'], generatedSecrets: {} });
    const after = await database.db.select().from(oauthClients).orderBy(asc(oauthClients.clientId));
    expect(after.map(({ updatedAt: _u, ...rest }) => rest)).toEqual(
      snapshot.map(({ updatedAt: _u, ...rest }) => rest),
    );
    expect((await row('seeded-api'))!.secretHash).toBe(hashClientSecret(seed.clients[0]!.secret!));
  });

  it('applies a changed declaration to the stored client', async () => {
    await applyClientsSeed(database.db, {
      clients: [{ ...seed.clients[1]!, redirectUris: ['https://app.example.com/new-cb'] }],
    });
    expect((await row('seeded-app'))!.redirectUris).toEqual(['https://app.example.com/new-cb']);
  });

  it('rejects an invalid declaration and writes none of the file’s clients', async () => {
    const clients = [
      { clientId: 'fine', name: 'Fine', type: 'confidential' as const },
      { clientId: 'bad', name: 'Bad', type: 'public' as const, redirectUris: ['http://evil.example/cb'] },
    ];
    await expect(applyClientsSeed(database.db, { clients })).rejects.toThrow(/https/);
    expect(await row('fine')).toBeUndefined();
    expect(await row('bad')).toBeUndefined();
  });
});
