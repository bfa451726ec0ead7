import net from 'node:net';

/** A port chosen for a service, held until the service listens on it. */
export interface PortReservation {
  port: number;
  /** Frees the port for its service (idempotent). */
  release(): Promise<void>;
}

/**
 * Port 0 means "any free port": chosen up front because each service must know the others' URLs.
 * A chosen port stays bound until its service is about to listen, so that no other process takes
 * it while the services are built (migrations, seeding). A port given explicitly is not held.
 *
 * @example
 * const [users] = await reservePorts('127.0.0.1', [0]);
 * await users.release();
 * await app.listen({ host: '127.0.0.1', port: users.port });
 */
export async function reservePorts(host: string, ports: number[]): Promise<PortReservation[]> {
  const out: PortReservation[] = [];
  for (const port of ports) {
    if (port !== 0) {
      out.push({ port, release: async () => undefined });
      continue;
    }
    out.push(
      await new Promise<PortReservation>((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, host, () => {
          // Held, but never what keeps the process alive.
          server.unref();
          let released: Promise<void> | undefined;
          resolve({
            port: (server.address() as net.AddressInfo).port,
            release: () => (released ??= new Promise((done) => server.close(() => done()))),
          });
        });
      }),
    );
  }
  return out;
}
