#!/usr/bin/env bash
# Build a test-infrastructure Go module (its main package) once, cache the binary, print its path.
#
#   scripts/go-build-cached.sh e2e/podidentity podidentity
#
# Cache: ${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}/<name>/<hash>/<name>, where <hash> covers
# the module's go.mod, go.sum and *.go, so it is rebuilt only when they change. Concurrent callers wait on a lock.
# Progress and errors go to stderr; stdout carries only the path. Exits non-zero, saying why, when it cannot build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/${1:?usage: go-build-cached.sh MODULE_DIR NAME}"
NAME="${2:?usage: go-build-cached.sh MODULE_DIR NAME}"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"

log() { printf '%s: %s\n' "$NAME" "$*" >&2; }

HASH="$(cd "$MOD_DIR" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)"
DEST="$CACHE_ROOT/$NAME/$HASH"
BIN="$DEST/$NAME"

if [[ -x "$BIN" ]]; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build $MOD_DIR"; exit 1; }

mkdir -p "$DEST"
exec 9>"$DEST/.lock"
flock 9
if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

log "building $MOD_DIR into $BIN"
if ! (cd "$MOD_DIR" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false -o "$BIN.tmp" . >&2); then
  rm -f "$BIN.tmp"
  log "cannot build $MOD_DIR (see the go output above)"
  exit 1
fi
mv "$BIN.tmp" "$BIN"
log "built: $BIN"
echo "$BIN"
