/**
 * Imported first by main.ts: starts tracing and error reporting before the rest of the service is
 * loaded (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER(_ARG), SENTRY_DSN; docs/observability.md).
 */
import { startServiceTelemetry } from '@tessera/telemetry';

export const { telemetry, errorSink } = await startServiceTelemetry('users', process.env);
