/**
 * Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3):
 * `client_secret_basic`, `client_secret_post`, `none` (public clients identify themselves) and
 * `private_key_jwt` (RFC 7523 §2.2/§3, OpenID Connect Core §9). A client uses exactly the method
 * it registered; more than one method in one request is refused (§2.3). Every failure is the same
 * `invalid_client` — 401, with `WWW-Authenticate: Basic` after a Basic attempt (§5.2).
 */
import type { FastifyRequest } from 'fastify';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '@tessera/kernel';
import type { ClientAuthenticator, OAuthClient } from '../contracts.ts';
import type { AuthenticatableClient, CachedClientLookup } from '../clients/registry.ts';
import { verifyClientSecret } from '../clients/secrets.ts';
import type { ExpiringIdSet } from '../tokens/once-store.ts';
import { OAuthError } from './errors.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Asymmetric algorithms accepted for client assertions; HS* and none never (RFC 8725 §3.1). */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];
/** An assertion may not live longer than this (replay state is kept until its `exp`). */
const MAX_ASSERTION_LIFETIME_S = 600;
const CLOCK_SKEW_S = 30;

/** Options of {@link createClientAuthenticator}. */
export interface ClientAuthenticatorOptions {
  clients: Pick<CachedClientLookup, 'findForAuthentication'>;
  /**
   * `aud` values accepted in client assertions: the issuer first, then this server's endpoint
   * URLs. An assertion is accepted for the issuer or for the endpoint that receives it, never for
   * another endpoint (RFC 7523 §3 item 3).
   */
  assertionAudiences: string[];
  /** Remembers used assertion ids until they expire (RFC 7523 §3 item 7). */
  replay: ExpiringIdSet;
  clock: Clock;
}

/** The client and the method it used. */
export interface AuthenticatedClient {
  client: OAuthClient;
  method: OAuthClient['tokenEndpointAuthMethod'];
}

/** A {@link ClientAuthenticator} that also reports the method used. */
export interface TesseraClientAuthenticator extends ClientAuthenticator {
  authenticateWithMethod(
    request: FastifyRequest,
    body: Record<string, string | undefined>,
  ): Promise<AuthenticatedClient>;
}

const failed = (basic: boolean) => OAuthError.invalidClient('client authentication failed', { basic });

/**
 * Builds the client authenticator.
 *
 * @example
 * const auth = createClientAuthenticator({ clients, assertionAudiences: [issuer, `${issuer}/oauth2/token`], replay, clock });
 * const client = await auth.authenticate(request, body);
 */
export function createClientAuthenticator(options: ClientAuthenticatorOptions): TesseraClientAuthenticator {
  if (options.assertionAudiences.length === 0)
    throw new TypeError('createClientAuthenticator: assertionAudiences is empty');
  const keySets = new WeakMap<AuthenticatableClient, JWTVerifyGetKey>();

  const lookup = async (clientId: string, basic: boolean): Promise<AuthenticatableClient> => {
    const found = await options.clients.findForAuthentication(clientId);
    if (!found) throw failed(basic);
    return found;
  };

  const withSecret = async (
    clientId: string,
    secret: string,
    method: 'client_secret_basic' | 'client_secret_post',
  ) => {
    const basic = method === 'client_secret_basic';
    const found = await lookup(clientId, basic);
    if (found.client.tokenEndpointAuthMethod !== method || !found.secretHash) throw failed(basic);
    if (!verifyClientSecret(secret, found.secretHash)) throw failed(basic);
    return found.client;
  };

  const [issuerAudience] = options.assertionAudiences;
  /** The issuer, and the URL of the endpoint `request` reached (when it is one of ours). */
  const audiencesFor = (request: FastifyRequest): string[] => {
    const endpoint = options.assertionAudiences.find(
      (audience) => audience !== issuerAudience && audience.endsWith(request.routeOptions.url ?? '\0'),
    );
    return endpoint ? [issuerAudience!, endpoint] : [issuerAudience!];
  };

  const withAssertion = async (
    assertion: string,
    claimedClientId: string | undefined,
    audiences: string[],
  ): Promise<OAuthClient> => {
    let clientId: string;
    try {
      const unverified = decodeJwt(assertion);
      if (typeof unverified.sub !== 'string' || unverified.iss !== unverified.sub)
        throw new Error('iss must equal sub');
      clientId = unverified.sub;
    } catch {
      throw failed(false);
    }
    if (claimedClientId !== undefined && claimedClientId !== clientId) throw failed(false);
    const found = await lookup(clientId, false);
    const jwks = found.client.jwks;
    if (found.client.tokenEndpointAuthMethod !== 'private_key_jwt' || !jwks) throw failed(false);
    let keys = keySets.get(found);
    if (!keys) {
      keys = createLocalJWKSet(jwks);
      keySets.set(found, keys);
    }
    const now = options.clock.now();
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        issuer: clientId,
        subject: clientId,
        audience: audiences,
        algorithms: ASSERTION_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_S,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'jti'],
      }));
    } catch {
      throw failed(false);
    }
    const exp = payload.exp as number;
    if (exp > now / 1000 + MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) throw failed(false);
    const jti = payload.jti as string;
    if (jti.length > 256) throw failed(false);
    if (!(await options.replay.add(`${clientId}:${jti}`, exp + CLOCK_SKEW_S))) throw failed(false);
    return found.client;
  };

  const authenticateWithMethod = async (
    request: FastifyRequest,
    body: Record<string, string | undefined>,
  ): Promise<AuthenticatedClient> => {
    const header = request.headers.authorization;
    const usesPost = body.client_secret !== undefined;
    const usesAssertion = body.client_assertion !== undefined || body.client_assertion_type !== undefined;
    if (Number(header !== undefined) + Number(usesPost) + Number(usesAssertion) > 1) {
      throw new OAuthError('invalid_request', 'use exactly one client authentication method');
    }
    if (header !== undefined) {
      // RFC 6749 §5.2: a client that tried the Authorization header (any scheme, or Basic without
      // credentials) gets 401 with the challenge of the one scheme this endpoint takes there.
      const credentials = /^basic(\s|$)/i.test(header) ? parseBasic(header) : undefined;
      if (!credentials) throw failed(true);
      if (body.client_id !== undefined && body.client_id !== credentials.clientId) throw failed(true);
      const client = await withSecret(credentials.clientId, credentials.secret, 'client_secret_basic');
      return { client, method: 'client_secret_basic' };
    }
    if (usesAssertion) {
      if (body.client_assertion_type !== JWT_BEARER_ASSERTION) {
        throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
      }
      if (!body.client_assertion || body.client_assertion.length > 8192) {
        throw new OAuthError('invalid_request', 'client_assertion is missing or too large');
      }
      return {
        client: await withAssertion(body.client_assertion, body.client_id, audiencesFor(request)),
        method: 'private_key_jwt',
      };
    }
    const clientId = body.client_id;
    if (!clientId) throw OAuthError.invalidClient('client authentication is required', { basic: false });
    if (usesPost) {
      return {
        client: await withSecret(clientId, body.client_secret ?? '', 'client_secret_post'),
        method: 'client_secret_post',
      };
    }
    const found = await lookup(clientId, false);
    // A confidential client that sends no credentials fails like a wrong secret.
    if (found.client.tokenEndpointAuthMethod !== 'none') throw failed(false);
    return { client: found.client, method: 'none' };
  };

  return {
    authenticateWithMethod,
    async authenticate(request, body) {
      return (await authenticateWithMethod(request, body)).client;
    },
  };
}

/**
 * Parses `Authorization: Basic` credentials; client id and secret are form-urlencoded before
 * base64 (RFC 6749 §2.3.1). Undefined when malformed.
 */
export function parseBasic(header: string): { clientId: string; secret: string } | undefined {
  const encoded = header.slice(6).trim();
  if (encoded.length === 0 || encoded.length > 4096 || !/^[A-Za-z0-9+/]+=*$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    return secret.length > 0 ? { clientId, secret } : undefined;
  } catch {
    return undefined;
  }
}

/** Undoes form-urlencoding (`+` is a space); throws on a bad escape. Most values hold neither. */
function formDecode(value: string): string {
  if (!value.includes('%') && !value.includes('+')) return value;
  return decodeURIComponent(value.replaceAll('+', ' '));
}
