#!/usr/bin/env bash
# Build krew's own tools — `krew` and `validate-krew-manifest` from the Go module sigs.k8s.io/krew, pinned as
# `tool` lines in e2e/krew/go.mod — once, cache them, and print the directory holding the binaries.
# e2e/tests/krew.rs uses them to validate krew-manifest.yaml and to install the plugin offline with krew.
#
#   export IRSA_KREW_BIN=$(scripts/krew-tools.sh)
#
# Cache: ${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}/krew/<hash>/bin/, where <hash> is
# the short SHA-256 of e2e/krew/go.mod + go.sum, so they are rebuilt only when the pinned version changes.
# Progress and errors go to stderr; stdout carries only the bin dir. Exits non-zero, saying why, when the
# module cannot be fetched or built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/e2e/krew"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"

log() { printf 'krew-tools.sh: %s\n' "$*" >&2; }

for f in go.mod go.sum; do
  [[ -f "$MOD_DIR/$f" ]] || { log "missing $MOD_DIR/$f"; exit 1; }
done

HASH="$(cat "$MOD_DIR/go.mod" "$MOD_DIR/go.sum" | sha256sum | cut -c1-16)"
DEST="$CACHE_ROOT/krew/$HASH"
BIN="$DEST/bin"
BINARIES=(krew validate-krew-manifest)

complete() {
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "$BIN/$b" ]] || return 1
  done
}

if complete; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build krew's tools"; exit 1; }

mkdir -p "$DEST"
# One build at a time per cache entry: concurrent callers wait for the first.
exec 9>"$DEST/.lock"
flock 9
if complete; then
  log "cached (built by a concurrent caller): $BIN"
  echo "$BIN"
  exit 0
fi

TMP="$DEST/bin.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

KREW_VERSION="$(sed -n 's/^[[:space:]]*sigs\.k8s\.io\/krew \(v[^ ]*\).*/\1/p' "$MOD_DIR/go.mod" | head -n1)"
log "building krew + validate-krew-manifest (sigs.k8s.io/krew $KREW_VERSION) into $BIN"
pkgs=()
for b in "${BINARIES[@]}"; do pkgs+=("sigs.k8s.io/krew/cmd/$b"); done
# krew prints its version from these (internal/version); set them so `kubectl krew version` is truthful.
LDFLAGS="-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION"
if ! (cd "$MOD_DIR" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false -ldflags="$LDFLAGS" \
  -o "$TMP/" "${pkgs[@]}" >&2); then
  log "cannot build sigs.k8s.io/krew (see the go output above)"
  exit 1
fi

rm -rf "$BIN"
mv "$TMP" "$BIN"
trap - EXIT
log "built: $BIN"
echo "$BIN"
