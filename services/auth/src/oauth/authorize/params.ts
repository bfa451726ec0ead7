import { nonBlankValues, readSingleParams } from '../request-params.ts';

/**
 * The parameters of an authorization request this server reads (RFC 6749 §4.1.1, RFC 7636 §4.3,
 * OpenID Connect Core §3.1.2.1). Anything else in the query is ignored, as OIDC requires.
 */
export const AUTHORIZATION_PARAMS = [
  'response_type',
  'response_mode',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'id_token_hint',
  'request',
  'request_uri',
] as const;

export type AuthorizationParamName = (typeof AUTHORIZATION_PARAMS)[number];

/**
 * The request's known parameters, each present at most once, plus every `resource` value (RFC 8707
 * §2 lets it repeat), as stored with a pending interaction.
 */
export type AuthorizationParams = Partial<Record<AuthorizationParamName, string>> & {
  resource?: string[];
};

/** The parameters of a request and the names that appeared more than once (RFC 6749 §3.1 forbids that). */
export interface ParsedParams {
  params: AuthorizationParams;
  repeated: AuthorizationParamName[];
}

/**
 * Reads the known parameters; blank values count as omitted (RFC 6749 §3.1, see
 * {@link readSingleParams}).
 *
 * @example
 * readAuthorizationParams({ client_id: 'a', scope: ['x', 'y'], state: '' }) // { params: { client_id: 'a' }, repeated: ['scope'] }
 */
export function readAuthorizationParams(input: unknown): ParsedParams {
  const parsed: ParsedParams = readSingleParams(input, AUTHORIZATION_PARAMS);
  const source = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const resources = nonBlankValues(Object.hasOwn(source, 'resource') ? source.resource : undefined);
  if (resources.length > 0) parsed.params.resource = resources;
  return parsed;
}
