export {
  ConfigError,
  envBool,
  envEnum,
  envInt,
  envList,
  envOptionalString,
  envString,
  envUrl,
  loadConfig,
  loadConfigOrExit,
} from './config.ts';
export type { ConfigOf, EnvVar } from './config.ts';
export { createLogger, REDACT_PATHS } from './logger.ts';
export type { Logger, LoggerConfig } from './logger.ts';
export {
  AppError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PROBLEM_BASE,
  ServiceUnavailableError,
  toProblem,
} from './errors.ts';
export type { AppErrorOptions, ProblemDocument } from './errors.ts';
export {
  createHttpServer,
  DEFAULT_BODY_LIMIT,
  errorReporterOf,
  safeErrorForLog,
  sendError,
  toAppError,
} from './http.ts';
export type { HttpServer, HttpServerOptions, ReadinessCheck } from './http.ts';
export { createHttpMetrics, renderMetrics, TESSERA_VERSION } from './metrics.ts';
export { isManagementPermission, MANAGEMENT_RESOURCES } from './management-permissions.ts';
export { DISPLAY_TEXT_PATTERN } from './display-text.ts';
export { refuseUndeclaredInput } from './undeclared-input.ts';
export { keepResponsesPrivate } from './private-responses.ts';
export { entityTag, handleConditionalRequests } from './conditional-requests.ts';
export { apiErrorResponses, ProblemDocumentSchema, problemResponse } from './problem-schema.ts';
export type { HttpMetrics } from './metrics.ts';
export { assertSafeJson } from './json-guard.ts';
export { uuidv7, systemClock } from './ids.ts';
export type { Clock } from './ids.ts';
export { onShutdown, reportProcessErrors } from './shutdown.ts';
export { sameSecret } from './same-secret.ts';
export {
  defaultThreadPoolSize,
  NODE_THREAD_POOL_SIZE,
  sizeThreadPool,
  threadPoolJobsOf,
} from './thread-pool.ts';
export type { ThreadPoolJobs } from './thread-pool.ts';
export { acceptsHtml, escapeHtml } from './html.ts';
export {
  applyCors,
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  originAllowlist,
} from './cors.ts';
export type { CorsPolicy, OriginAllowlist } from './cors.ts';
export { createErrorReporter } from './error-reporter.ts';
export type { ErrorReporter, ErrorReporterOptions } from './error-reporter.ts';
export { createServiceClient } from './service-client.ts';
export type { ServiceClient, ServiceClientOptions, ServiceResponse } from './service-client.ts';
export { lazyChildLoggerFactory } from './lazy-logger.ts';
