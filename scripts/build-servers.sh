#!/usr/bin/env bash
# Builds the version matrix's servers (Redis 6.2, 7.2, Valkey 8.0, ...) from source tarballs,
# once, into a cache outside the clone; the test bed runs the matrix tests against them.
#
#   scripts/build-servers.sh            build what is missing, print where each server is
#   scripts/build-servers.sh --list     only print what is built (no building)
#
# Tarballs come from $RCI_SERVER_TARBALLS (default: ../shared/servers beside the clone), each
# checked against that directory's SHA256SUMS; a tarball the sums do not list, or whose sum
# differs, is refused. The cache is $RCI_SERVER_CACHE (default ~/.cache/redis-cluster-init/
# servers), one directory per tarball named <name>-<first 12 hex of its SHA-256>, so a changed
# tarball is a new entry and never a stale binary. Without tarballs it says so and exits 0: the
# matrix tests then skip, naming this script.
set -euo pipefail
cd "$(dirname "$0")/.."

tarballs=${RCI_SERVER_TARBALLS:-$(cd .. && pwd)/shared/servers}
cache=${RCI_SERVER_CACHE:-${HOME}/.cache/redis-cluster-init/servers}
list_only=false
[[ ${1:-} == --list ]] && list_only=true

if [[ ! -f $tarballs/SHA256SUMS ]]; then
  echo "build-servers: no $tarballs/SHA256SUMS: the version-matrix tests will skip" \
    "(set RCI_SERVER_TARBALLS to a directory of server tarballs and their SHA256SUMS)"
  exit 0
fi

# One tarball: verify it, then build it unless its cache entry is complete.
build_one() {
  local tarball=$1 expected=$2
  local name=${tarball%.tar.gz}
  local actual
  actual=$(sha256sum "$tarballs/$tarball" | cut -d' ' -f1)
  if [[ $actual != "$expected" ]]; then
    echo "build-servers: $tarballs/$tarball: SHA-256 $actual, but SHA256SUMS says $expected: refused" >&2
    return 1
  fi
  local entry=$cache/$name-${actual:0:12}
  if [[ -f $entry/COMPLETE ]]; then
    echo "build-servers: $name: $entry/bin (cached)"
    return 0
  fi
  if $list_only; then
    echo "build-servers: $name: not built (run scripts/build-servers.sh)"
    return 0
  fi
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/rci-server-build.XXXXXX")
  echo "build-servers: $name: building (make -j2 BUILD_TLS=yes MALLOC=libc; log in $entry/build.log)"
  mkdir -p "$entry"
  local started=$SECONDS
  if ! (tar -xzf "$tarballs/$tarball" -C "$work" &&
    make -C "$work/$name" -j2 BUILD_TLS=yes MALLOC=libc) >"$entry/build.log" 2>&1; then
    echo "build-servers: $name: the build failed; the last lines of $entry/build.log:" >&2
    tail -n 20 "$entry/build.log" >&2
    rm -rf "$work"
    return 1
  fi
  mkdir -p "$entry/bin"
  # Redis builds redis-server and redis-cli; Valkey builds valkey-server and valkey-cli.
  local program
  for program in "$work/$name"/src/{redis,valkey}-{server,cli}; do
    [[ -f $program && ! -L $program ]] && cp "$program" "$entry/bin/"
  done
  rm -rf "$work"
  echo "$tarball $actual" >"$entry/COMPLETE"
  echo "build-servers: $name: $entry/bin (built in $((SECONDS - started)) s)"
}

mkdir -p "$cache"
status=0
while read -r sum tarball; do
  [[ -n ${tarball:-} ]] || continue
  if [[ ! -f $tarballs/$tarball ]]; then
    echo "build-servers: $tarball is listed in SHA256SUMS but absent: skipped"
    continue
  fi
  build_one "$tarball" "$sum" || status=1
done <"$tarballs/SHA256SUMS"
exit $status
