#!/usr/bin/env bash
# Installs what the tests need on a Debian bookworm machine: PostgreSQL, Redis and MariaDB
# server binaries, promtool, nginx (the reverse proxy of test/e2e/proxy.test.ts), moto's server
# (the AWS/DynamoDB API), schemathesis (the API fuzzer), helm, and the Kubernetes control plane
# of the chart test (scripts/setup-kube.sh).
# Idempotent and quick when everything is there: it checks before it installs, and runs
# `apt-get update` only when an apt package is missing. The tests start their own throwaway
# servers (test/infra), so the Debian services these packages bring are stopped and disabled.
# Usage: bash scripts/setup.sh    (as root, or with sudo available)
set -Eeuo pipefail

MOTO_VERSION=5.2.1   # keep in step with docs/testing.md and the container fallback in test/infra/moto.ts
SCHEMATHESIS_VERSION=4.32.5   # keep in step with docs/testing.md
HELM_VERSION=v4.3.1
LOG=$(mktemp -t portcullis-setup.XXXXXX)
step="setup"
trap 'echo "setup.sh: $step failed; the end of its log ($LOG):" >&2; tail -n 20 "$LOG" | cut -c1-300 >&2' ERR

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

say() { printf '%-12s %s\n' "$1:" "$2"; }

# --- apt packages: check by the binaries the tests use, install whatever is missing at once.
have_postgresql() { compgen -G '/usr/lib/postgresql/1[5-9]/bin/initdb' >/dev/null; }
have_redis() { command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ]; }
have_mariadb() { [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null; }
have_promtool() { command -v promtool >/dev/null; }
have_nginx() { [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null; }
# The console's browser tests drive Debian's Chromium through playwright-core (no browser download).
have_chromium() { command -v chromium >/dev/null; }

declare -A apt_for=([postgresql]=postgresql [redis]=redis-server [mariadb]=mariadb-server [promtool]=prometheus [nginx]=nginx [chromium]=chromium)
declare -A present=()
have_postgresql && present[postgresql]=1
have_redis && present[redis]=1
have_mariadb && present[mariadb]=1
have_promtool && present[promtool]=1
have_nginx && present[nginx]=1
have_chromium && present[chromium]=1

missing=()
for c in postgresql redis mariadb promtool nginx chromium; do [ -n "${present[$c]:-}" ] || missing+=("${apt_for[$c]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  step="apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >>"$LOG" 2>&1
  # The lock timeout waits for another apt (unattended-upgrades, an image build) instead of failing.
  $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >>"$LOG" 2>&1
fi
for c in postgresql redis mariadb promtool nginx chromium; do
  step="$c check"
  "have_$c" || { echo "setup.sh: $c is still missing after apt-get install ${apt_for[$c]}." >&2; exit 1; }
  say "$c" "$([ -n "${present[$c]:-}" ] && echo present || echo installed)"
done

# --- system services: tests run their own instances on free ports; the daemons would only
# hold 5432/6379/3306/9090/9100/80 and memory. Stop them and keep them from starting at boot.
step="stopping system services"
changed=()
for s in postgresql redis-server mariadb prometheus prometheus-node-exporter nginx; do
  if [ -d /run/systemd/system ]; then
    if systemctl is-enabled --quiet "$s" 2>/dev/null || systemctl is-active --quiet "$s" 2>/dev/null; then
      $SUDO systemctl disable --now --quiet "$s" >>"$LOG" 2>&1
      changed+=("$s")
    fi
  elif [ -x "/etc/init.d/$s" ]; then
    if compgen -G "/etc/rc[2345].d/S??$s" >/dev/null; then
      $SUDO update-rc.d "$s" disable >>"$LOG" 2>&1
      changed+=("$s")
    fi
    if service "$s" status >/dev/null 2>&1; then
      $SUDO service "$s" stop >>"$LOG" 2>&1
      changed+=("$s")
    fi
  fi
done
if [ ${#changed[@]} -gt 0 ]; then
  say services "stopped/disabled $(printf '%s\n' "${changed[@]}" | sort -u | paste -sd' ')"
else
  say services "none running or enabled"
fi

# --- Python tools, pinned, into the python on PATH: moto's server (DynamoDB and the rest of the
# AWS API) and schemathesis (the API fuzzer of test/e2e/api-fuzz.test.ts).
PYTHON=$(command -v python3 || command -v python || true)
[ -n "$PYTHON" ] || { echo "setup.sh: no python3 on PATH to install moto and schemathesis into: install python3 and python3-pip." >&2; exit 1; }
# pip_tool NAME REQUIREMENT DISTRIBUTION VERSION COMMAND [IMPORTS]: installs REQUIREMENT unless
# COMMAND is on PATH and DISTRIBUTION is at VERSION (and IMPORTS, extra modules, import).
pip_tool() {
  local name=$1 requirement=$2 distribution=$3 version=$4 command=$5 imports=${6:-}
  step=$requirement
  ok() {
    command -v "$command" >/dev/null &&
      "$PYTHON" -c "import importlib.metadata as m${imports:+, $imports}; assert m.version('$distribution') == '$version'" 2>/dev/null
  }
  if ok; then
    say "$name" "present ($version)"
    return
  fi
  # PIP_BREAK_SYSTEM_PACKAGES: on Debian's own python this lands in /usr/local, which is what
  # a throwaway test machine wants; pyenv and venv pythons ignore it.
  PIP_BREAK_SYSTEM_PACKAGES=1 "$PYTHON" -m pip install --quiet --disable-pip-version-check "$requirement" >>"$LOG" 2>&1
  if command -v pyenv >/dev/null; then pyenv rehash; fi
  ok || { echo "setup.sh: $command ($name) is not on PATH after pip install (is $PYTHON's bin directory on PATH?)." >&2; exit 1; }
  say "$name" "installed ($version)"
}
pip_tool moto "moto[server]==$MOTO_VERSION" moto "$MOTO_VERSION" moto_server "flask, flask_cors"
pip_tool schemathesis "schemathesis==$SCHEMATHESIS_VERSION" schemathesis "$SCHEMATHESIS_VERSION" st

# --- helm, built from source through the Go module proxy (no binary downloads here).
step="helm $HELM_VERSION"
if [ "$(helm version --template '{{.Version}}' 2>/dev/null || true)" = "$HELM_VERSION" ]; then
  say helm "present ($HELM_VERSION)"
else
  GO=$(command -v go || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true)
  [ -n "$GO" ] || { echo "setup.sh: helm $HELM_VERSION is built with Go >= 1.26, and no go is on PATH or in /usr/local/go/bin." >&2; exit 1; }
  echo "helm:        building $HELM_VERSION with $("$GO" env GOVERSION) (a few minutes the first time)"
  # go install leaves helm's version string at its source default ("v4.3"); the linker flag
  # sets it the way release builds do, so `helm version` (and the check above) sees $HELM_VERSION.
  $SUDO env GOBIN=/usr/local/bin "$GO" install -ldflags "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >>"$LOG" 2>&1
  say helm "installed ($(/usr/local/bin/helm version --template '{{.Version}}'))"
fi

# --- Node, the version pinned in .nvmrc, into a cache outside the repo (scripts/test.sh puts
# it first on PATH). The node-linux-<arch> package carries the release binary itself.
NODE_VERSION=$(tr -d ' v\n' < "$(dirname "$0")/../.nvmrc")
step="node $NODE_VERSION"
NODE_DIR="${PORTCULLIS_CACHE_DIR:-$HOME/.cache/portcullis}/node-$NODE_VERSION"
if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null || true)" = "v$NODE_VERSION" ]; then
  say node "present ($NODE_VERSION)"
else
  case "$(uname -m)" in x86_64) node_arch=x64 ;; aarch64) node_arch=arm64 ;; *) node_arch=unsupported ;; esac
  [ "$node_arch" != unsupported ] || { echo "setup.sh: no node-linux package for $(uname -m); install Node $NODE_VERSION by hand into $NODE_DIR." >&2; exit 1; }
  mkdir -p "$(dirname "$NODE_DIR")"
  node_tmp=$(mktemp -d "${NODE_DIR}.XXXXXX") && chmod 755 "$node_tmp"
  (cd "$node_tmp" && npm pack --silent "node-linux-$node_arch@$NODE_VERSION") >>"$LOG" 2>&1
  tar -xzf "$node_tmp"/node-linux-*.tgz -C "$node_tmp" --strip-components=1 package/bin/node package/LICENSE >>"$LOG" 2>&1
  rm -f "$node_tmp"/node-linux-*.tgz
  # Renamed into place whole, so an interrupted run never leaves a half-written node behind.
  rm -rf "$NODE_DIR" && mv "$node_tmp" "$NODE_DIR"
  say node "installed ($("$NODE_DIR/bin/node" --version))"
fi

# --- the Kubernetes control plane of the chart test (etcd, kube-apiserver, controller-manager,
# scheduler, kwok, CRDs), built from Go modules into a cache keyed by tools/kube: scripts/setup-kube.sh.
step="kube control plane (scripts/setup-kube.sh)"
if kube_dir=$(bash "$(dirname "$0")/setup-kube.sh" --dir 2>/dev/null); then
  say kube "present ($kube_dir)"
else
  echo "kube:        building etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (~12 min of CPU the first time)"
  bash "$(dirname "$0")/setup-kube.sh" >>"$LOG" 2>&1
  say kube "installed ($(bash "$(dirname "$0")/setup-kube.sh" --dir))"
fi

rm -f "$LOG"
