import { Agent, request, errors as undiciErrors } from 'undici';
import { clientSpan, type Telemetry } from '@tessera/telemetry';
import { AppError, ServiceUnavailableError } from './errors.ts';

/** Options for {@link createServiceClient}. */
export interface ServiceClientOptions {
  /** Base URL of the other service, e.g. `http://127.0.0.1:8082`. */
  baseUrl: string;
  /** Returns the bearer token to send (a service token); called per request so it can rotate. */
  token: () => Promise<string>;
  timeoutMs?: number;
  /** Extra headers for every request, e.g. propagated `x-request-id` / `traceparent`. */
  headers?: () => Record<string, string>;
  connections?: number;
  /** Tracing: each attempt is a CLIENT span and carries `traceparent` to the other service. */
  telemetry?: Telemetry | undefined;
}

/** A typed JSON response from another service. */
export interface ServiceResponse<T> {
  status: number;
  body: T;
}

/** The client's surface: JSON requests with auth, timeouts and one retry of idempotent calls. */
export interface ServiceClient {
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<ServiceResponse<T>>;
  close(): Promise<void>;
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * An HTTP client for service-to-service calls (undici, keep-alive pool): attaches the service
 * token, times out, retries an idempotent request once after a connection failure (never a POST
 * or PATCH), and turns an unreachable service into a 503 {@link AppError}.
 *
 * @example
 * const users = createServiceClient({ baseUrl: 'http://127.0.0.1:8082', token: () => tokens.get() });
 * const { body } = await users.request<Authz>('GET', `/internal/users/${id}/authz?org=${org}`);
 */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const dispatcher = new Agent({ connections: options.connections ?? 32, keepAliveTimeout: 10_000 });
  const timeout = options.timeoutMs ?? 5_000;
  const telemetry = options.telemetry?.enabled ? options.telemetry : undefined;
  const base = new URL(options.baseUrl);
  const send = async <T>(method: string, path: string, body: unknown): Promise<ServiceResponse<T>> => {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${await options.token()}`,
      ...options.headers?.(),
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    telemetry?.inject(headers);
    const res = await request(new URL(path, options.baseUrl), {
      method: method as 'GET',
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      dispatcher,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const once = <T>(method: string, path: string, body: unknown): Promise<ServiceResponse<T>> =>
    telemetry
      ? clientSpan(
          telemetry,
          method,
          {
            'http.request.method': method,
            'server.address': base.hostname,
            'server.port': Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
            'url.path': path.split('?', 1)[0] ?? path,
          },
          async (span) => {
            const response = await send<T>(method, path, body);
            span.setAttribute('http.response.status_code', response.status);
            return response;
          },
        )
      : send<T>(method, path, body);
  return {
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) {
      const idempotent = method === 'GET' || method === 'PUT' || method === 'DELETE';
      for (let attempt = 0; ; attempt++) {
        try {
          return await once<T>(method, path, body);
        } catch (err) {
          const code = (err as { code?: string }).code ?? '';
          if (idempotent && attempt === 0 && RETRYABLE.has(code)) continue;
          if (err instanceof AppError) throw err;
          const timedOut =
            err instanceof undiciErrors.HeadersTimeoutError || (err as Error).name === 'TimeoutError';
          throw new ServiceUnavailableError(
            'upstream_unavailable',
            timedOut ? 'a dependency timed out' : 'a dependency is unavailable',
          );
        }
      }
    },
    close: () => dispatcher.close(),
  };
}
