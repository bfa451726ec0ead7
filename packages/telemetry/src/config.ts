/** What turns tracing on and how it samples, read from the standard OpenTelemetry variables. */
export interface TelemetryConfig {
  /** OTLP/HTTP traces endpoint (`.../v1/traces`); absent = tracing off, no hooks installed. */
  tracesEndpoint: string | undefined;
  sampler: SamplerName;
  /** Ratio for the ratio samplers, 0..1 (default 1). */
  samplerRatio: number;
  /** Sentry-compatible DSN for the optional error sink. */
  sentryDsn: string | undefined;
  /** OTLP/HTTP encoding (`OTEL_EXPORTER_OTLP_PROTOCOL`): protobuf (the spec's default) or JSON. */
  protocol?: OtlpProtocol;
}

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** An invalid telemetry variable: the message is one line naming it. */
export class TelemetryConfigError extends Error {
  override name = 'TelemetryConfigError';
  readonly variable: string;
  readonly problem: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.variable = variable;
    this.problem = problem;
  }
}

/**
 * Reads `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (plus
 * `/v1/traces`), `OTEL_TRACES_SAMPLER` (default `parentbased_traceidratio`),
 * `OTEL_TRACES_SAMPLER_ARG` (default 1), `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` (default
 * `http/protobuf`), `OTEL_SDK_DISABLED` and `SENTRY_DSN`.
 * Throws {@link TelemetryConfigError} naming the variable when one is invalid.
 *
 * @example
 * const config = telemetryConfigFromEnv(process.env);
 */
export function telemetryConfigFromEnv(env: NodeJS.ProcessEnv): TelemetryConfig {
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const tracesEndpoint = disabled ? undefined : tracesUrl(env);
  const samplerRaw = (env.OTEL_TRACES_SAMPLER ?? '').trim() || 'parentbased_traceidratio';
  if (!(SAMPLERS as readonly string[]).includes(samplerRaw)) {
    throw new TelemetryConfigError('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')}`);
  }
  const ratioRaw = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
  const samplerRatio = ratioRaw === '' ? 1 : Number(ratioRaw);
  if (!Number.isFinite(samplerRatio) || samplerRatio < 0 || samplerRatio > 1) {
    throw new TelemetryConfigError('OTEL_TRACES_SAMPLER_ARG', 'must be a number between 0 and 1');
  }
  const sentryDsn = (env.SENTRY_DSN ?? '').trim() || undefined;
  if (sentryDsn !== undefined && !isHttpUrl(sentryDsn)) {
    throw new TelemetryConfigError('SENTRY_DSN', 'must be an http(s) DSN URL');
  }
  const protocolRaw =
    (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim() ||
    'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocolRaw)) {
    throw new TelemetryConfigError(
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      `must be one of ${OTLP_PROTOCOLS.join(', ')}`,
    );
  }
  return {
    tracesEndpoint,
    sampler: samplerRaw as SamplerName,
    samplerRatio,
    sentryDsn,
    protocol: protocolRaw as OtlpProtocol,
  };
}

function tracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const specific = (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '').trim();
  if (specific) {
    if (!isHttpUrl(specific)) {
      throw new TelemetryConfigError('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'must be an http(s) URL');
    }
    return specific;
  }
  const base = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim();
  if (!base) return undefined;
  if (!isHttpUrl(base))
    throw new TelemetryConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', 'must be an http(s) URL');
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
