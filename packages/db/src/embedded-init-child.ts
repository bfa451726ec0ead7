// Child process of initialiseDataDirInChild: runs initdb for an embedded data directory and exits.
import { PGlite } from '@electric-sql/pglite';
import { EMBEDDED_SETTINGS } from './embedded-init.ts';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: embedded-init-child.ts <dataDir>\n');
  process.exit(2);
}
const db = await PGlite.create({ dataDir, ...EMBEDDED_SETTINGS });
await db.close();
