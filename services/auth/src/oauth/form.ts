/**
 * Reads an `application/x-www-form-urlencoded` OAuth request body into single values.
 * RFC 6749 §3.1/§3.2: parameters sent without a value are treated as omitted, and parameters
 * must not be repeated — except `resource`, which RFC 8707 §2 allows several times.
 */
import { OAuthError } from './errors.ts';
import { nonBlankValues } from './request-params.ts';

/** The parsed form: one value per parameter, plus every `resource` value. */
export interface OAuthForm {
  params: Record<string, string | undefined>;
  resources: string[];
}

const SAFE_NAME = /^[a-z_]{1,40}$/;

/**
 * Normalises a body parsed by @fastify/formbody (repeated names arrive as arrays).
 *
 * @example
 * const { params, resources } = readOAuthForm(request.body);
 */
export function readOAuthForm(body: unknown, repeatable: readonly string[] = ['resource']): OAuthForm {
  const params: Record<string, string | undefined> = Object.create(null) as Record<
    string,
    string | undefined
  >;
  const resources: string[] = [];
  if (body === undefined || body === null) return { params, resources };
  if (typeof body !== 'object')
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  for (const [name, raw] of Object.entries(body as Record<string, unknown>)) {
    const values = nonBlankValues(raw);
    if (values.length === 0) continue;
    if (name === 'resource') {
      resources.push(...values);
      continue;
    }
    if (values.length > 1 && !repeatable.includes(name)) {
      const shown = SAFE_NAME.test(name) ? name : 'a parameter';
      throw new OAuthError('invalid_request', `${shown} is repeated`);
    }
    params[name] = values[0];
  }
  return { params, resources };
}

/**
 * Checks RFC 8707 §2 resource indicators: absolute URIs without a fragment.
 *
 * @example
 * const resources = checkResources(form.resources);
 */
export function checkResources(resources: readonly string[]): string[] {
  for (const resource of resources) {
    const problem = resourceProblem(resource);
    if (problem) throw new OAuthError('invalid_target', problem);
  }
  return [...new Set(resources)];
}

/**
 * Why `resource` is not an RFC 8707 §2 resource indicator (an absolute URI without a fragment, at
 * most 2000 characters), or undefined when it is one.
 *
 * @example
 * resourceProblem('https://api.example.com/'); // undefined
 * resourceProblem('api'); // 'resource must be an absolute URI'
 */
export function resourceProblem(resource: string): string | undefined {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    return 'resource must be an absolute URI';
  }
  if (url.hash || resource.includes('#') || /\s/.test(resource) || resource.length > 2000) {
    return 'resource must be an absolute URI without a fragment';
  }
  return undefined;
}
