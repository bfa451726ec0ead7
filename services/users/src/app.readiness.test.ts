import { afterAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { connectRedis } from '@tessera/cache';
import { applyMigrations, closeConnection, createDrizzle, openConnection } from '@tessera/db';
import { createTestDatabase } from '@tessera/db/testing';
import { createLogger } from '@tessera/kernel';
import { buildUsersApp } from './app.ts';
import { schema } from './db/schema.ts';
import { usersMigrations } from './migrations.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});
const logger = createLogger({
  name: 'users',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
const verifier = createTokenVerifier({
  jwksUrl: 'http://127.0.0.1:1/jwks.json',
  issuer: 'http://localhost:8080',
  audience: 'tessera-api',
});

describe('/readyz of the user service', () => {
  it('answers 503 while migrations are pending and 200 once they are applied', async () => {
    const database = await createTestDatabase();
    const conn = await openConnection({ url: database.url });
    cleanups.push(
      () => database.drop(),
      () => closeConnection(conn),
    );
    const { app } = await buildUsersApp({ db: createDrizzle(conn, schema), conn, logger, verifier });
    cleanups.push(() => app.close());
    const pending = await app.inject({ url: '/readyz' });
    expect(pending.statusCode).toBe(503);
    expect(pending.json()).toEqual({ status: 'unavailable', checks: { postgres: 'down' } });
    await applyMigrations(conn, usersMigrations);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('answers 503 when PostgreSQL is unreachable', async () => {
    const conn = await openConnection({ url: 'postgres://postgres@127.0.0.1:1/none' });
    cleanups.push(() => closeConnection(conn));
    const { app } = await buildUsersApp({ db: createDrizzle(conn, schema), conn, logger, verifier });
    cleanups.push(() => app.close());
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
  });

  it('stays ready but reports degraded when Redis is down', async () => {
    const database = await createTestDatabase();
    const conn = await openConnection({ url: database.url });
    cleanups.push(
      () => database.drop(),
      () => closeConnection(conn),
    );
    await applyMigrations(conn, usersMigrations);
    const redis = await connectRedis('redis://127.0.0.1:1', { readyTimeoutMs: 100 });
    cleanups.push(async () => redis.disconnect());
    const { app } = await buildUsersApp({ db: createDrizzle(conn, schema), conn, logger, verifier, redis });
    cleanups.push(() => app.close());
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'degraded', checks: { postgres: 'up', redis: 'down' } });
  });
});
