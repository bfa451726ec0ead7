export { telemetryConfigFromEnv, TelemetryConfigError, SAMPLERS } from './config.ts';
export type { SamplerName, TelemetryConfig } from './config.ts';
export {
  context,
  disabledTelemetry,
  propagation,
  markError,
  SpanKind,
  SpanStatusCode,
  trace,
} from './telemetry.ts';
export { createTelemetry } from './sdk.ts';
export type {
  Attributes,
  Context,
  HeaderCarrier,
  Span,
  Telemetry,
  TelemetryOptions,
  Tracer,
} from './telemetry.ts';
export {
  captureServerContext,
  serverTraceId,
  setServerRoute,
  traceHttpServer,
  withServerContext,
} from './http-server.ts';
export { clientSpan, sanitizeSql, sqlOperation } from './client-spans.ts';
export { createSentrySink } from './error-report.ts';
export type { ErrorKind, ErrorReport, ErrorSink } from './error-report.ts';
export { startServiceTelemetry } from './service.ts';
export type { ServiceTelemetry } from './service.ts';
