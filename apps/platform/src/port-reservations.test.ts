import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { reservePorts } from './port-reservations.ts';

/** Resolves with the error code when `port` cannot be bound, undefined when it could (then frees it). */
async function bindError(port: number): Promise<string | undefined> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
  });
}

describe('reservePorts', () => {
  it('holds a chosen free port until it is released, so no other listener takes it first', async () => {
    const [reservation] = await reservePorts('127.0.0.1', [0]);
    expect(reservation!.port).toBeGreaterThan(0);
    expect(await bindError(reservation!.port)).toBe('EADDRINUSE');
    await reservation!.release();
    await reservation!.release();
    expect(await bindError(reservation!.port)).toBeUndefined();
  });

  it('chooses a different port for each 0 and keeps an explicit port as given, unheld', async () => {
    const reservations = await reservePorts('127.0.0.1', [0, 0, 65_000]);
    const ports = reservations.map((reservation) => reservation.port);
    expect(new Set(ports).size).toBe(3);
    expect(ports[2]).toBe(65_000);
    await Promise.all(reservations.map((reservation) => reservation.release()));
  });
});
