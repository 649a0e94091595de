#!/usr/bin/env bash
# npm test: everything the tests need, then lint, type check and the whole jest suite.
# Extra arguments go to jest (e.g. `npm test -- libs/crypto`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${PORTCULLIS_SKIP_SETUP:-0}" != "1" ]; then
  bash scripts/setup.sh
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

echo "== lint"
npx eslint --max-warnings 0 .
echo "== type check"
npx tsc -p tsconfig.check.json
echo "== jest"
# --forceExit: a leaked handle in one suite must not hang CI for its 90 minutes; jest still
# names the leak ("did not exit") so it gets fixed.
exec node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --forceExit "$@"
