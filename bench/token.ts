/**
 * `npm run bench -- token [--duration 8] [--rounds 3] [--connections 32] [--algs ES256,EdDSA]
 *   [--scenarios client_credentials,refresh_token] [--no-micro]`
 *
 * The token endpoint side by side (docs/benchmarks.md, "token"): Tessera's auth service vs
 * oidc-provider configured equivalently vs a bare Fastify "limit" route, each in its own process,
 * driven by autocannon from this process, alternating A B C for several rounds after a warm-up.
 * Before that, a micro benchmark of the signing options (jose SignJWT, hand-assembled JWS over
 * WebCrypto, over node:crypto's `sign` with a callback, and synchronous node:crypto) justifies the
 * signer Tessera (and the limit route) uses.
 *
 * Scenarios: `client_credentials` (client_secret_basic; Tessera, oidc-provider, limit) and
 * `refresh_token` (public client, rotation on every use; Tessera on real PostgreSQL vs
 * oidc-provider on its in-memory adapter). For refresh, each request takes an unused refresh
 * token from a pool the server process obtained before the run, and its response returns the
 * rotated token to the pool; a token whose request was still in flight when a run stopped is
 * dropped (it may already be rotated), so the pool holds several times the connection count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomUUID, sign as nodeSign, webcrypto, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { cpuUs } from './lib.ts';

type Kind = 'tessera' | 'oidc' | 'limit';
type Alg = 'ES256' | 'EdDSA';

interface Server {
  kind: Kind;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Unused refresh tokens (refresh_token scenario). */
  refreshTokens: string[];
  child: ChildProcess;
}

interface RunResult {
  scenario: Scenario['name'];
  kind: Kind;
  alg: Alg;
  round: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
  /** CPU µs per request of the server process (all its threads, signing included), from /proc. */
  serverCpuUsPerRequest?: number | undefined;
}

interface Scenario {
  name: 'client_credentials' | 'refresh_token';
  kinds: Kind[];
  options(server: Server): { options: autocannon.Options };
}

const here = path.dirname(fileURLToPath(import.meta.url));
const KINDS: Kind[] = ['tessera', 'oidc', 'limit'];

const clientCredentials: Scenario = {
  name: 'client_credentials',
  kinds: KINDS,
  options: (server) => ({
    options: {
      url: server.tokenUrl,
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=users%3Aread',
    },
  }),
};

interface RefreshContext {
  token?: string | undefined;
}

const refreshToken: Scenario = {
  name: 'refresh_token',
  kinds: ['tessera', 'oidc'],
  options: (server) => ({
    options: {
      url: server.tokenUrl,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          // autocannon resets a connection's context between request cycles, so the chains live in
          // the shared pool: a request takes any unused token, its response puts the rotated one back.
          setupRequest: (request, context: RefreshContext) => {
            context.token = server.refreshTokens.shift();
            const body = `grant_type=refresh_token&client_id=${server.clientId}&refresh_token=${encodeURIComponent(context.token ?? 'exhausted')}`;
            return { ...request, body };
          },
          onResponse: (status, body) => {
            if (status !== 200) return;
            const rotated = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
            if (rotated) server.refreshTokens.push(rotated);
          },
        },
      ],
    },
  }),
};

const SCENARIOS: Record<Scenario['name'], Scenario> = {
  client_credentials: clientCredentials,
  refresh_token: refreshToken,
};

function argValue(args: string[], name: string, fallback: string): string {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] ? (args[index + 1] as string) : fallback;
}

async function startServer(kind: Kind, alg: Alg, scenario: Scenario['name']): Promise<Server> {
  const child = spawn(process.execPath, [path.join(here, 'lib-token-server.ts'), kind, alg, scenario], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) =>
      reject(new Error(`${kind} server exited with ${String(code)}: ${stderr.slice(-2000)}`)),
    );
  });
  const info = JSON.parse(first) as {
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
    refreshTokens: string[];
  };
  return { kind, child, ...info };
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.child.kill('SIGKILL');
      resolve();
    }, 5_000);
    server.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.kill('SIGTERM');
  });
}

async function load(
  server: Server,
  scenario: Scenario,
  connections: number,
  duration: number,
): Promise<autocannon.Result> {
  const { options } = scenario.options(server);
  return autocannon({ ...options, connections, duration, pipelining: 1 });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Ops/s of one signing approach with `concurrency` signatures in flight for `seconds`. */
async function measureSigner(
  signOnce: () => Promise<unknown>,
  seconds: number,
  concurrency = 64,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await signOnce();
      count++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - started) / 1000);
}

async function micro(alg: Alg, seconds: number): Promise<Record<string, number>> {
  const generate = alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' };
  const signParams = alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
  const pair = (await webcrypto.subtle.generateKey(generate, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey));
  const keyObject: KeyObject = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const header = Buffer.from(JSON.stringify({ alg, kid: 'k', typ: 'at+jwt' })).toString('base64url');
  const claims = () => {
    const iat = Math.floor(Date.now() / 1000);
    return {
      iss: 'http://127.0.0.1:8080',
      sub: 'client:bench',
      aud: 'tessera-api',
      exp: iat + 600,
      iat,
      nbf: iat,
      jti: randomUUID(),
      client_id: 'bench',
      scope: 'users:read',
      permissions: ['users:read'],
    };
  };
  const input = () => `${header}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}`;
  return {
    'jose SignJWT': await measureSigner(
      () => new SignJWT(claims()).setProtectedHeader({ alg, kid: 'k', typ: 'at+jwt' }).sign(pair.privateKey),
      seconds,
    ),
    'prepared header + crypto.subtle.sign': await measureSigner(async () => {
      const text = input();
      const signature = await webcrypto.subtle.sign(signParams, pair.privateKey, Buffer.from(text, 'latin1'));
      return `${text}.${Buffer.from(signature).toString('base64url')}`;
    }, seconds),
    'prepared header + node:crypto.sign callback (thread pool)': await measureSigner(() => {
      const text = input();
      return new Promise<string>((resolve, reject) => {
        nodeSign(
          alg === 'ES256' ? 'sha256' : null,
          Buffer.from(text, 'latin1'),
          { key: keyObject, dsaEncoding: 'ieee-p1363' },
          (err, signature) => (err ? reject(err) : resolve(`${text}.${signature.toString('base64url')}`)),
        );
      });
    }, seconds),
    'prepared header + sync node:crypto.sign': await measureSigner(() => {
      const text = input();
      const signature = nodeSign(alg === 'ES256' ? 'sha256' : null, Buffer.from(text, 'latin1'), {
        key: keyObject,
        dsaEncoding: 'ieee-p1363',
      });
      return Promise.resolve(`${text}.${signature.toString('base64url')}`);
    }, seconds),
  };
}

export default async function tokenBenchmark(args: string[]): Promise<void> {
  const duration = Number(argValue(args, 'duration', '8'));
  const rounds = Number(argValue(args, 'rounds', '3'));
  const connections = Number(argValue(args, 'connections', '32'));
  const algs = argValue(args, 'algs', 'ES256,EdDSA').split(',') as Alg[];
  const log = (line: string) => process.stdout.write(`${line}\n`);

  const microResults: Record<string, Record<string, number>> = {};
  if (!args.includes('--no-micro')) {
    for (const alg of algs) {
      microResults[alg] = await micro(alg, 3);
      for (const [name, ops] of Object.entries(microResults[alg]))
        log(`micro ${alg} ${name}: ${ops.toFixed(0)} signatures/s`);
    }
  }

  const scenarios = argValue(args, 'scenarios', 'client_credentials,refresh_token')
    .split(',')
    .map((name) => {
      const scenario = SCENARIOS[name as Scenario['name']];
      if (!scenario) throw new Error(`unknown scenario ${name}`);
      return scenario;
    });
  const runs: RunResult[] = [];
  for (const scenario of scenarios) {
    for (const alg of algs) {
      const servers: Server[] = [];
      try {
        // BENCH_KINDS=tessera (comma-separated) runs only those servers, for profiling one side.
        const only = process.env.BENCH_KINDS?.split(',');
        for (const kind of scenario.kinds.filter((k) => !only || only.includes(k)))
          servers.push(await startServer(kind, alg, scenario.name));
        for (const server of servers) await load(server, scenario, connections, 3);
        for (let round = 1; round <= rounds; round++) {
          // Each round starts one server later, so no server always runs right after the same one.
          const order = servers.map((_, i) => servers[(i + round - 1) % servers.length] as Server);
          for (const server of order) {
            const cpuBefore = cpuUs(server.child.pid);
            const result = await load(server, scenario, connections, duration);
            const cpuAfter = cpuUs(server.child.pid);
            const run: RunResult = {
              scenario: scenario.name,
              kind: server.kind,
              alg,
              round,
              requestsPerSecond: result.requests.average,
              p50: result.latency.p50,
              p99: result.latency.p99,
              non2xx: result.non2xx,
              errors: result.errors + result.timeouts,
              total: result.requests.total,
              serverCpuUsPerRequest:
                cpuBefore !== undefined && cpuAfter !== undefined && result.requests.total > 0
                  ? Math.round((cpuAfter - cpuBefore) / result.requests.total)
                  : undefined,
            };
            runs.push(run);
            log(
              `${scenario.name} ${alg} round ${round} ${server.kind}: ${run.requestsPerSecond.toFixed(0)} req/s p50 ${run.p50} ms p99 ${run.p99} ms non2xx ${run.non2xx} errors ${run.errors} server CPU ${run.serverCpuUsPerRequest ?? '?'} µs/req`,
            );
          }
        }
      } finally {
        await Promise.all(servers.map(stopServer));
      }
    }
  }

  const summary: Record<string, Record<string, unknown>> = {};
  for (const scenario of scenarios) {
    const perAlg: Record<string, unknown> = {};
    summary[scenario.name] = perAlg;
    for (const alg of algs) {
      const of = (kind: Kind) =>
        runs.filter((run) => run.scenario === scenario.name && run.alg === alg && run.kind === kind);
      const ratio = (a: Kind, b: Kind) =>
        median(of(a).map((run, index) => run.requestsPerSecond / (of(b)[index]?.requestsPerSecond ?? NaN)));
      const entry: Record<string, unknown> = Object.fromEntries(
        scenario.kinds.map((kind) => [
          kind,
          {
            medianRequestsPerSecond: median(of(kind).map((run) => run.requestsPerSecond)),
            medianP50: median(of(kind).map((run) => run.p50)),
            medianP99: median(of(kind).map((run) => run.p99)),
            failedRequests: of(kind).reduce((sum, run) => sum + run.non2xx + run.errors, 0),
            medianServerCpuUsPerRequest: median(of(kind).map((run) => run.serverCpuUsPerRequest ?? NaN)),
          },
        ]),
      );
      entry.tesseraOverOidcProvider = ratio('tessera', 'oidc');
      if (scenario.kinds.includes('limit')) {
        entry.tesseraOverLimit = ratio('tessera', 'limit');
        entry.oidcProviderOverLimit = ratio('oidc', 'limit');
      }
      perAlg[alg] = entry;
      log(`${scenario.name} ${alg} summary: ${JSON.stringify(entry)}`);
    }
  }

  const output = {
    benchmark: 'token',
    scenarios: scenarios.map((scenario) => scenario.name),
    command: `npm run bench -- token ${args.join(' ')}`.trim(),
    node: process.version,
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    connections,
    durationSeconds: duration,
    rounds,
    date: new Date().toISOString(),
    micro: microResults,
    summary,
    runs,
  };
  await mkdir(path.join(here, 'results'), { recursive: true });
  await writeFile(path.join(here, 'results', 'token.json'), `${JSON.stringify(output, null, 2)}\n`);
  log(`raw results: bench/results/token.json`);
}
