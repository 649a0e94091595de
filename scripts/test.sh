#!/usr/bin/env bash
# npm test: everything the tests need, then lint, type check, build and the whole jest suite,
# all on the Node pinned in .nvmrc (scripts/setup.sh installs it).
# Extra arguments go to jest (e.g. `npm test -- libs/crypto`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${PORTCULLIS_SKIP_SETUP:-0}" != "1" ]; then
  bash scripts/setup.sh
fi

# The pinned Node first on PATH: npm and npx (whose `#!/usr/bin/env node` finds it), eslint,
# tsc, the build, jest and every process the tests spawn then run on it. Same path as setup.sh.
NODE_VERSION=$(tr -d ' v\n' < .nvmrc)
NODE_DIR="${PORTCULLIS_CACHE_DIR:-$HOME/.cache/portcullis}/node-$NODE_VERSION"
if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
  echo "test.sh: Node $NODE_VERSION (.nvmrc) is not in $NODE_DIR: run bash scripts/setup.sh." >&2
  exit 1
fi
export PATH="$NODE_DIR/bin:$PATH"
echo "== node $(node --version)"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

echo "== format"
# Layout is prettier's (.prettierrc.json): `npx prettier --write .` fixes what this reports.
npx prettier --check . --log-level warn
echo "== lint"
npx eslint --max-warnings 0 .
echo "== type check"
npx tsc -p tsconfig.check.json
echo "== build"
# The compiled services/*/dist/main.js is what the image runs and what the entry-point tests start.
npm run --silent build
echo "== jest"
# --forceExit: a leaked handle in one suite must not hang CI for its 90 minutes; jest still
# names the leak ("did not exit") so it gets fixed.
exec node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --forceExit "$@"
