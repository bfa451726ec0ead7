import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the request in flight, refuses new ones, then closes the database and exits 0', async () => {
    const script = fileURLToPath(new URL('./testing/drain-on-sigterm.ts', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const waitFor = async (text: string) => {
        while (!out.includes(text)) await new Promise((resolve) => setTimeout(resolve, 10));
      };
      await waitFor('listening ');
      const port = Number(/listening (\d+)/.exec(out)![1]);
      const exited = once(child, 'exit');

      const inFlight = fetch(`http://127.0.0.1:${port}/slow`);
      await waitFor('slow request started');
      child.kill('SIGTERM');
      // Shutdown has begun: the listener is closed, so a new connection is refused.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expect(fetch(`http://127.0.0.1:${port}/livez`)).rejects.toThrow();

      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ finished: true });
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
      // The database step ran, and only after the in-flight request had been answered.
      expect(out).toContain('database closed');
      expect(out.indexOf('database closed')).toBeGreaterThan(out.indexOf('slow request started'));
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  }, 20_000);
});
