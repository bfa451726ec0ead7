// Plain CommonJS on purpose: it must run (and fail clearly) on any old Node.
'use strict';
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `Tessera needs Node.js >= 22 (found ${process.version}); run \`source scripts/use-node.sh\` or install Node 24 LTS.`,
  );
  process.exit(1);
}
