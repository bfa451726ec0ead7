import { maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_BASE } from './errors.ts';

const ANSWERS: Record<string, [status: number, title: string, code: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout'],
};
const MALFORMED: [number, string, string] = [400, 'Bad Request', 'malformed_request'];
const URI_TOO_LONG: [number, string, string] = [414, 'URI Too Long', 'uri_too_long'];

/**
 * Node's parser has one limit for the request line and the header fields together. When the bytes
 * it choked on start with a request line that alone reaches that limit, the target was too long
 * (RFC 9110 §15.5.15, 414), not the header fields (431).
 */
function overflowAnswer(rawPacket: unknown): [number, string, string] {
  const fallback = ANSWERS.HPE_HEADER_OVERFLOW!;
  if (!Buffer.isBuffer(rawPacket)) return fallback;
  const start = rawPacket.subarray(0, 16).toString('latin1');
  if (!/^[A-Z]{3,10} \S/.test(start)) return fallback;
  const lineEnd = rawPacket.indexOf('\r\n');
  return lineEnd < 0 || lineEnd >= maxHeaderSize ? URI_TOO_LONG : fallback;
}

/**
 * Answers a request Node's HTTP parser refused (bad request line, CL+TE, obs-fold, oversized
 * headers, header timeout) with an RFC 9457 problem document like every other error of ours,
 * instead of Fastify's default JSON, and closes the connection (the stream position is unknown).
 * Nothing from the request is echoed.
 *
 * @example
 * Fastify({ clientErrorHandler: answerClientError });
 */
export function answerClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, title, code] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? overflowAnswer(err.rawPacket)
      : (err.code && ANSWERS[err.code]) || MALFORMED;
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
