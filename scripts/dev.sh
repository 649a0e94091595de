#!/usr/bin/env bash
# npm run dev: install dependencies on a fresh clone, then start everything.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec node --conditions=development --import tsx scripts/dev.ts
