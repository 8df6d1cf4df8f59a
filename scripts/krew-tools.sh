#!/usr/bin/env bash
# Build krew's own tools — `krew` and `validate-krew-manifest` from the Go module sigs.k8s.io/krew, pinned as
# `tool` lines in e2e/krew/go.mod — once, cache them, and print the directory holding the binaries.
# e2e/tests/krew.rs uses them to validate krew-manifest.yaml and to install the plugin offline with krew.
#
#   export IRSA_KREW_BIN=$(scripts/krew-tools.sh)
#
# Cache: ${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}/krew/<hash>/bin/, where <hash> is
# the short SHA-256 of e2e/krew/go.mod + go.sum, so they are rebuilt only when the pinned version changes
# (scripts/go-build-cached.sh does the caching, locking and building).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
KREW_VERSION="$(sed -n 's/^[[:space:]]*sigs\.k8s\.io\/krew \(v[^ ]*\).*/\1/p' e2e/krew/go.mod | head -n1)"
# krew prints its version from this (internal/version); set it so `kubectl krew version` is truthful.
export GO_BUILD_LDFLAGS="-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION"
exec scripts/go-build-cached.sh e2e/krew krew \
  sigs.k8s.io/krew/cmd/krew sigs.k8s.io/krew/cmd/validate-krew-manifest
