#!/usr/bin/env bash
# One command to a kind cluster whose API server issues IRSA tokens that irsa-emulator (IAM, STS, EKS, OIDC,
# pod identity webhook) verifies — the whole IRSA flow on a laptop with Docker, no AWS account.
#
#   scripts/kind-up.sh [NAME]        # NAME defaults to irsa; then: eval "$(cat <state>/env)"
#   scripts/kind-down.sh [NAME]      # removes the kind cluster, stops the emulator, deletes the state
#
# Steps:
#   1. checks Docker (an engine answers, 20.10 or newer), builds irsa-emulator and irsa-kind-config (cargo),
#      finds kind (PATH, else scripts/kind-tool.sh builds the version e2e/kind/go.mod pins) and kubectl
#      (IRSA_KUBECTL, PATH, else scripts/install-kubectl.sh);
#   2. makes sure the docker network `kind` exists (as kind would create it) and starts the emulator on its
#      gateway — the address the kind node reaches the host at — and on loopback, nowhere else (Docker
#      Desktop: loopback only, reached as host.docker.internal); its certificate is valid for that address,
#      which is also the base of the issuer URL;
#   3. `irsa-emulator cluster create NAME` → the issuer and sa.key/sa.pub;
#   4. `irsa-kind-config` writes the kind config: the key dir mounted into the node, kubeadm patches setting
#      kube-apiserver's service-account issuer/key flags and kube-controller-manager's key — the same flags
#      (one function, irsa_names::apiserver_issuer_args) the e2e tests' control plane runs with;
#   5. `kind create cluster`; restarts the emulator with --kubeconfig (the webhook reads ServiceAccounts there);
#      `irsa-emulator cluster update NAME` with the API server's URL and CA (DescribeCluster reports them);
#      `irsa-emulator webhook install --url https://HOST:PORT`;
#   6. prints the export lines (also saved in <state>/env).
# A run that fails leaves nothing behind: `kind export logs` goes to <cache>/kind-logs/NAME, then the cluster,
# the emulator and the state are removed (scripts/kind-down.sh).
#
# Environment: IRSA_KIND_PORT (default 8444), IRSA_KIND_HOST (the host as the kind node reaches it),
# KIND_NODE_IMAGE (kind's default otherwise; scripts/kind-node-image.sh builds one offline),
# KIND_EXPERIMENTAL_DOCKER_NETWORK (kind's: another network than `kind`),
# IRSA_KIND_KUBEADM_API (v1beta3 or v1beta4: patch only that kubeadm API; by default the config patches both
# and kind applies the one it generates), IRSA_EMULATOR_BIN + IRSA_KIND_CONFIG_BIN (both set: no cargo
# build), IRSA_KUBECTL, IRSA_CACHE_DIR, DOCKER_HOST (recorded, so kind-down.sh finds the same engine).
# State: ${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa}/kind/NAME/ (emulator data, keys, kind config, kubeconfig, logs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${1:-irsa}"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"
STATE="$CACHE_ROOT/kind/$NAME"
PORT="${IRSA_KIND_PORT:-8444}"
log() { printf 'kind-up.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# The kind version the node image's files and the tests are made for (scripts/kind-tool.sh builds it).
KIND_VERSION="$(sed -n 's/^[[:space:]]*\(require[[:space:]]*\)\?sigs\.k8s\.io\/kind \(v[^ ]*\).*/\2/p' "$ROOT/e2e/kind/go.mod" | head -n1)"
[[ -n "$KIND_VERSION" ]] || die "no sigs.k8s.io/kind version in $ROOT/e2e/kind/go.mod"
NETWORK="${KIND_EXPERIMENTAL_DOCKER_NETWORK:-kind}"


[[ "$NAME" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "NAME must be lowercase letters, digits and -: $NAME"

# 1. Tools.
command -v docker >/dev/null 2>&1 || die "docker is not installed: kind needs a Docker engine (https://docs.docker.com/engine/install/)"
docker info >/dev/null 2>&1 ||
  die "no Docker engine answers at ${DOCKER_HOST:-the default socket} (docker info failed): start Docker first"
SERVER_VERSION="$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)"
[[ "${SERVER_VERSION%%.*}" =~ ^[0-9]+$ ]] && ((${SERVER_VERSION%%.*} >= 20)) ||
  die "Docker engine ${SERVER_VERSION:-of unknown version} is too old for kind $KIND_VERSION: it needs 20.10 or newer"

KIND="$(command -v kind || true)"
if [[ -z "$KIND" ]]; then
  command -v go >/dev/null 2>&1 || die "kind is not on PATH and go is not installed to build it"
  log "kind is not on PATH: building kind $KIND_VERSION from e2e/kind (scripts/kind-tool.sh)"
  KIND="$("$ROOT/scripts/kind-tool.sh")"
fi
if [[ -n "${IRSA_KUBECTL:-}" ]]; then KUBECTL="$IRSA_KUBECTL"
elif command -v kubectl >/dev/null 2>&1; then KUBECTL="$(command -v kubectl)"
else KUBECTL="$("$ROOT/scripts/install-kubectl.sh")"
fi

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
EMULATOR="${IRSA_EMULATOR_BIN:-$TARGET_DIR/debug/irsa-emulator}"
KIND_CONFIG_BIN="${IRSA_KIND_CONFIG_BIN:-$TARGET_DIR/debug/irsa-kind-config}"
# Given both binaries (tests do: no cargo inside cargo test), use them; else build them.
if [[ -z "${IRSA_EMULATOR_BIN:-}" || -z "${IRSA_KIND_CONFIG_BIN:-}" ]]; then
  log "building irsa-emulator and irsa-kind-config"
  (cd "$ROOT" && cargo build --quiet -p irsa-emulator --bin irsa-emulator -p irsa-e2e --bin irsa-kind-config >&2)
fi
[[ -x "$EMULATOR" ]] || die "no irsa-emulator at $EMULATOR"
[[ -x "$KIND_CONFIG_BIN" ]] || die "no irsa-kind-config at $KIND_CONFIG_BIN"

if "$KIND" get clusters 2>/dev/null | grep -qx "$NAME"; then
  die "kind cluster '$NAME' already exists: scripts/kind-down.sh $NAME first"
fi
if [[ -e "$STATE" ]]; then
  log "removing stale state $STATE"
  "$ROOT/scripts/kind-down.sh" "$NAME" >&2 || true
fi
mkdir -p "$STATE/data" "$STATE/keys"
[[ -z "${DOCKER_HOST:-}" ]] || echo "$DOCKER_HOST" >"$STATE/docker-host"

# From here on, a failure removes what this run made, keeping kind's logs.
CLUSTER_CREATED=
on_failure() {
  local status=$?
  ((status == 0)) && return 0
  if [[ -n "$CLUSTER_CREATED" ]]; then
    local logs="$CACHE_ROOT/kind-logs/$NAME"
    rm -rf "$logs"
    mkdir -p "$logs"
    "$KIND" export logs --name "$NAME" "$logs" >/dev/null 2>&1 || true
    cp "$STATE/emulator.log" "$STATE/kind-config.yaml" "$logs/" 2>/dev/null || true
    log "failed; kind's logs and the emulator's are in $logs"
  fi
  "$ROOT/scripts/kind-down.sh" "$NAME" >&2 || true
  exit "$status"
}
trap on_failure EXIT

# 2. Where the kind node reaches the host, and what the emulator listens on.
# The network's IPv4 gateway in GATEWAY (empty if none), and what docker said in GATEWAY_ANSWER. Docker 20.10
# lists no gateway for a network made with --subnet alone until the daemon restarts; the gateway is then the
# subnet's first address, as Docker allocates it.
gateway() {
  GATEWAY_ANSWER="$(docker network inspect "$1" --format '{{json .IPAM.Config}}' 2>&1 || true)"
  GATEWAY="$(grep -oE '"Gateway":"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+"' <<<"$GATEWAY_ANSWER" | head -n1 | cut -d'"' -f4 || true)"
  if [[ -z "$GATEWAY" ]]; then
    local network
    network="$(grep -oE '"Subnet":"[0-9]+\.[0-9]+\.[0-9]+\.0/[0-9]+"' <<<"$GATEWAY_ANSWER" | head -n1 | cut -d'"' -f4 || true)"
    [[ -z "$network" ]] || GATEWAY="${network%.0/*}.1"
  fi
}
LISTEN=(--listen "127.0.0.1:$PORT")
HOST="${IRSA_KIND_HOST:-}"
if [[ "$(uname -s)" == Linux ]] && ! docker info --format '{{.OperatingSystem}}' 2>/dev/null | grep -qi 'docker desktop'; then
  mkdir -p "$CACHE_ROOT"
  (
    # One creator at a time: kind-up.sh runs in parallel in the tests, and two creations would make the name
    # ambiguous.
    flock 9
    if ! docker network inspect "$NETWORK" >/dev/null 2>&1; then
      # As kind creates it (bridge, masquerading on), so the gateway is known before kind runs.
      log "creating docker network $NETWORK"
      docker network create -d bridge -o com.docker.network.bridge.enable_ip_masquerade=true "$NETWORK" >/dev/null
    fi
  ) 9>"$CACHE_ROOT/kind-network.lock"
  if [[ -z "$HOST" ]]; then
    gateway "$NETWORK"
    HOST="$GATEWAY"
    [[ -n "$HOST" ]] ||
      die "docker network $NETWORK has no IPv4 gateway (docker network inspect said: ${GATEWAY_ANSWER:-nothing}); set IRSA_KIND_HOST to the host's address as its containers see it"
  fi
  [[ "$HOST" == 127.* ]] || LISTEN=(--listen "$HOST:$PORT" "${LISTEN[@]}")
else
  # Docker Desktop forwards host.docker.internal to the host's loopback.
  HOST="${HOST:-host.docker.internal}"
fi
URL="https://$HOST:$PORT"
LOCAL_URL="https://127.0.0.1:$PORT"
log "the kind node reaches the emulator at $URL"

start_emulator() { # start_emulator [--kubeconfig K]
  if [[ -f "$STATE/emulator.pid" ]]; then
    local old
    old="$(cat "$STATE/emulator.pid")"
    kill "$old" 2>/dev/null || true
    while kill -0 "$old" 2>/dev/null; do sleep 0.1; done
  fi
  nohup "$EMULATOR" serve "${LISTEN[@]}" --data-dir "$STATE/data" \
    --hostname "$HOST" --hostname 127.0.0.1 --hostname localhost --public-url "$URL" "$@" \
    >>"$STATE/emulator.log" 2>&1 </dev/null &
  echo $! > "$STATE/emulator.pid"
  local i
  for i in $(seq 1 100); do
    if [[ -f "$STATE/data/ca.pem" ]] &&
      curl -s -o /dev/null --cacert "$STATE/data/ca.pem" "$LOCAL_URL/"; then
      return 0
    fi
    kill -0 "$(cat "$STATE/emulator.pid")" 2>/dev/null || { tail -n 20 "$STATE/emulator.log" >&2; die "the emulator exited"; }
    sleep 0.2
  done
  die "the emulator did not answer at $LOCAL_URL (log: $STATE/emulator.log)"
}

log "starting irsa-emulator on ${LISTEN[*]//--listen /} (state in $STATE/data)"
start_emulator

# 3. The emulated EKS cluster: its issuer and signing keys.
export AWS_CA_BUNDLE="$STATE/data/ca.pem"
CREATED="$("$EMULATOR" cluster create "$NAME" --endpoint-url "$LOCAL_URL" --ca-bundle "$STATE/data/ca.pem" \
  --data-dir "$STATE/data" --out-dir "$STATE/keys")"
printf '%s\n' "$CREATED" >&2
ISSUER="$(printf '%s\n' "$CREATED" | sed -n 's/^issuer:[[:space:]]*//p' | head -n1)"
[[ "$ISSUER" == https://* ]] || die "irsa-emulator cluster create printed no issuer"
# kube-apiserver runs as root in the node; the bind mount keeps the host's modes.
chmod 0644 "$STATE/keys/sa.pub"

# 4. The kind config, from the same flags the e2e control plane uses.
"$KIND_CONFIG_BIN" --name "$NAME" --issuer "$ISSUER" --key-dir "$STATE/keys" \
  --node-image "${KIND_NODE_IMAGE:-}" ${IRSA_KIND_KUBEADM_API:+--kubeadm-api "$IRSA_KIND_KUBEADM_API"} \
  > "$STATE/kind-config.yaml"

# 5. The kind cluster, then the webhook.
log "creating kind cluster $NAME${KIND_NODE_IMAGE:+ from $KIND_NODE_IMAGE}"
CLUSTER_CREATED=1
"$KIND" create cluster --name "$NAME" --config "$STATE/kind-config.yaml" --kubeconfig "$STATE/kubeconfig" \
  --wait 120s >&2
log "restarting the emulator with --kubeconfig (the pod identity webhook reads ServiceAccounts there)"
start_emulator --kubeconfig "$STATE/kubeconfig"
# The emulator cluster was registered before the API server existed (kind needs its keys first); now give it
# the API server's URL and CA, so DescribeCluster reports what EKS would (kubeconfigs built from it work).
SERVER="$("$KUBECTL" --kubeconfig "$STATE/kubeconfig" config view --raw -o jsonpath='{.clusters[0].cluster.server}')"
"$KUBECTL" --kubeconfig "$STATE/kubeconfig" config view --raw \
  -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > "$STATE/apiserver-ca.crt"
[[ "$SERVER" == https://* && -s "$STATE/apiserver-ca.crt" ]] ||
  die "the kind kubeconfig $STATE/kubeconfig has no server URL or CA data"
"$EMULATOR" cluster update "$NAME" --endpoint "$SERVER" --certificate-authority "$STATE/apiserver-ca.crt" \
  --endpoint-url "$LOCAL_URL" --ca-bundle "$STATE/data/ca.pem" --data-dir "$STATE/data" >&2
"$EMULATOR" webhook install --kubeconfig "$STATE/kubeconfig" --url "$URL" --data-dir "$STATE/data" >&2

# The API server now signs with the emulator cluster's key and names its issuer.
GOT="$("$KUBECTL" --kubeconfig "$STATE/kubeconfig" get --raw /.well-known/openid-configuration |
  sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p')"
[[ "$GOT" == "$ISSUER" ]] || die "the kind API server's issuer is '$GOT', expected $ISSUER (see $STATE/kind-config.yaml)"

# 6. Export lines.
{
  echo "export KUBECONFIG=$STATE/kubeconfig"
  [[ -z "${DOCKER_HOST:-}" ]] || echo "export DOCKER_HOST=$DOCKER_HOST"
  "$EMULATOR" env --endpoint-url "$LOCAL_URL" --data-dir "$STATE/data"
  echo "export IRSA_KIND_CLUSTER=$NAME"
  echo "export IRSA_KIND_ISSUER=$ISSUER"
} > "$STATE/env"
trap - EXIT
log "ready: kind cluster $NAME, issuer $ISSUER, emulator $LOCAL_URL (pods: $URL)"
log "use it with: eval \"\$(cat $STATE/env)\"   remove it with: scripts/kind-down.sh $NAME"
cat "$STATE/env"
