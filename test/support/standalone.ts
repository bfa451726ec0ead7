/**
 * Services started alone as child processes, exactly as `npm run start:<service>` does
 * (`node services/<service>/src/main.ts`, production mode). Shared by the standalone tests.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS_URL } from '@tessera/db/testing';
import { freePort } from './platform.ts';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export type StandaloneService = 'users' | 'auth' | 'gateway';

/** Variables that configure Tessera: never inherited from the test's own environment. */
const TESSERA_VARIABLES =
  /^(USERS_|AUTH_|GATEWAY_|DATABASE_URL|REDIS_URL|TESSERA_|OTEL_|SENTRY_|LOG_LEVEL|CORS_ORIGINS|TRUSTED_PROXIES|RATE_LIMIT_|TLS_)/;

/** Environment of a production start: only what the test sets, nothing inherited that configures Tessera. */
export function serviceEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !TESSERA_VARIABLES.test(name)),
  );
  return { ...inherited, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env };
}

/** The URL of Redis database `index` on the test server (pick one no other test file uses). */
export function redisDatabaseUrl(index: number): string {
  const url = new URL(TEST_REDIS_URL);
  url.pathname = `/${index}`;
  return url.toString();
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A service running in its own process. */
export interface ServiceProcess {
  readonly name: StandaloneService;
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL when still running (for afterEach: the process never outlives its test). */
  kill(): Promise<void>;
}

/**
 * Spawns `node services/<name>/src/main.ts` with {@link serviceEnv}`(env)`; the caller registers
 * `kill()` as a cleanup at once.
 *
 * @example
 * const users = startService('users', port, { DATABASE_URL: db.url, USERS_PORT: String(port) });
 * cleanups.push(() => users.kill());
 */
export function startService(
  name: StandaloneService,
  port: number,
  env: Record<string, string>,
): ServiceProcess {
  const child = spawn(process.execPath, [`services/${name}/src/main.ts`], {
    cwd: root,
    env: serviceEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return {
    name,
    child,
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exitOf(child);
      }
    },
  };
}

/**
 * Polls `/readyz` until it answers 200 (returning that response) or `ms` pass (returning the last
 * answer, if any); throws at once when the process exits.
 */
export async function waitReady(service: ServiceProcess, ms = 30_000): Promise<Response | undefined> {
  const deadline = Date.now() + ms;
  let ready: Response | undefined;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null)
      throw new Error(`${service.name} exited with ${service.child.exitCode}:\n${service.output()}`);
    ready = await fetch(`${service.base}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(
      () => undefined,
    );
    if (ready?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return ready;
}

/** Sends SIGTERM and resolves with the exit code (rejects when it takes longer than `ms`). */
export async function terminate(service: ServiceProcess, ms = 15_000): Promise<number | null> {
  const exited = exitOf(service.child);
  service.child.kill('SIGTERM');
  return within(exited, ms, `${service.name}: exit after SIGTERM`);
}

/**
 * The lines of a service's output that report an error: log records at level error or fatal
 * (the logger writes the level as a label, `"level":"error"`; numbers accepted too), and any line
 * that is not a log record at all (an uncaught exception's stack trace, a warning of Node itself).
 */
export function errorLogLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        return true;
      }
      if (typeof record !== 'object' || record === null || !('level' in record)) return true;
      return ['error', 'fatal', 50, 60].includes(record.level as string | number);
    });
}

/** Runs the service alone to its exit (a start that must fail), bounded by `timeoutMs`. */
export function runAlone(
  name: StandaloneService,
  env: Record<string, string>,
  timeoutMs = 30_000,
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [`services/${name}/src/main.ts`], {
    cwd: root,
    env: serviceEnv(env),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}

/**
 * Runs `start` with `count` loopback ports free right now. A port is only free until a service
 * binds it, and a parallel test may take it meanwhile: then the service exits with EADDRINUSE
 * (which {@link waitReady} reports), and `start` runs again on fresh ports, three times at most.
 * `start` registers the cleanup of what it spawns.
 *
 * @example
 * const users = await onFreshPorts(1, async ([port]) => { const s = startService('users', port!, env(port!)); cleanups.push(() => s.kill()); await waitReady(s); return s; });
 */
export async function onFreshPorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await freePort());
    try {
      return await start(ports);
    } catch (err) {
      const lostPort = err instanceof Error && /EADDRINUSE|address already in use/i.test(err.message);
      if (attempt >= 3 || !lostPort) throw err;
    }
  }
}
