import type { FastifyRequest } from 'fastify';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * `text` made safe to place in HTML text or a quoted attribute value.
 *
 * @example
 * `<p>${escapeHtml(detail)}</p>`
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/**
 * Whether the client asked for an HTML page (a browser navigating or posting a form): an answer
 * meant for a person should then be a page, not a JSON document shown raw.
 *
 * @example
 * if (acceptsHtml(request)) return sendPage(reply, …);
 */
export function acceptsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}
