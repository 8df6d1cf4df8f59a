#!/usr/bin/env bash
# Build test-infrastructure binaries from a Go module once, cache them, print where they are.
#
#   scripts/go-build-cached.sh e2e/podidentity podidentity             # the module's main package:
#                                                                      #   prints .../podidentity/<hash>/podidentity
#   scripts/go-build-cached.sh e2e/krew krew sigs.k8s.io/krew/cmd/krew # the named packages, one binary each
#                                                                      #   (named after the package): prints .../krew/<hash>/bin
#   GO_BUILD_LDFLAGS="-s -w -X ..." scripts/go-build-cached.sh ...     # linker flags for the build
#
# Cache: ${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}/<name>/<hash>/, where <hash> is the short
# SHA-256 of the module's go.mod and go.sum, and for the module's main package also its *.go: it is rebuilt only
# when they change. (Packages named on the command line come from the versions go.mod pins; callers derive any
# ldflags from go.mod too.) Concurrent callers wait on a lock; a build is moved into place only when complete.
# Progress and errors go to stderr; stdout carries only the path. Exits non-zero, saying why, when it cannot build.
set -euo pipefail

usage="usage: go-build-cached.sh MODULE_DIR NAME [PACKAGE...]"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/${1:?$usage}"
NAME="${2:?$usage}"
shift 2
PACKAGES=("$@")
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"

log() { printf '%s: %s\n' "$NAME" "$*" >&2; }

for f in go.mod go.sum; do
  [[ -f "$MOD_DIR/$f" ]] || { log "missing $MOD_DIR/$f"; exit 1; }
done

hashed() {
  cd "$MOD_DIR"
  if ((${#PACKAGES[@]} == 0)); then cat go.mod go.sum ./*.go; else cat go.mod go.sum; fi
}
HASH="$(hashed | sha256sum | cut -c1-16)"
DEST="$CACHE_ROOT/$NAME/$HASH"

# The path printed, what must exist in it, and where `go build -o` writes before the move into place.
if ((${#PACKAGES[@]} == 0)); then
  OUT="$DEST/$NAME"
  BINARIES=("$OUT")
  TMP="$OUT.tmp.$$"
  TMP_OUT="$TMP"
  PACKAGES=(.)
else
  OUT="$DEST/bin"
  BINARIES=()
  for p in "${PACKAGES[@]}"; do BINARIES+=("$OUT/${p##*/}"); done
  TMP="$DEST/bin.tmp.$$"
  TMP_OUT="$TMP/"
fi

complete() {
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "$b" ]] || return 1
  done
}

if complete; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build $MOD_DIR"; exit 1; }

mkdir -p "$DEST"
# One build at a time per cache entry: concurrent callers wait for the first.
exec 9>"$DEST/.lock"
flock 9
if complete; then
  log "cached (built by a concurrent caller): $OUT"
  echo "$OUT"
  exit 0
fi

rm -rf "$TMP"
[[ "$TMP_OUT" == */ ]] && mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
log "building ${PACKAGES[*]} of $MOD_DIR into $OUT"
start=$SECONDS
if ! (cd "$MOD_DIR" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false \
  -ldflags="${GO_BUILD_LDFLAGS:-}" -o "$TMP_OUT" "${PACKAGES[@]}" >&2); then
  log "cannot build $MOD_DIR (see the go output above)"
  exit 1
fi
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
log "built in $((SECONDS - start))s: $OUT"
echo "$OUT"
