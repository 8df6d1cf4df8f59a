#!/usr/bin/env bash
# Build the kind CLI at the version e2e/kind/go.mod pins, cache it, print its path.
#
#   KIND=$(scripts/kind-tool.sh)
#
# scripts/go-build-cached.sh does the caching (by the module's hash), locking and building.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="$(scripts/go-build-cached.sh e2e/kind kind-tool sigs.k8s.io/kind)"
echo "$dir/kind"
