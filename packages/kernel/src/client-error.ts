import type { Duplex } from 'node:stream';
import { PROBLEM_BASE } from './errors.ts';

const ANSWERS: Record<string, [status: number, title: string, code: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout'],
};
const MALFORMED: [number, string, string] = [400, 'Bad Request', 'malformed_request'];

/**
 * Answers a request Node's HTTP parser refused (bad request line, CL+TE, obs-fold, oversized
 * headers, header timeout) with an RFC 9457 problem document like every other error of ours,
 * instead of Fastify's default JSON, and closes the connection (the stream position is unknown).
 * Nothing from the request is echoed.
 *
 * @example
 * Fastify({ clientErrorHandler: answerClientError });
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, title, code] = (err.code && ANSWERS[err.code]) || MALFORMED;
  const body = JSON.stringify({
    type: PROBLEM_BASE + code.replaceAll('_', '-'),
    title,
    status,
    code,
    detail: 'the HTTP request could not be parsed',
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}
