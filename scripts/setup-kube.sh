#!/usr/bin/env bash
# The Kubernetes control plane of test/deploy/chart-cluster.test.ts: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kubectl built from tools/kube (upstream code through the Go
# module proxy), kwok as the kubelet, the kwok stages and the CRDs the chart uses.
# Everything lands in one cache directory outside the repository, keyed by a hash of tools/kube
# (go.mod, go.sum, the main.go files, versions.env), so a second run takes well under a second
# and a change to the wrapper builds a new set beside the old one. A cold build takes ~12 min of
# CPU on 2 cores; Go's own build cache makes a rebuild after a small change quick.
#
# Usage: bash scripts/setup-kube.sh          build/fetch if missing, print what it did
#        bash scripts/setup-kube.sh --dir    print the cache directory if complete, else fail
# PORTCULLIS_CACHE_DIR moves the cache (default ~/.cache/portcullis).
set -Eeuo pipefail
cd "$(dirname "$0")/.."

MODULE=tools/kube
# shellcheck source=../tools/kube/versions.env
. "$MODULE/versions.env"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

key=$(cd "$MODULE" && cat go.mod go.sum versions.env cmd/*/main.go | sha256sum | cut -c1-16)
dir="${PORTCULLIS_CACHE_DIR:-$HOME/.cache/portcullis}/kube/$key"

if [ "${1:-}" = "--dir" ]; then
  [ -f "$dir/complete" ] || { echo "setup-kube.sh: the control plane is not built for this checkout ($dir): run scripts/setup.sh (or scripts/setup-kube.sh)." >&2; exit 1; }
  echo "$dir"
  exit 0
fi

if [ -f "$dir/complete" ]; then
  echo "present ($dir)"
  exit 0
fi

GO=$(command -v go || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true)
[ -n "$GO" ] || { echo "setup-kube.sh: building the control plane needs Go (>= $(sed -n 's/^go //p' "$MODULE/go.mod")), and no go is on PATH or in /usr/local/go/bin." >&2; exit 1; }
# No toolchain downloads: a module wanting a newer Go should fail here, saying so.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false

mkdir -p "$(dirname "$dir")"
# Built in a sibling temp dir and renamed into place, so an interrupted or concurrent run never
# leaves a half-filled cache directory that looks complete.
tmp=$(mktemp -d "$dir.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/crds" "$tmp/stages"

# -trimpath: reproducible binaries, and the same build-cache keys on every machine layout.
# The version variables are what kubernetes' release builds set (hack/lib/version.sh); without
# them the binaries say v0.0.0-master, which helm's .Capabilities.KubeVersion would pass on.
k8s_version=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p; s/^\tk8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$MODULE/go.mod")
[ -n "$k8s_version" ] || { echo "setup-kube.sh: no k8s.io/kubernetes version in $MODULE/go.mod" >&2; exit 1; }
minor=${k8s_version#v*.}; minor=${minor%%.*}; major=${k8s_version#v}; major=${major%%.*}
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
(cd "$MODULE" && "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp/bin/" ./cmd/...)
GOBIN="$tmp/bin" "$GO" install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

# Module zips through the proxy; outside any module (cd "$tmp") so go.mod is not touched.
moddir() { (cd "$tmp" && "$GO" mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }
eso=$(moddir "github.com/external-secrets/external-secrets@$EXTERNAL_SECRETS_VERSION")
prom=$(moddir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
kwok=$(moddir "sigs.k8s.io/kwok@$KWOK_VERSION")
for crd in externalsecrets secretstores clustersecretstores; do
  cp "$eso/config/crds/bases/external-secrets.io_$crd.yaml" "$tmp/crds/"
done
for crd in servicemonitors prometheusrules; do
  cp "$prom/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" "$tmp/crds/"
done
# kwok's stages: nodes become Ready and keep a heartbeat; pods become Ready at once, Job pods
# complete, deleted pods go away (what a kubelet would do, without containers).
for stage in node/fast/node-initialize node/heartbeat/node-heartbeat pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  cp "$kwok/kustomize/stage/$stage.yaml" "$tmp/stages/"
done
chmod -R u+w "$tmp"   # module cache copies are read-only; rm -rf of an old cache must work

for b in "${BINARIES[@]}"; do [ -x "$tmp/bin/$b" ] || { echo "setup-kube.sh: $b was not built" >&2; exit 1; }; done
touch "$tmp/complete"
if ! mv -T "$tmp" "$dir" 2>/dev/null; then
  [ -f "$dir/complete" ] || { echo "setup-kube.sh: could not move the build into $dir" >&2; exit 1; }
fi  # else another run finished first: keep its copy
trap - EXIT
rm -rf "$tmp"
# Builds for earlier versions of tools/kube (~550 MB each) are not used any more.
for old in "$(dirname "$dir")"/*; do
  case "$old" in "$dir" | *.tmp.*) ;; *) rm -rf "$old" ;; esac
done
echo "built ($dir)"
