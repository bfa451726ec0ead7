/**
 * Signing key administration: `POST /v1/keys/rotate` (permission `keys:write`) and `GET /v1/keys`
 * (`keys:read`). Public parts and states only; private keys never leave the key store.
 */
import { Type } from 'typebox';
import type { HttpServer } from '@tessera/kernel';
import { requirePermissions } from '@tessera/auth-middleware';
import type { SigningKeys } from './signing-keys.ts';

/** `KeyInfo` (plus `keySet` in listings). */
const KeyView = Type.Object(
  {
    kid: Type.String(),
    alg: Type.String(),
    /** `primary`, or `id-token-rs256` (RS256 ID tokens); absent in rotation results. */
    keySet: Type.Optional(Type.String()),
    state: Type.String(),
    createdAt: Type.String(),
    activatesAt: Type.String(),
    retiredAt: Type.Optional(Type.String()),
    publishedUntil: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const KeyPair = Type.Object({ current: KeyView, next: KeyView }, { additionalProperties: false });

/**
 * Registers the key admin routes on a scope where `fastifyAuth` is registered.
 *
 * @example
 * registerKeyAdminRoutes(scope, keys);
 */
export function registerKeyAdminRoutes(app: HttpServer, keys: SigningKeys): void {
  app.get(
    '/v1/keys',
    {
      preHandler: requirePermissions('keys:read'),
      schema: {
        response: { 200: Type.Object({ keys: Type.Array(KeyView) }, { additionalProperties: false }) },
      },
    },
    async () => ({ keys: await keys.list() }),
  );
  app.post(
    '/v1/keys/rotate',
    {
      preHandler: requirePermissions('keys:write'),
      schema: {
        response: {
          // `RotationResult`: the primary set's keys, and the RS256 ID-token set's when it exists.
          200: Type.Object(
            { current: KeyView, next: KeyView, idToken: Type.Optional(KeyPair) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const result = await keys.rotate();
      request.log.info({ current: result.current.kid, next: result.next.kid }, 'signing keys rotated');
      return result;
    },
  );
}
