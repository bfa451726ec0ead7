import type { Logger } from './logger.ts';

/**
 * Runs `steps` in order once on SIGINT/SIGTERM (stop accepting, drain in-flight requests, close
 * the database), then exits 0; a second signal or a step running past `timeoutMs` exits 1.
 * Returns a function that runs the same shutdown programmatically.
 *
 * @example
 * onShutdown(log, [() => app.close(), () => closeConnection(conn)]);
 */
export function onShutdown(
  log: Logger,
  steps: Array<() => Promise<unknown>>,
  options: { timeoutMs?: number; exit?: (code: number) => void } = {},
): () => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    running ??= (async () => {
      const timer = setTimeout(() => {
        log.error('shutdown timed out; exiting');
        exit(1);
      }, options.timeoutMs ?? 15_000);
      timer.unref();
      let code = 0;
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
