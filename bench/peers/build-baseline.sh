#!/usr/bin/env bash
# Builds auth-session as it was at <commit>, in <dir>, for `npm run bench -- peers` with
# BENCH_BASELINE_ROOT=<dir> (side by side with the current build) or BENCH_PORTCULLIS_ROOT=<dir>
# (instead of it). Reads git only (archive); the working tree is left alone. The export's
# node_modules links to this checkout's packages, except the workspace links, which are
# relative (../../libs/x) and so, copied, point into the export.
#   bash bench/peers/build-baseline.sh <commit> <dir>
set -euo pipefail
commit=${1:?usage: bench/peers/build-baseline.sh <commit> <dir>}
dir=${2:?usage: bench/peers/build-baseline.sh <commit> <dir>}
repo=$(git rev-parse --show-toplevel)
sha=$(git -C "$repo" rev-parse --verify "$commit^{commit}")
[ -d "$repo/node_modules/@portcullis" ] || { echo "run npm install in $repo first" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir/node_modules"
git -C "$repo" archive "$sha" | tar -x -C "$dir"
echo "$sha" >"$dir/.bench-commit"
for entry in "$repo"/node_modules/* "$repo"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = "@portcullis" ] || ln -s "$entry" "$dir/node_modules/$name"
done
cp -a "$repo/node_modules/@portcullis" "$dir/node_modules/"
for nested in "$repo"/libs/*/node_modules "$repo"/services/*/node_modules; do
  if [ -d "$nested" ]; then cp -a "$nested" "$dir/${nested#"$repo"/}"; fi
done
# Only what the bench runs: auth-session and the libraries it references.
(cd "$dir" && "$repo/node_modules/.bin/tsc" -b services/auth-session)
echo "built auth-session of ${sha:0:10} in $dir"
