/**
 * Test fixture for shutdown.test.ts: a kernel HTTP server with a slow route whose shutdown steps
 * are the real ones' shape (close the server, then the database). Prints `listening <port>` when
 * ready, `slow request started` when the slow handler runs, and `database closed` from the last step.
 */
import { createHttpServer } from '../http.ts';
import { createLogger } from '../logger.ts';
import { onShutdown } from '../shutdown.ts';

const logger = createLogger({ name: 'drainer', level: 'silent' });
const app = createHttpServer({ name: 'drainer', logger });
app.get('/slow', async () => {
  process.stdout.write('slow request started\n');
  await new Promise((resolve) => setTimeout(resolve, 400));
  return { finished: true };
});
onShutdown(logger, [
  () => app.close(),
  async () => {
    process.stdout.write('database closed\n');
  },
]);
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
