/** Where an error was caught. */
export type ErrorKind = 'request' | 'unhandled_rejection' | 'uncaught_exception';

/** One reported error with its context; never carries secrets, bodies or headers. */
export interface ErrorReport {
  kind: ErrorKind;
  service: string;
  /** The error, already stripped of what must not leave the process (SQL parameters). */
  err: { type: string; message: string; stack?: string | undefined; code?: string | undefined };
  traceId?: string | undefined;
  requestId?: string | undefined;
  method?: string | undefined;
  route?: string | undefined;
  status?: number | undefined;
  userId?: string | undefined;
  clientId?: string | undefined;
}

/** A destination for error reports besides the log (Sentry). */
export interface ErrorSink {
  send(report: ErrorReport): void;
  flush(timeoutMs: number): Promise<void>;
}

/**
 * A Sentry-compatible sink on the official `@sentry/node` SDK, loaded only when a DSN is set. The
 * SDK's own OpenTelemetry setup, default integrations and global handlers are off: Tessera traces
 * with its own providers and reports process-level errors itself, exactly once.
 *
 * @example
 * const sink = await createSentrySink('https://key@sentry.example/1', { service: 'users' });
 */
export async function createSentrySink(
  dsn: string,
  options: { service: string; release?: string; environment?: string },
): Promise<ErrorSink> {
  const Sentry = await import('@sentry/node');
  const client = new Sentry.NodeClient({
    dsn,
    release: options.release ?? 'tessera@0.1.0',
    environment: options.environment ?? 'production',
    integrations: [],
    tracesSampleRate: 0,
    transport: Sentry.makeNodeTransport,
    stackParser: Sentry.defaultStackParser,
  });
  client.init();
  return {
    send(report) {
      const error = new Error(report.err.message);
      error.name = report.err.type;
      if (report.err.stack) error.stack = report.err.stack;
      const scope = new Sentry.Scope();
      scope.setClient(client);
      scope.setTags({
        service: report.service,
        kind: report.kind,
        ...(report.route ? { route: report.route } : {}),
        ...(report.method ? { method: report.method } : {}),
        ...(report.status ? { status: String(report.status) } : {}),
        ...(report.clientId ? { client_id: report.clientId } : {}),
      });
      if (report.userId) scope.setUser({ id: report.userId });
      scope.setContext('request', {
        request_id: report.requestId ?? null,
        trace_id: report.traceId ?? null,
        code: report.err.code ?? null,
      });
      if (report.traceId) scope.setTag('trace_id', report.traceId);
      client.captureException(error, {}, scope);
    },
    async flush(timeoutMs) {
      await client.flush(timeoutMs);
    },
  };
}
