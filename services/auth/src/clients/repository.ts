/**
 * SQL for the `oauth_clients` table (HOUSE-STYLE rule 7: SQL lives in the feature's repository),
 * and the rules a registration must satisfy before it is stored.
 */
import { createPublicKey } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { JWK } from 'jose';
import { BadRequestError, ConflictError, NotFoundError, type Clock } from '@tessera/kernel';
import { isUniqueViolation } from '@tessera/db';
import type { ClientAuthMethod, GrantType, OAuthClient } from '../contracts.ts';
import type { SigningAlgorithm } from '../config.ts';
import type { AuthDatabase } from '../db/database.ts';
import { redirectUriProblem } from './redirect-uri.ts';
import { generateClientSecret, hashClientSecret } from './secrets.ts';
import { oauthClients, type ClientRow } from './table.ts';

const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;

/** What a caller gives to register a client; omitted fields take the defaults below. */
export interface ClientInput {
  clientId?: string | undefined;
  name: string;
  type: 'public' | 'confidential';
  tokenEndpointAuthMethod?: ClientAuthMethod | undefined;
  redirectUris?: string[] | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  grantTypes?: GrantType[] | undefined;
  scopes?: string[] | undefined;
  audiences?: string[] | undefined;
  accessTokenTtlSeconds?: number | undefined;
  refreshTokenIdleTtlSeconds?: number | undefined;
  refreshTokenAbsoluteTtlSeconds?: number | undefined;
  firstParty?: boolean | undefined;
  jwks?: { keys: JWK[] } | undefined;
  /** OIDC `id_token_signed_response_alg`: one of the issuer's ID-token algorithms; omitted = the issuer's signing algorithm. */
  idTokenSignedResponseAlg?: SigningAlgorithm | undefined;
  /** A secret chosen by the caller (seed files, demo); otherwise one is generated for secret-based methods. */
  secret?: string | undefined;
}

/** Defaults of a registration (`defaultAudience` and `accessTokenTtlSeconds` come from config). */
export interface ClientDefaults {
  defaultAudience: string;
  accessTokenTtlSeconds: number;
  /** The algorithms the issuer can sign ID tokens with (`idTokenAlgorithmsFor(signingAlg)`). */
  idTokenAlgorithms: readonly SigningAlgorithm[];
}

/** A client as the admin API, CLI and seed see it: the protocol view plus bookkeeping. */
export interface ClientRecord extends OAuthClient {
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string | null;
}

/** Maps a row to the protocol view (no secret hash). */
export function toOAuthClient(row: ClientRow): OAuthClient {
  return {
    clientId: row.clientId,
    name: row.name,
    type: row.type as OAuthClient['type'],
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod as ClientAuthMethod,
    redirectUris: row.redirectUris,
    postLogoutRedirectUris: row.postLogoutRedirectUris,
    grantTypes: row.grantTypes as GrantType[],
    scopes: row.scopes,
    audiences: row.audiences,
    accessTokenTtlSeconds: row.accessTokenTtlSeconds,
    refreshTokenIdleTtlSeconds: row.refreshTokenIdleTtlSeconds,
    refreshTokenAbsoluteTtlSeconds: row.refreshTokenAbsoluteTtlSeconds,
    firstParty: row.firstParty,
    jwks: row.jwks ? { keys: row.jwks.keys } : undefined,
    idTokenSignedResponseAlg: (row.idTokenSignedResponseAlg as SigningAlgorithm | null) ?? undefined,
    registeredAt: row.createdAt,
  };
}

function toRecord(row: ClientRow): ClientRecord {
  const client: OAuthClient = toOAuthClient(row);
  delete client.registeredAt;
  return {
    ...client,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    secretRotatedAt: row.secretRotatedAt?.toISOString() ?? null,
  };
}

const invalid = (detail: string) => new BadRequestError('invalid_client_metadata', detail);

/**
 * Normalises and checks a registration (RFC 7591 §2 rules that matter here); throws 400
 * `invalid_client_metadata` with the reason.
 */
export function normaliseClientInput(
  input: ClientInput,
  defaults: ClientDefaults,
): Omit<ClientRow, 'secretHash' | 'createdAt' | 'updatedAt' | 'secretRotatedAt'> {
  const clientId = input.clientId ?? `c_${generateClientSecret().slice(0, 22)}`;
  if (!CLIENT_ID.test(clientId))
    throw invalid('clientId must be 3–64 characters of letters, digits, ".", "_" or "-"');
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw invalid('name must be 1–200 characters');
  const method = input.tokenEndpointAuthMethod ?? (input.type === 'public' ? 'none' : 'client_secret_basic');
  if (!AUTH_METHODS.includes(method)) throw invalid('unknown tokenEndpointAuthMethod');
  if ((input.type === 'public') !== (method === 'none')) {
    throw invalid('public clients authenticate with "none"; confidential clients need another method');
  }
  const grantTypes = unique<GrantType>(
    input.grantTypes ??
      (input.type === 'public' ? ['authorization_code', 'refresh_token'] : ['client_credentials']),
  );
  if (grantTypes.length === 0) throw invalid('grantTypes must name at least one grant type');
  for (const grant of grantTypes)
    if (!GRANT_TYPES.includes(grant)) throw invalid(`unknown grant type ${grant}`);
  if (input.type === 'public' && grantTypes.includes('client_credentials')) {
    throw invalid('public clients cannot use client_credentials');
  }
  if (grantTypes.includes('refresh_token') && !grantTypes.includes('authorization_code')) {
    throw invalid('refresh_token requires authorization_code');
  }
  const redirectUris = unique(input.redirectUris ?? []);
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw invalid('authorization_code needs at least one redirect URI');
  }
  const postLogoutRedirectUris = unique(input.postLogoutRedirectUris ?? []);
  for (const uri of [...redirectUris, ...postLogoutRedirectUris]) {
    const problem = uri.length > 2000 ? 'is too long' : redirectUriProblem(uri);
    if (problem) throw invalid(`redirect URI ${JSON.stringify(uri.slice(0, 100))} ${problem}`);
  }
  const scopes = unique(input.scopes ?? []);
  for (const scope of scopes)
    if (!SCOPE.test(scope)) throw invalid('a scope contains characters RFC 6749 §3.3 does not allow');
  const audiences = unique(input.audiences ?? [defaults.defaultAudience]);
  for (const audience of audiences) {
    if (audience.length < 1 || audience.length > 200 || /\s/.test(audience))
      throw invalid('audiences must be 1–200 characters without spaces');
  }
  const accessTtl = input.accessTokenTtlSeconds ?? defaults.accessTokenTtlSeconds;
  if (!Number.isInteger(accessTtl) || accessTtl < 60 || accessTtl > 3600)
    throw invalid('accessTokenTtlSeconds must be 60–3600');
  const idle = input.refreshTokenIdleTtlSeconds ?? 14 * 86_400;
  const absolute = input.refreshTokenAbsoluteTtlSeconds ?? 90 * 86_400;
  if (
    !Number.isInteger(idle) ||
    !Number.isInteger(absolute) ||
    idle < 60 ||
    absolute < idle ||
    absolute > 365 * 86_400
  ) {
    throw invalid('refresh token lifetimes must satisfy 60 <= idle <= absolute <= 1 year');
  }
  if (method === 'private_key_jwt' && !(input.jwks && input.jwks.keys.length > 0)) {
    throw invalid('private_key_jwt needs a jwks with at least one public key');
  }
  for (const [index, key] of (input.jwks?.keys ?? []).entries()) {
    if ('d' in key || 'k' in key) throw invalid('jwks must hold public keys only');
    // A key that does not parse would only fail later, at every sign-in of the client.
    let parsed;
    try {
      parsed = createPublicKey({ key: key, format: 'jwk' });
    } catch {
      throw invalid(`jwks key ${index} is not a valid public key (RFC 7517/7518)`);
    }
    // RFC 7518 §3.3: RSA keys of 2048 bits or more.
    if (parsed.asymmetricKeyType === 'rsa' && (parsed.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw invalid(`jwks key ${index} is an RSA key shorter than 2048 bits`);
  }
  const idTokenAlg = input.idTokenSignedResponseAlg;
  if (idTokenAlg !== undefined && !defaults.idTokenAlgorithms.includes(idTokenAlg)) {
    throw invalid(`idTokenSignedResponseAlg must be one of ${defaults.idTokenAlgorithms.join(', ')}`);
  }
  return {
    clientId,
    name,
    type: input.type,
    tokenEndpointAuthMethod: method,
    redirectUris,
    postLogoutRedirectUris,
    grantTypes,
    scopes,
    audiences,
    accessTokenTtlSeconds: accessTtl,
    refreshTokenIdleTtlSeconds: idle,
    refreshTokenAbsoluteTtlSeconds: absolute,
    firstParty: input.firstParty ?? false,
    jwks: input.jwks ?? null,
    idTokenSignedResponseAlg: idTokenAlg ?? null,
  };
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** Whether a client of this method holds a shared secret. */
export function usesSecret(method: string): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

/**
 * The `oauth_clients` repository. `onChange(clientId)` runs after every committed write (the
 * lookup cache drops its copy).
 *
 * @example
 * const repo = new ClientRepository(db, clock, { defaultAudience: 'tessera-api', accessTokenTtlSeconds: 600, idTokenAlgorithms: ['ES256', 'RS256'] });
 * const { client, secret } = await repo.create({ name: 'Billing', type: 'confidential' });
 */
export class ClientRepository {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;
  readonly #defaults: ClientDefaults;
  readonly #listeners: Array<(clientId: string) => void> = [];

  constructor(db: AuthDatabase, clock: Clock, defaults: ClientDefaults) {
    this.#db = db;
    this.#clock = clock;
    this.#defaults = defaults;
  }

  /** Registers a listener called with the client id after each write. */
  onChange(listener: (clientId: string) => void): void {
    this.#listeners.push(listener);
  }

  /** The row with its secret hash (client authentication only). */
  async findRow(clientId: string): Promise<ClientRow | undefined> {
    // No stored id holds a NUL (PostgreSQL text cannot), and the query would fail on one.
    if (clientId.includes('\0')) return undefined;
    const rows = await this.#db
      .select()
      .from(oauthClients)
      .where(eq(oauthClients.clientId, clientId))
      .limit(1);
    return rows[0];
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.findRow(clientId);
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.#db.select().from(oauthClients).orderBy(asc(oauthClients.clientId));
    return rows.map(toRecord);
  }

  /**
   * Creates a client; returns the plain secret for secret-based methods (the only time it exists
   * outside the caller). 409 when the id is taken.
   */
  async create(input: ClientInput): Promise<{ client: ClientRecord; secret: string | undefined }> {
    const values = normaliseClientInput(input, this.#defaults);
    const secret = usesSecret(values.tokenEndpointAuthMethod)
      ? (input.secret ?? generateClientSecret())
      : undefined;
    if (secret !== undefined && secret.length < 32)
      throw invalid('a client secret must be at least 32 characters');
    const now = new Date(this.#clock.now());
    try {
      const rows = await this.#db
        .insert(oauthClients)
        .values({
          ...values,
          secretHash: secret === undefined ? null : hashClientSecret(secret),
          createdAt: now,
          updatedAt: now,
          secretRotatedAt: null,
        })
        .returning();
      const row = rows[0];
      if (!row) throw new Error('insert returned no row');
      this.#changed(row.clientId);
      return { client: toRecord(row), secret };
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ConflictError('client_exists', 'a client with this id already exists');
      throw err;
    }
  }

  /**
   * Replaces a client's registration (not its id, created time or secret — unless `input.secret`
   * is given). Creates it when missing. Used by the declarative seed.
   */
  async upsert(
    input: ClientInput & { clientId: string },
  ): Promise<{ client: ClientRecord; created: boolean; secret: string | undefined }> {
    const existing = await this.findRow(input.clientId);
    if (!existing) {
      const { client, secret } = await this.create(input);
      return { client, created: true, secret };
    }
    const values = normaliseClientInput(input, this.#defaults);
    const now = new Date(this.#clock.now());
    let secretHash = usesSecret(values.tokenEndpointAuthMethod) ? existing.secretHash : null;
    let secret: string | undefined;
    if (usesSecret(values.tokenEndpointAuthMethod) && input.secret !== undefined) {
      secretHash = hashClientSecret(input.secret);
    } else if (usesSecret(values.tokenEndpointAuthMethod) && secretHash === null) {
      secret = generateClientSecret();
      secretHash = hashClientSecret(secret);
    }
    const rows = await this.#db
      .update(oauthClients)
      .set({ ...values, secretHash, updatedAt: now })
      .where(eq(oauthClients.clientId, input.clientId))
      .returning();
    const row = rows[0];
    if (!row) throw new NotFoundError('client_not_found', 'no client with this id');
    this.#changed(row.clientId);
    return { client: toRecord(row), created: false, secret };
  }

  /** Issues a new secret (the old one stops working at once); 404 unknown, 400 for clients without a secret. */
  async rotateSecret(clientId: string, chosen?: string): Promise<{ client: ClientRecord; secret: string }> {
    const existing = await this.findRow(clientId);
    if (!existing) throw new NotFoundError('client_not_found', 'no client with this id');
    if (!usesSecret(existing.tokenEndpointAuthMethod)) {
      throw new BadRequestError('client_has_no_secret', 'this client does not authenticate with a secret');
    }
    const secret = chosen ?? generateClientSecret();
    const now = new Date(this.#clock.now());
    const rows = await this.#db
      .update(oauthClients)
      .set({ secretHash: hashClientSecret(secret), secretRotatedAt: now, updatedAt: now })
      .where(eq(oauthClients.clientId, clientId))
      .returning();
    const row = rows[0];
    if (!row) throw new NotFoundError('client_not_found', 'no client with this id');
    this.#changed(clientId);
    return { client: toRecord(row), secret };
  }

  /** Deletes a client; false when it did not exist. */
  async delete(clientId: string): Promise<boolean> {
    const rows = await this.#db
      .delete(oauthClients)
      .where(eq(oauthClients.clientId, clientId))
      .returning({ clientId: oauthClients.clientId });
    if (rows.length > 0) this.#changed(clientId);
    return rows.length > 0;
  }

  #changed(clientId: string): void {
    for (const listener of this.#listeners) listener(clientId);
  }
}
