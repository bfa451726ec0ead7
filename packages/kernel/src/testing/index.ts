/** `@tessera/kernel/testing`: helpers for services' tests. Not used outside tests. */
export { documentViolations, hasType, sampleQueryValue, schemaViolations } from './openapi-strict.ts';
export type {
  DocumentReport,
  OpenApiContent,
  OpenApiDocument,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiSchema,
  SchemaSide,
} from './openapi-strict.ts';
export {
  hostileRequests,
  problemDocumentExpected,
  sampleJsonValue,
  sendHostile,
  sendRaw,
} from './hostile-input.ts';
export type { HostileReport, HostileRequest, HostileResponse } from './hostile-input.ts';
