/**
 * `.env.example` is the list of every variable Tessera reads (foundation issue, "Config"): each
 * service's config schema and the telemetry variables must appear in it, so a new variable cannot
 * ship undocumented.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { platformConfigSpec } from '../apps/platform/src/config.ts';
import { authConfigSpec } from '../services/auth/src/config.ts';
import { gatewayConfigSpec } from '../services/gateway/src/config.ts';
import { usersConfigSpec } from '../services/users/src/config.ts';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const documented = new Set(
  [...read('../.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!),
);

const namesOf = (spec: Record<string, { name: string }>) => Object.values(spec).map((v) => v.name);

describe('.env.example', () => {
  it.each([
    ['platform', platformConfigSpec],
    ['users', usersConfigSpec],
    ['auth', authConfigSpec],
    ['gateway', gatewayConfigSpec],
  ] as const)('lists every variable of the %s config schema', (_service, spec) => {
    const names = namesOf(spec);
    expect(names.length).toBeGreaterThan(3);
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('lists every variable the telemetry package reads (OpenTelemetry, Sentry, NODE_ENV)', () => {
    const dir = new URL('../packages/telemetry/src/', import.meta.url);
    const source = readdirSync(dir)
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => readFileSync(new URL(file, dir), 'utf8'))
      .join('\n');
    const names = [...new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!))];
    expect(names).toEqual(expect.arrayContaining(['OTEL_EXPORTER_OTLP_ENDPOINT', 'SENTRY_DSN', 'NODE_ENV']));
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
  });
});
