/** The auth service's public surface for the all-in-one platform, the CLI and cross-service tests. */
export { buildAuthApp } from './app.ts';
export type { AuthApp, AuthAppDeps, AuthCore, AuthFeature, AuthFeatureFactory } from './app.ts';
export { flowsFeature, flowsFeatureWith, flowsMetadata } from './flows-feature.ts';
export { authConfigSpec, defaultAuthConfig, loadAuthConfig, SIGNING_ALGORITHMS } from './config.ts';
export type { AuthConfig, SigningAlgorithm } from './config.ts';
export { authMigrations } from './db/migrations.ts';
export * as authTables from './db/schema.ts';
export type { AuthDatabase } from './db/database.ts';
export { applyClientsSeed, ensureDemoClients, DEMO_SERVICE, DEMO_SPA } from './clients/seed.ts';
export type { ClientSeed, ClientsSeed, SeedResult } from './clients/seed.ts';
export type { ClientInput, ClientRecord } from './clients/repository.ts';
export { matchRedirectUri } from './clients/redirect-uri.ts';
export {
  clientsCreate,
  clientsDelete,
  clientsList,
  clientsRotateSecret,
  keysList,
  keysRewrap,
  keysRotate,
} from './cli.ts';
export type { CliContext } from './cli.ts';
export type { KeyInfo } from './keys/key-store.ts';
export { idTokenAlgorithmsFor } from './keys/signing-keys.ts';
export type { KeyInfoInSet, RotationResult } from './keys/signing-keys.ts';
export { OAuthError } from './oauth/errors.ts';
export type * from './contracts.ts';
