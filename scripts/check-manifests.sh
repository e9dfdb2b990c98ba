#!/usr/bin/env bash
# Validates every Kubernetes document that the examples render to against Kubernetes' OpenAPI
# schemas (and cert-manager's for the TLS example), offline: no cluster is needed.
#
#   scripts/check-manifests.sh              every examples/*/ that has a kustomization.yaml
#   scripts/check-manifests.sh DIR...       these kustomization directories
#
# Each directory is rendered with `kubectl kustomize`, and each document (with the file that
# defines it: tests/manifests/documents.py) checked by tests/manifests/validate.cjs with the
# schemas of the npm packages pinned in tests/manifests/package.json (and package-lock.json).
# Those are installed once, with npm ci, into a cache outside the clone: $RCI_NPM_CACHE (default
# ~/.cache/redis-cluster-init/npm), one directory per pin named after the SHA-256 of the two
# files, so a changed pin is a new entry and never a stale one. After that first install no
# network is needed.
#
# Exit status: 0 every document is valid; 1 a problem (each printed with the directory, the
# object and the field); 125 a prerequisite is missing (kubectl, node and npm, PyYAML, or the
# npm registry on the first run): it says which, and the CTest test running this reports a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
  echo "check-manifests: SKIP: $*" >&2
  exit 125
}

command -v kubectl >/dev/null ||
  skip "kubectl not installed (Debian 12: apt-get install kubernetes-client)"
{ command -v node && command -v npm; } >/dev/null ||
  skip "node and npm are needed (Debian 12: apt-get install nodejs npm)"
# kubernetes-models 4 supports node >= 14; package exports with subpath patterns need 16.
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 16)) || skip "node $(node --version) is too old: 16 or later is needed"
python3 -c 'import yaml' 2>/dev/null ||
  skip "PyYAML not installed (Debian 12: apt-get install python3-yaml)"

pins=tests/manifests
key=$(cat "$pins/package.json" "$pins/package-lock.json" | sha256sum | cut -c1-16)
cache=${RCI_NPM_CACHE:-${HOME:?}/.cache/redis-cluster-init/npm}
modules=$cache/schemas-$key

# Installed into a fresh directory and renamed into place only when complete, so an interrupted
# install is never taken for a cached one.
if [[ ! -f $modules/COMPLETE ]]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.install.XXXXXX")
  cp "$pins/package.json" "$pins/package-lock.json" "$work/"
  echo "check-manifests: installing the schema packages into $modules (once)"
  # --ignore-scripts: nothing of the packages runs at install time.
  if ! (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) \
    >"$work/npm.log" 2>&1; then
    # Unreachable (no network, no proxy) is a missing prerequisite; anything else is a failure.
    if ! npm ping >/dev/null 2>&1; then
      rm -rf "$work"
      skip "the npm registry is unreachable, and the schema packages are not cached in $modules"
    fi
    echo "check-manifests: npm ci failed; its log:" >&2
    cat "$work/npm.log" >&2
    rm -rf "$work"
    exit 1
  fi
  touch "$work/COMPLETE"
  rm -rf "$modules"
  mv -T "$work" "$modules"
fi

dirs=("$@")
if ((${#dirs[@]} == 0)); then
  for k in examples/*/kustomization.yaml; do dirs+=("$(dirname "$k")"); done
fi
((${#dirs[@]})) || { echo "check-manifests: no kustomization directory found" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rci-manifests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
for dir in "${dirs[@]}"; do
  if ! kubectl kustomize "$dir" >"$tmp/rendered.yaml" 2>"$tmp/kustomize.err"; then
    echo "$dir: kubectl kustomize fails:" >&2
    cat "$tmp/kustomize.err" >&2
    failed=1
    continue
  fi
  # The layout keeps fields that kubectl 1.20 needs and newer kubectl calls deprecated (see
  # examples/kubernetes/kustomization.yaml): those warnings are expected; any other is shown.
  grep -v "^# Warning: '[A-Za-z0-9]*' is deprecated" "$tmp/kustomize.err" >&2 || true
  python3 tests/manifests/documents.py "$dir" <"$tmp/rendered.yaml" >"$tmp/docs.json"
  node tests/manifests/validate.cjs "$modules" "$tmp/docs.json" "$dir" || failed=1
done
exit "$failed"
