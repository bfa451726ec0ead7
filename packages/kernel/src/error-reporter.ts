import type { FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import {
  serverTraceId,
  type ErrorKind,
  type ErrorReport,
  type ErrorSink,
  type Telemetry,
} from '@tessera/telemetry';
import type { Logger } from './logger.ts';
import { routeLabel } from './route-label.ts';
import { safeErrorForLog } from './safe-error.ts';

/** Reports unhandled errors and 5xx responses once each, with context and without secrets. */
export interface ErrorReporter {
  /** Reports an error raised while serving `request` (or a 5xx it answered). Idempotent per request. */
  reportRequest(request: FastifyRequest, status: number, error: unknown): void;
  /** Reports a process-level failure (`unhandledRejection`, `uncaughtException`). */
  reportProcess(kind: Exclude<ErrorKind, 'request'>, error: unknown): void;
  /** Waits (bounded) until the optional sink has sent what it holds. */
  flush(timeoutMs?: number): Promise<void>;
}

/** Options for {@link createErrorReporter}. */
export interface ErrorReporterOptions {
  service: string;
  logger: Logger;
  /** Registry for `tessera_errors_reported_total{kind}`. */
  registry?: Registry;
  /** A second destination (Sentry); the structured log line is always written. */
  sink?: ErrorSink | undefined;
  telemetry?: Telemetry | undefined;
}

const REPORTED = Symbol('tessera.errorReported');
type MarkedRequest = FastifyRequest & { [REPORTED]?: true };
interface RequestIdentity {
  auth?: { sub?: unknown; client_id?: unknown } | undefined;
}

/**
 * Creates the error reporter. The default sink is one structured log line at `error` level with
 * `err` serialized and the context (trace id, request id, route, service, user id, client id);
 * with a sink (`SENTRY_DSN`) the same report is also sent there.
 *
 * @example
 * const reporter = createErrorReporter({ service: 'users', logger, registry: metrics.registry });
 */
export function createErrorReporter(options: ErrorReporterOptions): ErrorReporter {
  const counter = options.registry
    ? ((options.registry.getSingleMetric('tessera_errors_reported_total') as Counter<'kind'> | undefined) ??
      new Counter({
        name: 'tessera_errors_reported_total',
        help: 'Errors reported (unhandled errors and 5xx responses), by where they were caught.',
        labelNames: ['kind'] as const,
        registers: [options.registry],
      }))
    : undefined;
  const emit = (report: ErrorReport): void => {
    counter?.inc({ kind: report.kind });
    const { err, ...context } = report;
    options.logger.error({ err: loggableError(err), ...context }, 'error reported');
    try {
      options.sink?.send(report);
    } catch {
      // A failing sink must never turn one error into two.
    }
  };
  return {
    reportRequest(request, status, error) {
      const marked = request as MarkedRequest;
      if (marked[REPORTED]) return;
      marked[REPORTED] = true;
      const auth = (request as FastifyRequest & RequestIdentity).auth;
      emit({
        kind: 'request',
        service: options.service,
        err: describe(error, status),
        traceId: options.telemetry?.traceId() ?? serverTraceId(request.traceContext),
        requestId: request.id,
        method: request.method,
        route: routeLabel(request),
        status,
        userId: typeof auth?.sub === 'string' ? auth.sub : undefined,
        clientId: typeof auth?.client_id === 'string' ? auth.client_id : undefined,
      });
    },
    reportProcess(kind, error) {
      emit({
        kind,
        service: options.service,
        err: describe(error, undefined),
        traceId: options.telemetry?.traceId(),
      });
    },
    async flush(timeoutMs = 2_000) {
      await options.sink?.flush(timeoutMs).catch(() => undefined);
    },
  };
}

function describe(error: unknown, status: number | undefined): ErrorReport['err'] {
  if (error === undefined) {
    return { type: 'HttpError', message: `responded ${status ?? 500}` };
  }
  const safe = safeErrorForLog(error);
  return {
    type: typeof safe.type === 'string' ? safe.type : 'Error',
    message: typeof safe.message === 'string' ? safe.message : 'non-error thrown',
    stack: typeof safe.stack === 'string' ? safe.stack : undefined,
    code: typeof safe.code === 'string' ? safe.code : undefined,
  };
}

/**
 * An Error carrying the report's (already stripped) fields, so pino's `err` serializer writes the
 * usual `{ type, message, stack, code }`. pino names the type after `err.constructor` when that is
 * a function; hiding it makes pino use `name`, the original error's class.
 */
function loggableError(err: ErrorReport['err']): Error {
  const copy = new Error(err.message);
  copy.name = err.type;
  copy.stack = err.stack ?? `${err.type}: ${err.message}`;
  if (err.code !== undefined) Object.assign(copy, { code: err.code });
  Object.defineProperty(copy, 'constructor', { value: undefined, enumerable: false });
  return copy;
}
