import { Type } from 'typebox';

/**
 * An error answer as an API documents it: an RFC 9457 problem document with Tessera's `code`
 * and `requestId`. Open: a problem may carry extension members (RFC 9457 §3.2).
 */
export const ProblemDocumentSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** The OpenAPI response object of a problem document, served as `application/problem+json`. */
export const problemResponse = {
  description: 'Problem details (RFC 9457)',
  content: { 'application/problem+json': { schema: ProblemDocumentSchema } },
};

/**
 * The error responses of an authenticated API operation (validation, authentication, permission,
 * existence, conflict), for a route schema's `response`.
 *
 * @example
 * app.get('/v1/things/:id', { schema: { response: { 200: Thing, ...apiErrorResponses } } }, handler);
 */
export const apiErrorResponses = {
  400: problemResponse,
  401: problemResponse,
  403: problemResponse,
  404: problemResponse,
  409: problemResponse,
};
