/**
 * The server side of `npm run bench -- login`, in its own process: the user service on real
 * PostgreSQL with one seeded user (argon2id hash, OWASP parameters), and beside it a bare Fastify
 * route that only runs the same argon2id verification (the limit). Prints one JSON line when ready.
 */
import Fastify from 'fastify';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { verify } from '@node-rs/argon2';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { createTestIssuer } from '@tessera/auth-middleware/testing';
import { applyMigrations, createDrizzle, openConnection, rawQuery } from '@tessera/db';
import { createLogger } from '@tessera/kernel';
import { disabledTelemetry } from '@tessera/telemetry';
import { applyUsersSeed, buildUsersApp, usersMigrations, usersTables } from '@tessera/users-service';

const EMAIL = 'login-bench@example.com';
const PASSWORD = 'login bench correct horse';

const conn = await openConnection({ url: process.env.BENCH_DATABASE_URL!, poolMax: 16 });
await applyMigrations(conn, usersMigrations);
const db = createDrizzle(conn, usersTables);
await applyUsersSeed(db, {
  organizations: [],
  users: [{ email: EMAIL, name: 'Login bench', password: PASSWORD, memberships: [] }],
});
const [{ password_hash: passwordHash }] = (await rawQuery<{ password_hash: string }>(
  conn,
  'select password_hash from users.users where email = $1',
  [EMAIL],
)) as [{ password_hash: string }];

const issuer = await createTestIssuer();
// What the auth service presents on its internal calls: a token with scope `internal`.
const token = await issuer.mint({ sub: 'client:tessera-auth', scope: 'internal' }, { expiresIn: 3600 });
const logger = createLogger({
  name: 'bench',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
const { app } = await buildUsersApp({
  db,
  conn,
  telemetry: disabledTelemetry('users'),
  logger,
  verifier: createTokenVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: 'tessera-api' }),
});
await app.listen({ host: '127.0.0.1', port: 0 });

const limit = Fastify();
limit.post('/verify', async (request, reply) => {
  const body = request.body as { password?: string };
  const ok = await verify(passwordHash, body.password ?? '');
  return ok ? { ok } : reply.code(401).send({ ok });
});
await limit.listen({ host: '127.0.0.1', port: 0 });

const port = (server: { address(): unknown }) => (server.address() as AddressInfo).port;
process.stdout.write(
  `${JSON.stringify({
    verifyUrl: `http://127.0.0.1:${port(app.server)}/internal/credentials/verify`,
    limitUrl: `http://127.0.0.1:${port(limit.server)}/verify`,
    token,
    email: EMAIL,
    password: PASSWORD,
    pid: process.pid,
  })}\n`,
);
