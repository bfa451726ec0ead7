import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { UsersSeed } from '@tessera/users-service';

/** The seed file: the users part (organizations, roles, users) and OAuth clients. */
export const SeedFile = Type.Object(
  {
    $schema: Type.Optional(Type.String({ maxLength: 500 })),
    organizations: UsersSeed.properties.organizations,
    users: UsersSeed.properties.users,
    clients: Type.Optional(
      Type.Array(
        Type.Object(
          { clientId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }) },
          { additionalProperties: true },
        ),
        { maxItems: 1000 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SeedFile = Static<typeof SeedFile>;

const check = Compile(SeedFile);

/**
 * Reads and validates `TESSERA_SEED`; the error names the file and the first problem.
 *
 * @example
 * const seed = await readSeedFile('docs/seed.example.json');
 */
export async function readSeedFile(path: string): Promise<SeedFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`seed: cannot read ${path} as JSON (${(err as Error).message.slice(0, 120)})`);
  }
  if (!check.Check(parsed)) {
    const first = [...check.Errors(parsed)][0];
    throw new Error(
      `seed: ${path} is invalid at ${first?.instancePath || '/'}: ${first?.message ?? 'unknown problem'}`,
    );
  }
  return parsed;
}
