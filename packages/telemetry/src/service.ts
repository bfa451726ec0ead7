import { telemetryConfigFromEnv, TelemetryConfigError } from './config.ts';
import { createSentrySink, type ErrorSink } from './error-report.ts';
import { createTelemetry } from './sdk.ts';
import type { Telemetry } from './telemetry.ts';

/** What a service's entry point gets from {@link startServiceTelemetry}. */
export interface ServiceTelemetry {
  telemetry: Telemetry;
  /** The Sentry sink when `SENTRY_DSN` is set. */
  errorSink: ErrorSink | undefined;
}

/**
 * Reads the telemetry variables and starts tracing (and the optional Sentry sink) for `service`.
 * Entry points call it first, before building anything. An invalid variable stops the process
 * with exit code 1 and one line naming it, like every other configuration error.
 *
 * @example
 * const { telemetry, errorSink } = await startServiceTelemetry('users', process.env);
 */
export async function startServiceTelemetry(
  service: string,
  env: NodeJS.ProcessEnv,
  version = '0.1.0',
): Promise<ServiceTelemetry> {
  try {
    const config = telemetryConfigFromEnv(env);
    const telemetry = await createTelemetry({ service, version, config });
    const errorSink = config.sentryDsn
      ? await createSentrySink(config.sentryDsn, {
          service,
          release: `tessera@${version}`,
          ...(env.NODE_ENV ? { environment: env.NODE_ENV } : {}),
        })
      : undefined;
    return { telemetry, errorSink };
  } catch (err) {
    if (!(err instanceof TelemetryConfigError)) throw err;
    process.stderr.write(`config: ${err.variable} ${err.problem}\n`);
    process.exit(1);
  }
}
