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
