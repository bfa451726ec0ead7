import net from 'node:net';
import pg from 'pg';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '@tessera/db/testing';

const HOW_TO_START = {
  postgres:
    'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or set DATABASE_URL)',
  redis:
    'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no (or set REDIS_URL)',
};

/**
 * Runs once before the suite: the tests use real PostgreSQL and Redis, never mocks, so an
 * unreachable server fails the whole run with a message saying how to start it.
 */
export default async function checkServices(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is unreachable at ${redact(TEST_DATABASE_URL)} (${(err as Error).message}); ${HOW_TO_START.postgres}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new URL(TEST_REDIS_URL);
  const reply = await redisPing(redis.hostname, Number(redis.port || 6379)).catch((err: Error) => err);
  if (reply instanceof Error || !reply.startsWith('+PONG')) {
    const reason = reply instanceof Error ? reply.message : reply.trim();
    throw new Error(`Redis is unreachable at ${redact(TEST_REDIS_URL)} (${reason}); ${HOW_TO_START.redis}`);
  }
}

function redisPing(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: 3_000 });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('timed out'));
    });
    socket.once('error', reject);
  });
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
