/**
 * Every schema the auth service documents is closed and bounded, like the user service's
 * (`services/users/src/openapi.strict.test.ts`; the checker and its own tests are in
 * `@tessera/kernel/testing`): objects refuse unknown properties (requests and responses), and on
 * the request side every string has a maxLength and every array a maxItems. The places that stay
 * open by design are listed below with the reason, and each must still be found (a stale
 * exemption fails the walk). Operations whose success answer documents no JSON body at all are
 * invisible to the walk, so they are pinned too, each with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { documentViolations, type OpenApiDocument } from '@tessera/kernel/testing';
import { MemoryUsers } from './flows/testing.ts';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from './testing.ts';

const OPEN = 'object without additionalProperties: false';

/** RFC 7517 §4: a JWK may carry members beyond the registered ones, which must be ignored (not refused). */
const JWK_MEMBERS =
  'a registered client JWK (RFC 7517 §4: other members are allowed and ignored); shown as registered';

/** The protocol forms (documented-params.ts): read by hand, unknown parameters ignored. */
const UNRECOGNISED_IGNORED =
  'RFC 6749 §3.1/§3.2 (and RFC 7009, RFC 7662, RP-Initiated Logout): unrecognised parameters are ignored, not refused';

const EXEMPT: Readonly<Record<string, string>> = {
  [`POST /v1/clients body.jwks.keys[]: ${OPEN}`]: JWK_MEMBERS,
  [`POST /v1/clients 201.client.jwks.keys[]: ${OPEN}`]: JWK_MEMBERS,
  [`GET /v1/clients 200.clients[].jwks.keys[]: ${OPEN}`]: JWK_MEMBERS,
  [`GET /v1/clients/{clientId} 200.jwks.keys[]: ${OPEN}`]: JWK_MEMBERS,
  [`POST /v1/clients/{clientId}/rotate-secret 200.client.jwks.keys[]: ${OPEN}`]: JWK_MEMBERS,
  [`POST /oauth2/userinfo body: ${OPEN}`]:
    'RFC 6750 §2.2: the form may carry other request-specific parameters, which are ignored; ' +
    'at most 32 single text values, each bounded, in a 16 KiB body',
  [`GET /oauth2/userinfo 200: ${OPEN}`]:
    'OIDC Core §5.1/§5.3.2: UserInfo claims are open-ended (sub, then what the scopes allow)',
  [`POST /oauth2/userinfo 200: ${OPEN}`]:
    'OIDC Core §5.1/§5.3.2: UserInfo claims are open-ended (sub, then what the scopes allow)',
  [`POST /oauth2/token body: ${OPEN}`]: UNRECOGNISED_IGNORED,
  [`POST /oauth2/introspect body: ${OPEN}`]: UNRECOGNISED_IGNORED,
  [`POST /oauth2/revoke body: ${OPEN}`]: UNRECOGNISED_IGNORED,
  [`POST /oauth2/authorize body: ${OPEN}`]: UNRECOGNISED_IGNORED,
  [`POST /oauth2/logout body: ${OPEN}`]: UNRECOGNISED_IGNORED,
  [`POST /oauth2/introspect 200: ${OPEN}`]:
    "RFC 7662 §2.2: an active token's claims are passed on as signed, and servers may add members",
};

const PAGE = 'an HTML page or a 303 redirect, not JSON';
const METADATA =
  'discovery metadata: RFC 8414 §2 / OIDC Discovery §3 allow extension members, and features add their own';

/** Operations whose success answer documents no body, so the walk cannot see it. */
const NO_DOCUMENTED_BODY: Readonly<Record<string, string>> = {
  'GET /.well-known/openid-configuration': METADATA,
  'GET /.well-known/oauth-authorization-server': METADATA,
  'GET /jwks.json': 'a JWK Set: RFC 7517 §4/§5 allow members beyond the registered ones',
  'POST /oauth2/revoke': 'RFC 7009 §2.2: an empty 200',
  'DELETE /v1/clients/{clientId}': 'an empty 204',
  'GET /oauth2/authorize': PAGE,
  'POST /oauth2/authorize': PAGE,
  'GET /oauth2/authorize/resume': PAGE,
  'GET /login': PAGE,
  'POST /login': PAGE,
  'GET /login/organization': PAGE,
  'POST /login/organization': PAGE,
  'GET /consent': PAGE,
  'POST /consent': PAGE,
  'GET /oauth2/logout': PAGE,
  'POST /oauth2/logout': PAGE,
  'GET /logout': PAGE,
  'POST /logout': PAGE,
};

let database: TestAuthDatabase;
let server: StartedAuthServer;
let doc: OpenApiDocument;

beforeAll(async () => {
  database = await createTestAuthDatabase();
  // The production feature set (the flows), so every route the service serves is documented.
  server = await startAuthServer({ db: database.db, users: new MemoryUsers() });
  const res = await request(server.url).get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body as OpenApiDocument;
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

describe('OpenAPI strictness (auth service)', () => {
  it('closes every request and response object and bounds every request string and array', () => {
    const { walked, found, exempted } = documentViolations(doc, { exempt: EXEMPT });
    // Sanity: the walk saw the admin API, the token endpoint and the forms, not an empty document.
    expect(walked).toBeGreaterThanOrEqual(23);
    expect(found).toEqual([]);
    expect(exempted).toHaveLength(Object.keys(EXEMPT).length);
  });

  it('documents a JSON body for every success answer except the pages, metadata and empty answers listed', () => {
    const undocumented: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const success = Object.entries(operation.responses ?? {}).filter(([status]) => Number(status) < 400);
        if (!success.some(([, response]) => Object.keys(response.content ?? {}).length > 0))
          undocumented.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(undocumented.sort()).toEqual(Object.keys(NO_DOCUMENTED_BODY).sort());
  });
});
