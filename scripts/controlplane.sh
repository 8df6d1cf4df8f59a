#!/usr/bin/env bash
# Build the e2e control plane (kube-apiserver + etcd) from the Go module in
# e2e/controlplane/ once, cache it, and print the directory holding the binaries.
#
#   scripts/controlplane.sh            # -> prints .../controlplane/<hash>/bin
#   IRSA_CONTROLPLANE_BIN=$(scripts/controlplane.sh)
#
# The cache lives in
#   ${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}/controlplane/<hash>/bin/
# where <hash> is the short SHA-256 of e2e/controlplane/go.mod + go.sum, so the
# binaries are rebuilt only when the pinned versions change. Progress goes to
# stderr; stdout carries only the bin dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/e2e/controlplane"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"

log() { printf 'controlplane.sh: %s\n' "$*" >&2; }

for f in go.mod go.sum; do
  [[ -f "$MOD_DIR/$f" ]] || { log "missing $MOD_DIR/$f"; exit 1; }
done

HASH="$(cat "$MOD_DIR/go.mod" "$MOD_DIR/go.sum" | sha256sum | cut -c1-16)"
DEST="$CACHE_ROOT/controlplane/$HASH"
BIN="$DEST/bin"
BINARIES=(kube-apiserver etcd)

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

command -v go >/dev/null 2>&1 || { log "go is not installed: cannot build the control plane"; exit 1; }

mkdir -p "$DEST"
# One build at a time per cache entry: concurrent callers wait for the first.
exec 9>"$DEST/.lock"
flock 9
if complete; then
  log "cached (built by a concurrent caller): $BIN"
  echo "$BIN"
  exit 0
fi

K8S_VERSION="$(cd "$MOD_DIR" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
MAJOR="${K8S_VERSION#v}"; MAJOR="${MAJOR%%.*}"
MINOR="${K8S_VERSION#v*.}"; MINOR="${MINOR%%.*}"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean"
done

TMP="$DEST/bin.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

log "building kube-apiserver + etcd (k8s.io/kubernetes $K8S_VERSION) into $BIN; the first build takes several minutes"
start=$SECONDS
pkgs=()
for b in "${BINARIES[@]}"; do pkgs+=("./cmd/$b"); done
(
  cd "$MOD_DIR"
  CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="$LDFLAGS" -o "$TMP/" "${pkgs[@]}"
) >&2

rm -rf "$BIN"
mv "$TMP" "$BIN"
trap - EXIT
log "built in $((SECONDS - start))s: $BIN"
echo "$BIN"
