import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';

/** Upstream response headers as undici parses them (lower-case names). */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** What {@link relay} needs besides the request. */
export interface RelayTarget {
  /** The client's response: the upstream body is written straight into it. */
  res: ServerResponse;
  /**
   * Called once with the upstream status and headers; writes the client's status line and
   * headers (`res.writeHead`). Throwing here fails the relay before anything was sent.
   */
  start(statusCode: number, headers: UpstreamHeaders): void;
  /** A failure after the headers were sent (the client connection is then destroyed). */
  onLateError(err: Error): void;
}

const CLIENT_GONE = 'the client closed the connection';

/**
 * One upstream exchange as an undici dispatch handler: no intermediate body stream, no copies.
 * The status and headers go to `target.start`, body chunks straight to the client's socket with
 * back-pressure (the upstream read pauses while the client's buffer is full), and the upstream
 * request is aborted when the client goes away. Settles when the headers have been written
 * (resolves with the status code) or when the exchange failed before that (rejects, nothing sent:
 * the caller may retry or answer with an error).
 */
class RelayHandler implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #started = false;
  #done = false;
  readonly #target: RelayTarget;
  readonly #resolve: (status: number) => void;
  readonly #reject: (err: Error) => void;

  constructor(target: RelayTarget, resolve: (status: number) => void, reject: (err: Error) => void) {
    this.#target = target;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: UpstreamHeaders,
  ): void {
    // 1xx (e.g. 100 Continue) is not relayed; the final response follows.
    if (statusCode < 200) return;
    const { res } = this.#target;
    this.#target.start(statusCode, headers);
    this.#started = true;
    this.#resolve(statusCode);
    if (res.destroyed) controller.abort(new Error(CLIENT_GONE));
    else res.once('close', this.#onClose);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const { res } = this.#target;
    if (!res.write(chunk)) {
      controller.pause();
      res.once('drain', this.#onDrain);
    }
  }

  onResponseEnd(): void {
    this.#done = true;
    const { res } = this.#target;
    res.removeListener('close', this.#onClose);
    res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#done = true;
    if (!this.#started) {
      this.#reject(err);
      return;
    }
    const { res } = this.#target;
    res.removeListener('close', this.#onClose);
    if (err.message !== CLIENT_GONE) this.#target.onLateError(err);
    res.destroy();
  }

  readonly #onDrain = (): void => {
    this.#controller?.resume();
  };

  readonly #onClose = (): void => {
    if (!this.#done) this.#controller?.abort(new Error(CLIENT_GONE));
  };
}

/**
 * Sends one request upstream and relays the answer into `target.res`.
 *
 * @example
 * const status = await relay(pool, { method: 'GET', path: '/v1/users', headers }, {
 *   res: reply.raw,
 *   start: (code, headers) => reply.raw.writeHead(code, responseHeaders(headers, reply.getHeaders())),
 *   onLateError: (err) => request.log.warn({ err }, 'upstream body failed'),
 * });
 */
export function relay(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  target: RelayTarget,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    dispatcher.dispatch(options, new RelayHandler(target, resolve, reject));
  });
}
