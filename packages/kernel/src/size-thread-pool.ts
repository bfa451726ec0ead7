/**
 * Imported first by every entry point (before tracing, before anything that could touch the thread
 * pool): sizes libuv's thread pool to the cores the event loop leaves free, unless
 * `UV_THREADPOOL_SIZE` is set. See `thread-pool.ts`.
 */
import { sizeThreadPool } from './thread-pool.ts';

sizeThreadPool();
