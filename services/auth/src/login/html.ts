import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '@tessera/kernel';

/** Markup that is already safe to emit (built by {@link html}). */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

type Interpolation = SafeHtml | string | number | undefined | null | false | Interpolation[];

function render(value: Interpolation): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof SafeHtml) return value.value;
  return escapeHtml(String(value));
}

/**
 * Tagged template for the hosted pages: every interpolated value is escaped unless it is itself
 * `SafeHtml`, so user input (an email, a client name) can never become markup.
 *
 * @example
 * html`<p>Signed in as ${email}</p>`
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:Canvas;color:CanvasText}
main{width:100%;max-width:24rem;padding:2rem;box-sizing:border-box}
h1{font-size:1.5rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid GrayText;border-radius:.375rem}
fieldset{border:0;padding:0;margin:1rem 0}
legend{font-weight:600}
.choice{display:flex;gap:.5rem;align-items:center;margin:.5rem 0}
button{margin-top:1.25rem;padding:.6rem 1rem;font:inherit;border-radius:.375rem;border:1px solid GrayText;cursor:pointer}
button.primary{background:#1f4fd1;border-color:#1f4fd1;color:#fff}
.actions{display:flex;gap:.75rem}
.error{border:1px solid #b3261e;color:#b3261e;padding:.5rem .75rem;border-radius:.375rem}
:focus-visible{outline:3px solid #1f4fd1;outline-offset:2px}
`;

/** Options of {@link sendPage}. */
export interface PageOptions {
  title: string;
  status?: number;
  /** Extra origins forms on this page may submit to (a client's redirect origin after consent). */
  formTargets?: string[];
}

/**
 * Sends a hosted page (SECURITY 25): small, accessible, no external assets; the only inline
 * resource is the stylesheet, allowed by a per-response nonce; `frame-ancestors 'none'` and
 * `X-Frame-Options: DENY` forbid framing (clickjacking); `no-store` keeps it out of caches.
 */
export function sendPage(reply: FastifyReply, options: PageOptions, body: SafeHtml): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const formAction = ["'self'", ...(options.formTargets ?? [])].join(' ');
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${options.title}</title>
        <style nonce="${nonce}">
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `;
  return reply
    .code(options.status ?? 200)
    .header('content-security-policy', csp)
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('text/html; charset=utf-8')
    .send(page.value);
}

/**
 * A page that only states a problem (expired request, forbidden form post...), with an optional
 * second paragraph saying what the person can do about it.
 */
export function sendMessagePage(
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
  advice?: string,
): FastifyReply {
  return sendPage(
    reply,
    { title, status },
    html`<h1>${title}</h1>
      <p role="alert">${message}</p>
      ${advice === undefined ? '' : html` <p>${advice}</p>`}`,
  );
}
