import { Type, type Static } from 'typebox';
import { apiErrorResponses, DISPLAY_TEXT_PATTERN, ProblemDocumentSchema } from '@tessera/kernel';

/** Shared TypeBox pieces of the user service's API: every object closed, every string bounded. */
export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
/** An address: at most 64 characters before the `@` (RFC 5321 §4.5.3.1.1), 254 in all. */
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, pattern: '^[^@]{1,64}@' });
/** A password presented to confirm an identity (any length a past policy may have allowed). */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
/** A password being set: the policy's 8–128 characters (common passwords are refused too). */
export const NewPassword = Type.String({
  minLength: 8,
  maxLength: 128,
  description: '8 to 128 characters, compared in Unicode NFKC form; common passwords are refused',
});
/** Display text: not blank, no control or bidirectional-override characters (see the kernel's pattern). */
export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: DISPLAY_TEXT_PATTERN });
export const Slug = Type.String({
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  minLength: 1,
  maxLength: 63,
});
export const Permission = Type.String({ pattern: '^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$', maxLength: 100 });
export const RoleName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$', maxLength: 63 });
export const Cursor = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', maxLength: 64 });
export const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50 });

/** RFC 9457 problem documents, as every Tessera API documents them (see the kernel). */
export const Problem = ProblemDocumentSchema;

export const UserView = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    emailVerified: Type.Boolean(),
    name: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

export const OrganizationRef = Type.Object(
  { id: Uuid, slug: Type.String(), name: Type.String() },
  { additionalProperties: false },
);

export const MembershipView = Type.Object(
  {
    organization: OrganizationRef,
    roles: Type.Array(Type.Object({ id: Uuid, name: Type.String() }, { additionalProperties: false })),
    permissions: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const UserWithMemberships = Type.Object(
  { ...UserView.properties, memberships: Type.Optional(Type.Array(MembershipView)) },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

export const errorResponses = apiErrorResponses;

/**
 * Encodes the last id of a page as an opaque cursor.
 *
 * @example
 * const next = encodeCursor(rows.at(-1)!.id);
 */
export function encodeCursor(id: string): string {
  return Buffer.from(id.replaceAll('-', ''), 'hex').toString('base64url');
}

/**
 * Decodes a cursor back to the id it stands for; undefined when it is not one we issued.
 *
 * @example
 * const after = decodeCursor(query.cursor);
 */
export function decodeCursor(cursor: string): string | undefined {
  const hex = Buffer.from(cursor, 'base64url').toString('hex');
  if (hex.length !== 32) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
