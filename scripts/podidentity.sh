#!/usr/bin/env bash
# Build the upstream pod identity webhook harness (e2e/podidentity/: a tiny main over
# github.com/aws/amazon-eks-pod-identity-webhook's handler) once, cache it, and print the binary's path.
# The parity test (emulator/tests/webhook_parity.rs) feeds it the same AdmissionReviews as the emulator.
#
#   IRSA_PODIDENTITY_BIN=$(scripts/podidentity.sh)
#
# Cache: ${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}/podidentity/<hash>/podidentity, where
# <hash> covers e2e/podidentity's go.mod, go.sum and main.go, so it is rebuilt only when they change. Progress
# and errors go to stderr; stdout carries only the path. Exits non-zero, saying why, when the module cannot be
# fetched or built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/e2e/podidentity"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"

log() { printf 'podidentity.sh: %s\n' "$*" >&2; }

HASH="$(cd "$MOD_DIR" && cat go.mod go.sum main.go | sha256sum | cut -c1-16)"
DEST="$CACHE_ROOT/podidentity/$HASH"
BIN="$DEST/podidentity"

if [[ -x "$BIN" ]]; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build the upstream webhook"; exit 1; }

mkdir -p "$DEST"
exec 9>"$DEST/.lock"
flock 9
if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

log "building the upstream pod identity webhook harness into $BIN"
if ! (cd "$MOD_DIR" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false -o "$BIN.tmp" . >&2); then
  rm -f "$BIN.tmp"
  log "cannot build github.com/aws/amazon-eks-pod-identity-webhook (see the go output above)"
  exit 1
fi
mv "$BIN.tmp" "$BIN"
log "built: $BIN"
echo "$BIN"
