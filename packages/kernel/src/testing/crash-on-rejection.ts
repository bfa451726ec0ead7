/** Test fixture for error-reporter.test.ts: a process whose promise rejects with nobody listening. */
import { createErrorReporter } from '../error-reporter.ts';
import { createLogger } from '../logger.ts';
import { onShutdown, reportProcessErrors } from '../shutdown.ts';

const logger = createLogger({ name: 'crasher', level: 'info' });
const timer = setInterval(() => undefined, 1_000);
const shutdown = onShutdown(logger, [async () => clearInterval(timer)]);
reportProcessErrors(createErrorReporter({ service: 'crasher', logger }), shutdown);
void Promise.reject(new Error('nobody awaited me'));
