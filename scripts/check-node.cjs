// Plain CommonJS on purpose: it must run (and fail clearly) on any old Node.
'use strict';

/**
 * The one-line refusal for a Node.js `version` string such as `v20.11.1`, or undefined when that
 * version is new enough (>= 22). Exported for the tests; the script below applies it to itself.
 */
function nodeVersionProblem(version) {
  const major = Number(String(version).replace(/^v/, '').split('.')[0]);
  if (major < 22) {
    return `Tessera needs Node.js >= 22 (found ${version}); run \`source scripts/use-node.sh\` or install Node 24 LTS.`;
  }
  return undefined;
}

module.exports = { nodeVersionProblem };

if (require.main === module) {
  const problem = nodeVersionProblem(process.version);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
