import type { ErrorReporter } from './error-reporter.ts';
import type { Logger } from './logger.ts';

/**
 * Runs `steps` in order once on SIGINT/SIGTERM (stop accepting, drain in-flight requests, close
 * the database), then exits 0; a second signal or a step running past `timeoutMs` exits 1.
 * Returns a function that runs the same shutdown programmatically (exiting with `exitCode`, default 0).
 *
 * @example
 * onShutdown(log, [() => app.close(), () => closeConnection(conn)]);
 */
export function onShutdown(
  log: Logger,
  steps: Array<() => Promise<unknown>>,
  options: { timeoutMs?: number; exit?: (code: number) => void } = {},
): (exitCode?: number) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;
  const shutdown = (exitCode = 0): Promise<void> => {
    running ??= (async () => {
      const timer = setTimeout(() => {
        log.error('shutdown timed out; exiting');
        exit(1);
      }, options.timeoutMs ?? 15_000);
      timer.unref();
      let code = exitCode;
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          code = 1;
          log.error({ err }, 'shutdown step failed');
        }
      }
      clearTimeout(timer);
      log.info('stopped');
      exit(code);
    })();
    return running;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (running) {
      log.warn({ signal }, 'second signal; exiting now');
      exit(1);
      return;
    }
    log.info({ signal }, 'shutting down: draining requests');
    void shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return shutdown;
}

/**
 * Reports `unhandledRejection` and `uncaughtException` once each through `reporter`, flushes the
 * optional sink, then runs `shutdown` with exit code 1: a process in an unknown state drains and
 * stops instead of serving on.
 *
 * @example
 * const shutdown = onShutdown(log, steps);
 * reportProcessErrors(reporter, shutdown);
 */
export function reportProcessErrors(
  reporter: ErrorReporter,
  shutdown: (exitCode?: number) => Promise<void>,
): void {
  let failing = false;
  const fail = (kind: 'unhandled_rejection' | 'uncaught_exception', error: unknown) => {
    reporter.reportProcess(kind, error);
    if (failing) return;
    failing = true;
    void reporter.flush().then(() => shutdown(1));
  };
  process.on('unhandledRejection', (reason) => fail('unhandled_rejection', reason));
  process.on('uncaughtException', (error) => fail('uncaught_exception', error));
}
