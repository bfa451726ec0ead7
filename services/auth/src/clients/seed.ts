/**
 * Declarative clients: the seed file's `clients` (applied on every start, idempotent — the file is
 * the truth for the clients it names) and the demo clients `npm start` creates.
 */
import { systemClock, type Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../db/database.ts';
import { idTokenAlgorithmsFor } from '../keys/signing-keys.ts';
import { ClientRepository, type ClientDefaults, type ClientInput } from './repository.ts';

/** One client in the seed file; `secret` (≥ 32 characters) sets a confidential client's secret. */
export type ClientSeed = ClientInput & { clientId: string };

/** The part of the seed file this module reads. */
export interface ClientsSeed {
  clients?: ClientSeed[];
}

/** Options shared by the seed functions. */
export interface SeedOptions {
  clock?: Clock;
  defaults?: ClientDefaults;
}

const DEFAULTS: ClientDefaults = {
  defaultAudience: 'tessera-api',
  accessTokenTtlSeconds: 600,
  idTokenAlgorithms: idTokenAlgorithmsFor('ES256'),
};

/** What applying a seed did, per client. */
export interface SeedResult {
  created: string[];
  updated: string[];
  /** Secrets generated now for confidential clients without one in the seed: print them once. */
  generatedSecrets: Record<string, string>;
}

/**
 * Creates or updates every client of `seed` (by clientId) in one transaction — all or nothing;
 * clients not named are left alone. Running it twice changes nothing the second time except
 * `updatedAt`.
 *
 * @example
 * const { generatedSecrets } = await applyClientsSeed(db, { clients: [{ clientId: 'reports', name: 'Reports', type: 'confidential', secret: process.env.REPORTS_SECRET }] });
 */
export async function applyClientsSeed(
  db: AuthDatabase,
  seed: ClientsSeed,
  options: SeedOptions = {},
): Promise<SeedResult> {
  return db.transaction(async (tx) => {
    const repository = new ClientRepository(tx, options.clock ?? systemClock, options.defaults ?? DEFAULTS);
    const result: SeedResult = { created: [], updated: [], generatedSecrets: {} };
    for (const client of seed.clients ?? []) {
      const outcome = await repository.upsert(client);
      (outcome.created ? result.created : result.updated).push(client.clientId);
      if (outcome.secret !== undefined && client.secret === undefined)
        result.generatedSecrets[client.clientId] = outcome.secret;
    }
    return result;
  });
}

export const DEMO_SPA: ClientSeed = {
  clientId: 'demo-spa',
  name: 'Tessera demo SPA',
  type: 'public',
  tokenEndpointAuthMethod: 'none',
  redirectUris: ['http://localhost:5173/callback', 'http://127.0.0.1:5173/callback'],
  postLogoutRedirectUris: ['http://localhost:5173/'],
  grantTypes: ['authorization_code', 'refresh_token'],
  scopes: [
    'openid',
    'profile',
    'email',
    'offline_access',
    'users:read',
    'users:write',
    'orgs:read',
    'orgs:write',
  ],
  firstParty: true,
};

export const DEMO_SERVICE: Omit<ClientSeed, 'secret'> = {
  clientId: 'demo-service',
  name: 'Tessera demo service',
  type: 'confidential',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['client_credentials'],
  scopes: ['users:read', 'orgs:read'],
  firstParty: true,
};

/**
 * Ensures `demo-spa` and `demo-service` exist. `demo-service`'s secret is `demoServiceSecret`
 * when given (applied every time), else generated when the client is created — returned so the
 * caller prints it once; later runs return no secret.
 *
 * @example
 * const { demoServiceSecret } = await ensureDemoClients(db, { demoServiceSecret: process.env.TESSERA_DEMO_SERVICE_SECRET });
 * if (demoServiceSecret) console.log(`demo-service secret: ${demoServiceSecret}`);
 */
export async function ensureDemoClients(
  db: AuthDatabase,
  options: SeedOptions & { demoServiceSecret?: string | undefined } = {},
): Promise<{ demoServiceSecret: string | undefined; created: string[] }> {
  const repository = new ClientRepository(db, options.clock ?? systemClock, options.defaults ?? DEFAULTS);
  const created: string[] = [];
  if (!(await repository.findRow(DEMO_SPA.clientId))) {
    await repository.create(DEMO_SPA);
    created.push(DEMO_SPA.clientId);
  }
  const existing = await repository.findRow(DEMO_SERVICE.clientId);
  if (!existing) {
    const { secret } = await repository.create({ ...DEMO_SERVICE, secret: options.demoServiceSecret });
    created.push(DEMO_SERVICE.clientId);
    return { demoServiceSecret: options.demoServiceSecret === undefined ? secret : undefined, created };
  }
  if (options.demoServiceSecret !== undefined)
    await repository.rotateSecret(DEMO_SERVICE.clientId, options.demoServiceSecret);
  return { demoServiceSecret: undefined, created };
}
