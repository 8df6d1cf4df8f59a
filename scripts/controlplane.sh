#!/usr/bin/env bash
# Build the e2e control plane (kube-apiserver + etcd) from the Go module in
# e2e/controlplane/ once, cache it, and print the directory holding the binaries.
#
#   scripts/controlplane.sh            # -> prints .../controlplane/<hash>/bin
#   IRSA_CONTROLPLANE_BIN=$(scripts/controlplane.sh)
#   scripts/controlplane.sh NAME ./cmd/kubelet ...   # other packages of the module, cached as NAME
#                                                    # (scripts/kind-node-image.sh builds the node's this way)
#
# The cache lives in
#   ${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}/controlplane/<hash>/bin/
# where <hash> is the short SHA-256 of e2e/controlplane/go.mod + go.sum, so the
# binaries are rebuilt only when the pinned versions change (the first build takes
# several minutes). scripts/go-build-cached.sh does the caching, locking and building.
# Progress goes to stderr; stdout carries only the bin dir.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The version the binaries report (`kube-apiserver --version`, /version), as a release build sets it.
K8S_VERSION="$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes \(v[^ ]*\).*/\1/p' e2e/controlplane/go.mod | head -n1)"
[[ -n "$K8S_VERSION" ]] || { echo "controlplane.sh: no k8s.io/kubernetes version in e2e/controlplane/go.mod" >&2; exit 1; }
MAJOR="${K8S_VERSION#v}"; MAJOR="${MAJOR%%.*}"
MINOR="${K8S_VERSION#v*.}"; MINOR="${MINOR%%.*}"
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean"
done
export GO_BUILD_LDFLAGS="$LDFLAGS"
if (($# == 0)); then
  set -- controlplane ./cmd/kube-apiserver ./cmd/etcd
fi
exec scripts/go-build-cached.sh e2e/controlplane "$@"
