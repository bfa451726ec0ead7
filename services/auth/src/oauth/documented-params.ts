/**
 * What the protocol endpoints read, for the OpenAPI document only. These endpoints read their
 * parameters by hand, not through a route schema: RFC 6749 §3.1/§3.2 wants blank values treated
 * as omitted, repeats refused, unrecognised parameters ignored, and every refusal answered as
 * OAuth error JSON (or an error redirect), which a schema validator would not do. So the
 * parameters reach the document through each route's `config.swaggerTransform`, which only the
 * swagger plugin calls; nothing here validates a request.
 *
 * The bounds shown are the real ones: a form body is at most 64 KiB (the service's body limit),
 * a query string at most 16 KiB (Node's header limit). Unrecognised parameters are ignored, so
 * these objects stay open; `openapi.strict.test.ts` lists them as exemptions with that reason.
 */
import { Type, type TObject, type TProperties } from 'typebox';
import type { FastifySchema } from 'fastify';
import { DEFAULT_BODY_LIMIT } from '@tessera/kernel';

/** The auth service runs with the kernel's default body limit. */
const FORM_BOUND = DEFAULT_BODY_LIMIT;
const QUERY_BOUND = 16 * 1024;
const FORM = 'application/x-www-form-urlencoded';

const text = (bound: number, description: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: bound, description }));

/** RFC 6749 §2.3.1 and RFC 7523 §2.2: client credentials in the body (or Basic in the header). */
const clientAuthentication = (bound: number): TProperties => ({
  client_id: text(bound, 'The client; required for public clients and client_secret_post.'),
  client_secret: text(bound, 'client_secret_post: the secret (prefer the Authorization: Basic header).'),
  client_assertion_type: Type.Optional(
    Type.Literal('urn:ietf:params:oauth:client-assertion-type:jwt-bearer', {
      description: 'private_key_jwt (RFC 7523).',
    }),
  ),
  client_assertion: text(bound, 'private_key_jwt: a JWT signed with a key the client registered.'),
});

const open = (properties: TProperties, description: string): TObject =>
  Type.Object(properties, { additionalProperties: true, description });

/** `POST /oauth2/token` (RFC 6749 §4.1.3, §4.4.2, §6; RFC 7636 §4.5; RFC 8707). */
export const TokenRequest = open(
  {
    grant_type: Type.Union(
      [Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials')],
      { description: 'Other values are refused with unsupported_grant_type.' },
    ),
    code: text(
      FORM_BOUND,
      'authorization_code: the code from the authorization response (single use, 60 s).',
    ),
    redirect_uri: text(FORM_BOUND, 'authorization_code: the redirect_uri of the authorization request.'),
    code_verifier: text(FORM_BOUND, 'authorization_code: the PKCE verifier (RFC 7636, S256).'),
    refresh_token: text(FORM_BOUND, 'refresh_token: the current refresh token (rotated on every use).'),
    scope: text(FORM_BOUND, 'Space-separated; at most what the grant or client allows.'),
    audience: text(
      FORM_BOUND,
      'The API the token is for, named like a resource but not necessarily a URI (`tessera-api`); the same rules as resource.',
    ),
    resource: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: FORM_BOUND }), {
        maxItems: 64,
        description:
          'RFC 8707 resource indicators: absolute URIs, may be repeated; the access token’s audience. client_credentials: among the client’s audiences; authorization_code and refresh_token: among those of the authorization request (the client’s audiences when it named none). Otherwise invalid_target.',
      }),
    ),
    ...clientAuthentication(FORM_BOUND),
  },
  'Every parameter at most once (except resource); blank values count as omitted; unrecognised parameters are ignored.',
);

/** `POST /oauth2/introspect` (RFC 7662 §2.1) and `POST /oauth2/revoke` (RFC 7009 §2.1). */
export const TokenHintRequest = open(
  {
    token: Type.String({ minLength: 1, maxLength: FORM_BOUND, description: 'The token.' }),
    token_type_hint: text(
      FORM_BOUND,
      'access_token or refresh_token: a hint only; any value is accepted and none changes the answer.',
    ),
    ...clientAuthentication(FORM_BOUND),
  },
  'Every parameter at most once; blank values count as omitted; unrecognised parameters are ignored.',
);

/** `GET|POST /oauth2/authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1). */
export const authorizationRequest = (bound: number): TObject =>
  open(
    {
      response_type: Type.Literal('code', { description: 'Only the authorization code flow.' }),
      client_id: Type.String({ minLength: 1, maxLength: bound }),
      redirect_uri: text(bound, 'Exactly one registered for the client (loopback: any port, RFC 8252).'),
      scope: text(
        bound,
        'Space-separated; `openid` for an ID token. Scopes the server does not know are ignored.',
      ),
      state: text(bound, 'Returned untouched.'),
      nonce: text(bound, 'Copied into the ID token.'),
      code_challenge: Type.String({ minLength: 43, maxLength: 128, description: 'PKCE, required.' }),
      code_challenge_method: Type.Literal('S256', { description: 'Required; plain is refused.' }),
      prompt: text(bound, 'none, login, consent or select_account (space-separated).'),
      max_age: text(bound, 'Seconds since the last sign-in beyond which the user must sign in again.'),
      id_token_hint: text(bound, 'An ID token this server issued, naming the expected user.'),
      response_mode: Type.Optional(Type.Literal('query')),
      request: text(bound, 'Not supported: answered with request_not_supported.'),
      request_uri: text(bound, 'Not supported: answered with request_uri_not_supported.'),
      resource: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: bound }), {
          maxItems: 10,
          description:
            'RFC 8707 resource indicators, may be repeated: absolute URIs among the client’s audiences. The tokens of the grant are for these (the token request may narrow them); otherwise invalid_target.',
        }),
      ),
    },
    'Errors go back to a registered redirect_uri (RFC 6749 §4.1.2.1); an unknown client or redirect_uri gets an error page, never a redirect.',
  );

/** `GET|POST /oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0 §2). */
export const logoutRequest = (bound: number): TObject =>
  open(
    {
      id_token_hint: text(bound, 'An ID token this server issued to the client.'),
      client_id: text(bound, 'The client, when no id_token_hint is sent.'),
      post_logout_redirect_uri: text(bound, 'Must be registered for the client; otherwise no redirect.'),
      state: text(bound, 'Returned on the redirect.'),
    },
    'Ends the browser session (after a confirmation when the request cannot be tied to the session).',
  );

/** Route `config` that shows `form` as the route's form body in the OpenAPI document. */
export function documentedForm(form: TObject): { swaggerTransform: DocumentTransform } {
  return {
    swaggerTransform: ({ schema, url }) => ({
      schema: { ...schema, consumes: [FORM], body: form },
      url,
    }),
  };
}

/** Route `config` that shows `query` as the route's query parameters in the OpenAPI document. */
export function documentedQuery(query: TObject): { swaggerTransform: DocumentTransform } {
  return {
    swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, querystring: query }, url }),
  };
}

/** The part of @fastify/swagger's route transform these helpers use. */
type DocumentTransform = (input: { schema: FastifySchema; url: string }) => {
  schema: FastifySchema;
  url: string;
};

export { FORM_BOUND, QUERY_BOUND };

/**
 * The body types the hosted pages' forms accept, as the document shows them: a browser posts the
 * form urlencoded; JSON with the same fields is read too.
 */
export const PAGE_FORM_TYPES = [FORM, 'application/json'];
