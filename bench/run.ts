/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts (users, token, gateway, ...).
 * Benchmarks are never part of `npm test`; each one runs Tessera and its peer side by side in
 * one run and writes raw results under bench/results/.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter(
    (file) =>
      file.endsWith('.ts') &&
      file !== 'run.ts' &&
      !file.startsWith('lib') &&
      !file.startsWith('zz') &&
      !file.endsWith('-server.ts'),
  )
  .map((file) => file.replace(/\.ts$/, ''));

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}> [args]\n`);
  process.exit(name ? 1 : 0);
}
const mod = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as {
  default: (args: string[]) => Promise<void>;
};
await mod.default(args);
