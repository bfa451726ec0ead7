/**
 * `npm run tessera -- <command>`: administration on the platform's database (embedded ./.data or
 * DATABASE_URL). In embedded mode, stop `npm start` first: PGlite is single-process.
 *
 *   clients list
 *   clients create --name N --type public|confidential [--redirect-uri U]... [--scope S]... [--grant G]... [--first-party] [--id-token-alg A]
 *   clients rotate-secret <client_id>
 *   clients delete <client_id>
 *   keys list | keys rotate
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  authMigrations,
  authTables,
  clientsCreate,
  clientsDelete,
  clientsList,
  clientsRotateSecret,
  keysList,
  keysRotate,
  loadAuthConfig,
  type ClientInput,
  type CliContext,
  type GrantType,
} from '@tessera/auth-service';
import { applyMigrations, closeConnection, createDrizzle, openConnection } from '@tessera/db';
import { ConfigError, loadConfig } from '@tessera/kernel';
import { platformConfigSpec } from './config.ts';
import { loadOrCreateMasterKey } from './master-key.ts';
import { acquireLock } from './platform.ts';

const USAGE = `usage: npm run tessera -- <command>
  clients list
  clients create --name NAME --type public|confidential [--redirect-uri URI]... [--scope SCOPE]... [--grant GRANT]... [--first-party]
  clients rotate-secret CLIENT_ID
  clients delete CLIENT_ID
  keys list
  keys rotate`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      type: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      grant: { type: 'string', multiple: true },
      'first-party': { type: 'boolean' },
      'id-token-alg': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, command, id] = positionals;
  if (values.help || !group || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const config = loadConfig(platformConfigSpec, process.env);
  const authConfig = loadAuthConfig(process.env);
  const dataDir = path.resolve(config.dataDir);
  if (!config.databaseUrl) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = config.databaseUrl ? undefined : await acquireLock(path.join(dataDir, 'tessera.pid'));
  const conn = await openConnection({
    url: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : path.join(dataDir, 'pg'),
  });
  try {
    await applyMigrations(conn, authMigrations);
    const ctx: CliContext = { db: createDrizzle(conn, authTables), config: authConfig };
    const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    switch (`${group} ${command}`) {
      case 'clients list':
        print(
          (await clientsList(ctx)).map((c) => ({
            clientId: c.clientId,
            name: c.name,
            type: c.type,
            grantTypes: c.grantTypes,
            redirectUris: c.redirectUris,
          })),
        );
        return 0;
      case 'clients create': {
        if (!values.name || (values.type !== 'public' && values.type !== 'confidential')) {
          process.stderr.write('clients create: --name and --type public|confidential are required\n');
          return 2;
        }
        const { client, secret } = await clientsCreate(ctx, {
          name: values.name,
          type: values.type,
          redirectUris: values['redirect-uri'],
          postLogoutRedirectUris: values['post-logout-redirect-uri'],
          scopes: values.scope,
          grantTypes: values.grant as GrantType[] | undefined,
          firstParty: values['first-party'] ?? false,
          // Checked by the registry against the algorithms the issuer offers.
          idTokenSignedResponseAlg: values['id-token-alg'] as ClientInput['idTokenSignedResponseAlg'],
        });
        print({
          clientId: client.clientId,
          type: client.type,
          grantTypes: client.grantTypes,
          scopes: client.scopes,
        });
        if (secret) process.stdout.write(`client secret (shown once): ${secret}\n`);
        return 0;
      }
      case 'clients rotate-secret': {
        if (!id) break;
        const { secret } = await clientsRotateSecret(ctx, id);
        process.stdout.write(`new client secret for ${id} (shown once): ${secret}\n`);
        return 0;
      }
      case 'clients delete':
        if (!id) break;
        if (!(await clientsDelete(ctx, id))) {
          process.stderr.write(`no client ${id}\n`);
          return 1;
        }
        process.stdout.write(`deleted ${id}\n`);
        return 0;
      case 'keys list':
      case 'keys rotate': {
        const { key } = await loadOrCreateMasterKey(dataDir, config.masterKey);
        print(command === 'list' ? await keysList(ctx, key) : await keysRotate(ctx, key));
        return 0;
      }
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } finally {
    await closeConnection(conn);
    await lock?.release();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`tessera: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  process.exitCode = 1;
}
