/**
 * The monitoring files under deploy/ (Grafana dashboards and provisioning, Prometheus alerts and
 * scrape config, the compose file and the collector config) parse, hang together, and query only
 * metrics the services really export: the names come from scraping /metrics of the whole platform
 * started in this process, never from a hand-written list. `up` (recorded by Prometheus for each
 * scrape) is the one name allowed in alerts beyond those.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { createTestDatabase } from '@tessera/db/testing';
import { createLogger } from '@tessera/kernel';
import { startPlatform, type PlatformHandle } from '@tessera/platform';

const root = fileURLToPath(new URL('..', import.meta.url));
const deploy = path.join(root, 'deploy');
const SERVICES = ['gateway', 'auth', 'users'] as const;
type Service = (typeof SERVICES)[number];
/** Names Prometheus itself records for every scrape target; only alerts may use them. */
const PROMETHEUS_OWN = new Set(['up']);

// ---------------------------------------------------------------------------------------------
// A small PromQL reader: the metric names an expression selects.
// ---------------------------------------------------------------------------------------------

const AGGREGATORS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
/** Keywords followed by a parenthesised list of label names (skipped whole). */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set([
  ...LABEL_LIST_KEYWORDS,
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'atan2',
  'inf',
  'nan',
]);
const IDENT_START = /[A-Za-z_:]/;
const IDENT_PART = /[A-Za-z0-9_:]/;
const NUMBER = /^(?:0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)[a-z0-9]*/i;

/**
 * The metric names selected by a PromQL expression (Grafana's `$var` / `${var}` allowed): skips
 * string literals, comments, label matchers in `{}` (reading `__name__="x"` there), ranges and
 * subqueries in `[]`, numbers and durations, keywords, aggregation operators, function names and
 * the label lists of by / without / on / ignoring / group_left / group_right.
 */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let i = 0;
  const skipString = () => {
    const quote = expr[i];
    i++;
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
    i++;
  };
  /** Skips from an opening bracket to its match, strings included; returns what was inside. */
  const skipBlock = (open: string, close: string): string => {
    const start = i;
    let depth = 0;
    while (i < expr.length) {
      const c = expr[i]!;
      if (c === '"' || c === "'" || c === '`') {
        skipString();
        continue;
      }
      if (c === open) depth++;
      else if (c === close && --depth === 0) {
        i++;
        break;
      }
      i++;
    }
    return expr.slice(start, i);
  };
  const nextNonSpace = (from: number): string => {
    let j = from;
    while (j < expr.length && /\s/.test(expr[j]!)) j++;
    return expr[j] ?? '';
  };
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') skipString();
    else if (c === '#') while (i < expr.length && expr[i] !== '\n') i++;
    else if (c === '{') {
      const matchers = skipBlock('{', '}');
      const named = /__name__\s*=\s*"([^"]+)"/.exec(matchers);
      if (named) names.add(named[1]!);
    } else if (c === '[') skipBlock('[', ']');
    else if (c === '$') {
      i++;
      if (expr[i] === '{') skipBlock('{', '}');
      else while (i < expr.length && IDENT_PART.test(expr[i]!)) i++;
    } else if (/[0-9.]/.test(c) && NUMBER.test(expr.slice(i))) {
      i += NUMBER.exec(expr.slice(i))![0].length;
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < expr.length && IDENT_PART.test(expr[i]!)) i++;
      const word = expr.slice(start, i);
      const lower = word.toLowerCase();
      const next = nextNonSpace(i);
      if (LABEL_LIST_KEYWORDS.has(lower) && next === '(') {
        while (expr[i] !== '(') i++;
        skipBlock('(', ')');
      } else if (KEYWORDS.has(lower) || AGGREGATORS.has(lower) || next === '(') {
        // A keyword, an aggregation operator or a function name.
      } else names.add(word);
    } else i++;
  }
  return [...names];
}

/** The metric names a Grafana Prometheus variable query reads (`label_values`, `query_result`). */
function variableMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\(([\s\S]*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/.exec(query);
  if (labelValues) return metricNames(labelValues[1]!);
  if (/^\s*(?:label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)|label_names\(\)|metrics\()/.test(query)) return [];
  const result = /^\s*query_result\(([\s\S]*)\)\s*$/.exec(query);
  return metricNames(result ? result[1]! : query);
}

// ---------------------------------------------------------------------------------------------
// Reading the files.
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const record = (value: unknown, what: string): Json => {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  return value;
};
const list = (value: unknown, what: string): unknown[] => {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value as unknown[];
};
const text = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`${what} is not a non-empty string`);
  return value;
};

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out.sort();
}

/** Parses a YAML file strictly: duplicate keys, syntax errors and warnings all fail. */
async function readYaml(file: string): Promise<unknown> {
  const doc = parseDocument(await readFile(file, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  if (problems.length > 0) throw new Error(`${path.relative(root, file)}: ${problems.join('; ')}`);
  return doc.toJS() as unknown;
}

const readJson = async (file: string): Promise<unknown> =>
  JSON.parse(await readFile(file, 'utf8')) as unknown;

interface Query {
  /** Where the expression is, for failure messages. */
  where: string;
  expr: string;
  names: string[];
}

interface Dashboard {
  file: string;
  json: Json;
  /** Every panel, those inside collapsed rows included; rows themselves excluded. */
  panels: Json[];
  variables: Json[];
}

function flattenPanels(panels: unknown[], what: string): Json[] {
  const out: Json[] = [];
  for (const [index, value] of panels.entries()) {
    const panel = record(value, `${what} panel ${index}`);
    if (panel.type === 'row') out.push(...flattenPanels(list(panel.panels ?? [], 'row panels'), what));
    else out.push(panel);
  }
  return out;
}

async function readDashboards(): Promise<Dashboard[]> {
  const dir = path.join(deploy, 'monitoring/grafana/dashboards');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const json = record(await readJson(path.join(dir, file)), file);
      const templating = record(json.templating, `${file} templating`);
      return {
        file,
        json,
        panels: flattenPanels(list(json.panels, `${file} panels`), file),
        variables: list(templating.list, `${file} templating.list`).map((v) => record(v, `${file} variable`)),
      };
    }),
  );
}

function dashboardQueries(dashboard: Dashboard): Query[] {
  const out: Query[] = [];
  for (const panel of dashboard.panels) {
    for (const target of list(panel.targets, `${dashboard.file} "${String(panel.title)}" targets`)) {
      const expr = text(record(target, 'target').expr, `${dashboard.file} "${String(panel.title)}" expr`);
      out.push({ where: `${dashboard.file} "${String(panel.title)}"`, expr, names: metricNames(expr) });
    }
  }
  for (const variable of dashboard.variables.filter((v) => v.type === 'query')) {
    const query = isRecord(variable.query) ? variable.query.query : variable.query;
    const expr = text(query, `${dashboard.file} variable ${String(variable.name)}`);
    out.push({
      where: `${dashboard.file} $${String(variable.name)}`,
      expr,
      names: variableMetricNames(expr),
    });
  }
  return out;
}

interface AlertRule {
  group: string;
  rule: Json;
}

async function readAlertRules(): Promise<AlertRule[]> {
  const doc = record(await readYaml(path.join(deploy, 'monitoring/prometheus/alerts.yml')), 'alerts.yml');
  return list(doc.groups, 'groups').flatMap((value) => {
    const group = record(value, 'group');
    const name = text(group.name, 'group name');
    return list(group.rules, `group ${name} rules`).map((rule) => ({
      group: name,
      rule: record(rule, name),
    }));
  });
}

// ---------------------------------------------------------------------------------------------
// What the services export: scraped from the real platform.
// ---------------------------------------------------------------------------------------------

/** The metrics a /metrics body declares: name and type from its `# TYPE` lines. */
function declaredMetrics(body: string): Array<[name: string, type: string]> {
  return [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]);
}

/** The series names a /metrics body exports: a histogram `x` is `x_bucket`, `x_sum`, `x_count`. */
function exportedNames(body: string): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of declaredMetrics(body)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

let platform: PlatformHandle | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let dataDir: string | undefined;
const exported = new Map<Service, Set<string>>();
/** The names on the `# TYPE` lines, per service. */
const declared = new Map<Service, Set<string>>();

beforeAll(async () => {
  const db = await createTestDatabase();
  dropDatabase = db.drop;
  dataDir = await mkdtemp(path.join(tmpdir(), 'tessera-monitoring-'));
  platform = await startPlatform({
    env: {
      DATABASE_URL: db.url,
      GATEWAY_PORT: '0',
      AUTH_PORT: '0',
      USERS_PORT: '0',
      TESSERA_DATA_DIR: dataDir,
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_ADMIN_PASSWORD: `pw-${randomBytes(12).toString('hex')}`,
    },
    logger: createLogger({
      name: 'monitoring-test',
      level: 'warn',
      destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
    }),
  });
  for (const service of SERVICES) {
    const response = await fetch(`${platform.urls[service]}/metrics`);
    expect(response.status, `${service} /metrics`).toBe(200);
    const body = await response.text();
    exported.set(service, exportedNames(body));
    declared.set(service, new Set(declaredMetrics(body).map(([name]) => name)));
  }
}, 60_000);

afterAll(async () => {
  await platform?.close();
  await dropDatabase?.();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const allExported = () => new Set([...exported.values()].flatMap((names) => [...names]));

/**
 * `name (where)` for each name a query uses that is not exported; a query pinned to one service
 * (`service="auth"`) must use that service's names.
 */
function missingNames(queries: Query[], allowed: Set<string>): string[] {
  const everything = allExported();
  const missing = new Set<string>();
  for (const query of queries) {
    const pinned = [...query.expr.matchAll(/\bservice\s*=\s*"([a-z]+)"/g)].map((m) => m[1] as Service);
    const services = new Set(pinned);
    const own = services.size === 1 ? exported.get([...services][0]!) : undefined;
    for (const name of query.names) {
      if (allowed.has(name)) continue;
      if (!everything.has(name)) missing.add(`${name} (${query.where})`);
      else if (own && !own.has(name)) missing.add(`${name} (${query.where}: not exported by ${pinned[0]})`);
    }
  }
  return [...missing].sort();
}

// ---------------------------------------------------------------------------------------------

describe('the PromQL metric-name reader', () => {
  it('finds metric names and skips functions, keywords, labels, durations, strings and variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket{route!~"/a|/b", service=~"$service"}[$__rate_interval])))',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(
      metricNames(
        '(min(a_seconds{s="x"}) - time()) < 14 * 86400 unless on () max(b{state="next"} offset 1h30m) > bool 0',
      ),
    ).toEqual(['a_seconds', 'b']);
    expect(
      metricNames('sum(rate(x_total[5m])) by (job) / ignoring(code) group_left(team) y * on(a, b) z'),
    ).toEqual(['x_total', 'y', 'z']);
    expect(metricNames('label_replace(up, "dst", "$1 {x}", "src", "(.*)") and SUM without (le) (w)')).toEqual(
      ['up', 'w'],
    );
    expect(metricNames('topk(10, q) or count_values("v", r) or {__name__="named_metric", a="b"}')).toEqual([
      'q',
      'r',
      'named_metric',
    ]);
    expect(
      metricNames('rate(m[5m:1m] @ start()) + 1e-3 + 0x1F + .5 + Inf # c_total in a comment\n+ n'),
    ).toEqual(['m', 'n']);
    expect(metricNames('foo:bar:rate5m{a="}"} / ${denominator} + $__range_s')).toEqual(['foo:bar:rate5m']);
  });

  it('reads Grafana variable queries', () => {
    expect(variableMetricNames('label_values(http_requests_total{service="x"}, instance)')).toEqual([
      'http_requests_total',
    ]);
    expect(variableMetricNames('label_values(service)')).toEqual([]);
    expect(variableMetricNames('query_result(topk(5, foo))')).toEqual(['foo']);
  });
});

describe('deploy/', () => {
  it('parses: every YAML and JSON file', async () => {
    const files = (await filesUnder(deploy)).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) {
      if (file.endsWith('.json')) await expect(readJson(file), file).resolves.toBeDefined();
      else await expect(readYaml(file), file).resolves.toBeDefined();
    }
  });

  it('dashboards: unique uid and title, schemaVersion ≥ 39, every panel on the ${datasource} variable', async () => {
    const dashboards = await readDashboards();
    expect(dashboards.map((d) => d.file)).toEqual(
      expect.arrayContaining([
        'tessera-auth.json',
        'tessera-cache.json',
        'tessera-gateway.json',
        'tessera-overview.json',
      ]),
    );
    const uids = dashboards.map((d) => text(d.json.uid, `${d.file} uid`));
    const titles = dashboards.map((d) => text(d.json.title, `${d.file} title`));
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(titles).size).toBe(titles.length);
    const usesVariable = (ds: unknown) =>
      isRecord(ds) && ds.type === 'prometheus' && (ds.uid === '${datasource}' || ds.uid === '$datasource');
    for (const d of dashboards) {
      expect(d.json.schemaVersion as number, d.file).toBeGreaterThanOrEqual(39);
      expect(d.json.id ?? null, `${d.file} must not pin a database id`).toBeNull();
      const datasource = d.variables.find((v) => v.name === 'datasource');
      expect(datasource, `${d.file} $datasource`).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const v of d.variables.filter((v) => v.type === 'query')) {
        expect(usesVariable(v.datasource), `${d.file} variable ${String(v.name)} datasource`).toBe(true);
      }
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size, `${d.file} panel ids`).toBe(ids.length);
      expect(d.panels.length, d.file).toBeGreaterThan(3);
      for (const panel of d.panels) {
        const where = `${d.file} "${String(panel.title)}"`;
        expect(usesVariable(panel.datasource), `${where} datasource`).toBe(true);
        const targets = list(panel.targets, `${where} targets`);
        expect(targets.length, where).toBeGreaterThan(0);
        for (const target of targets) {
          const t = record(target, where);
          expect(t.datasource === undefined || usesVariable(t.datasource), `${where} target datasource`).toBe(
            true,
          );
        }
        const refIds = targets.map((t) => record(t, where).refId);
        expect(new Set(refIds).size, `${where} refIds`).toBe(refIds.length);
        const grid = record(panel.gridPos, `${where} gridPos`);
        expect((grid.x as number) + (grid.w as number), `${where} fits 24 columns`).toBeLessThanOrEqual(24);
      }
    }
  });

  it('alerts: every rule has alert, expr, for, severity, summary, description and runbook; names are unique', async () => {
    const rules = await readAlertRules();
    expect(rules.length).toBeGreaterThanOrEqual(9);
    const names = rules.map(({ rule }) => text(rule.alert, 'alert'));
    expect(new Set(names).size, 'unique alert names').toBe(names.length);
    for (const { rule } of rules) {
      const where = String(rule.alert);
      expect(rule.record, `${where} is an alert, not a recording rule`).toBeUndefined();
      text(rule.expr, `${where} expr`);
      expect(text(rule.for, `${where} for`)).toMatch(/^(?:\d+(?:ms|s|m|h|d|w|y))+$/);
      expect(['critical', 'warning', 'info']).toContain(record(rule.labels, `${where} labels`).severity);
      const annotations = record(rule.annotations, `${where} annotations`);
      text(annotations.summary, `${where} summary`);
      text(annotations.description, `${where} description`);
      expect(text(annotations.runbook, `${where} runbook`)).toContain('docs/observability.md#alerts');
    }
    const docs = await readFile(path.join(root, 'docs/observability.md'), 'utf8');
    expect(docs).toMatch(/^## Alerts$/m);
    for (const name of names) expect(docs, `docs/observability.md lists ${name}`).toContain(name);
    const expected = [
      'TesseraInstanceDown',
      'TesseraHigh5xxRatio',
      'TesseraLatencyP99AboveSLO',
      'TesseraRefreshTokenReuseSpike',
      'TesseraLoginFailureRateHigh',
      'TesseraLoginFailureRatioHigh',
      'TesseraCacheHitRatioLow',
      'TesseraSigningKeyExpiresWithoutSuccessor',
      'TesseraUpstreamCircuitOpen',
      'TesseraRateLimiterFailingOpen',
    ];
    expect(names).toEqual(expect.arrayContaining(expected));
  });

  it('prometheus.yml: one job per service, the alerts loaded where compose mounts them', async () => {
    const config = record(await readYaml(path.join(deploy, 'monitoring/prometheus/prometheus.yml')), 'prom');
    const jobs = list(config.scrape_configs, 'scrape_configs').map((j) => record(j, 'job'));
    const ports = Object.fromEntries(
      jobs.map((job) => {
        const targets = list(job.static_configs, 'static_configs').flatMap((s) =>
          list(record(s, 'static_config').targets, 'targets').map((t) => text(t, 'target')),
        );
        return [text(job.job_name, 'job_name'), targets.map((t) => t.split(':').at(-1))];
      }),
    );
    expect(ports).toEqual({
      'tessera-gateway': ['8080'],
      'tessera-auth': ['8081'],
      'tessera-users': ['8082'],
    });
    const compose = record(await readYaml(path.join(deploy, 'compose.yaml')), 'compose');
    const prometheus = record(record(compose.services, 'services').prometheus, 'prometheus');
    const mounts = list(prometheus.volumes, 'volumes').map((v) => text(v, 'volume'));
    for (const ruleFile of list(config.rule_files, 'rule_files')) {
      expect(mounts, `rule file ${String(ruleFile)} mounted`).toContain(
        `./monitoring/prometheus/alerts.yml:${String(ruleFile)}:ro`,
      );
    }
  });

  it('compose.yaml: the four services, ports on 127.0.0.1 only, mounts that exist, configs that agree', async () => {
    const compose = record(await readYaml(path.join(deploy, 'compose.yaml')), 'compose');
    const services = record(compose.services, 'services');
    expect(Object.keys(services).sort()).toEqual(['grafana', 'jaeger', 'otel-collector', 'prometheus']);
    const published = new Map<string, string>();
    for (const [name, value] of Object.entries(services)) {
      const service = record(value, name);
      expect(text(service.image, `${name} image`), `${name} pins a version`).toMatch(/:[\w.-]+$/);
      expect(service.image, `${name} pins a version`).not.toMatch(/:latest$/);
      for (const port of list(service.ports ?? [], `${name} ports`)) {
        const mapping = text(port, `${name} port`);
        expect(mapping, `${name} publishes on loopback only`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        published.set(mapping.split(':')[1]!, name);
      }
      for (const volume of list(service.volumes ?? [], `${name} volumes`)) {
        const source = text(volume, `${name} volume`).split(':')[0]!;
        if (source.startsWith('.')) {
          await expect(stat(path.join(deploy, source)), `${name} mounts ${source}`).resolves.toBeDefined();
        }
      }
    }
    expect(Object.fromEntries(published)).toMatchObject({
      '4318': 'otel-collector',
      '16686': 'jaeger',
      '9090': 'prometheus',
      '3000': 'grafana',
    });
    const grafana = record(services.grafana, 'grafana');
    const env = record(grafana.environment, 'grafana environment');
    expect(env).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer' });
    const grafanaMounts = list(grafana.volumes, 'grafana volumes').map((v) => text(v, 'volume').split(':'));
    const containerPath = (source: string) => grafanaMounts.find(([s]) => s === source)?.[1];
    expect(containerPath('./monitoring/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    // The dashboard provider reads the folder the dashboards are mounted on.
    const providers = record(
      await readYaml(path.join(deploy, 'monitoring/grafana/provisioning/dashboards/tessera.yaml')),
      'providers',
    );
    const provider = record(list(providers.providers, 'providers')[0], 'provider');
    expect(record(provider.options, 'options').path).toBe(containerPath('./monitoring/grafana/dashboards'));
    // Data sources point at compose services.
    const datasources = record(
      await readYaml(path.join(deploy, 'monitoring/grafana/provisioning/datasources/tessera.yaml')),
      'datasources',
    );
    for (const value of list(datasources.datasources, 'datasources')) {
      const host = new URL(text(record(value, 'datasource').url, 'url')).hostname;
      expect(Object.keys(services), `data source host ${host}`).toContain(host);
    }
    // The collector: every pipeline component is defined, OTLP/HTTP on 4318, Jaeger a compose service.
    const collector = record(await readYaml(path.join(deploy, 'otel-collector.yaml')), 'collector');
    const pipelines = record(record(collector.service, 'service').pipelines, 'pipelines');
    for (const [name, value] of Object.entries(pipelines)) {
      const pipeline = record(value, name);
      for (const kind of ['receivers', 'processors', 'exporters']) {
        for (const component of list(pipeline[kind] ?? [], `${name} ${kind}`)) {
          expect(Object.keys(record(collector[kind], kind)), `${name} ${kind}`).toContain(component);
        }
      }
    }
    const otlp = record(record(record(collector.receivers, 'receivers').otlp, 'otlp').protocols, 'protocols');
    expect(text(record(otlp.http, 'http').endpoint, 'http endpoint')).toMatch(/:4318$/);
    const exporters = record(collector.exporters, 'exporters');
    const jaeger = text(record(exporters['otlp/jaeger'], 'otlp/jaeger').endpoint, 'jaeger endpoint');
    expect(Object.keys(services)).toContain(jaeger.split(':')[0]);
  });
});

describe('metric names in dashboards and alerts', () => {
  it('the platform exports the metrics every service should', () => {
    for (const service of SERVICES) {
      expect([...exported.get(service)!], service).toEqual(
        expect.arrayContaining(['http_requests_total', 'http_request_duration_seconds_bucket']),
      );
    }
  });

  it('every dashboard query uses only exported metric names', async () => {
    const queries = (await readDashboards()).flatMap(dashboardQueries);
    expect(queries.length).toBeGreaterThan(40);
    for (const query of queries)
      expect(query.names.length, `${query.where}: ${query.expr}`).toBeGreaterThan(0);
    expect(missingNames(queries, new Set())).toEqual([]);
  });

  it('every alert uses only exported metric names (and up)', async () => {
    const queries = (await readAlertRules()).map(({ rule }) => {
      const expr = text(rule.expr, 'expr');
      return { where: `alert ${String(rule.alert)}`, expr, names: metricNames(expr) };
    });
    for (const query of queries) expect(query.names.length, query.where).toBeGreaterThan(0);
    expect(missingNames(queries, PROMETHEUS_OWN)).toEqual([]);
  });

  it('docs/observability.md lists every tessera_ metric the services export, and only those', async () => {
    const docs = await readFile(path.join(root, 'docs/observability.md'), 'utf8');
    const table = /^### Metrics reference$([\s\S]*?)^##/m.exec(docs)?.[1] ?? '';
    const documented = new Set([...table.matchAll(/`(tessera_[a-z_]+)`/g)].map((m) => m[1]!));
    const own = new Set(
      [...declared.values()].flatMap((names) => [...names]).filter((n) => n.startsWith('tessera_')),
    );
    expect(own.size).toBeGreaterThan(10);
    expect([...own].filter((name) => !documented.has(name)).sort(), 'exported but not documented').toEqual(
      [],
    );
    expect([...documented].filter((name) => !own.has(name)).sort(), 'documented but not exported').toEqual(
      [],
    );
  });
});
