#!/usr/bin/env bash
# The whole IRSA flow on this machine, no AWS account: the emulator (IAM, STS, EKS, OIDC issuer, pod identity
# webhook) and Kubernetes, with narration.
#
#   scripts/demo.sh          build what is missing, start everything, run the flow, stay up
#   scripts/demo.sh down     stop everything the demo started and remove its state
#
# Where a Docker engine can run (yours, or — as root on Debian — one of the demo's own, scripts/docker-private.sh)
# the pods are real: a kind cluster from scripts/kind-up.sh (node image built here offline with
# scripts/kind-node-image.sh unless KIND_NODE_IMAGE names one), the seed's aws-cli pod runs and
# `kubectl logs` shows the role. Where none can, it says so and plays the kubelet against a real local
# control plane (etcd + kube-apiserver from Go modules) instead: the pod's token and env given to the AWS CLI.
#
# IRSA_DEMO_NO_DOCKER=1 takes the second path even where Docker could run.
#
# State lives in ${IRSA_DEMO_DIR:-/tmp/irsa-demo} (and the kind state in the cache); the environment stays
# up afterwards so you can explore with the export lines it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=${IRSA_DEMO_DIR:-/tmp/irsa-demo}
port=${IRSA_DEMO_PORT:-8443}
cache=${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
cluster=irsa-demo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

# bind_and_explain CLUSTER STEP: kubectl irsa (installed alone on PATH, as krew would) binds the seed's service
# account — the OIDC provider, the plan, the binding — then the doctor explains it; sets role_arn. Writes the
# seed's pod (../shared/seeds/001) to pod.yaml. Run from $demo.
bind_and_explain() {
  local cluster=$1 step=$2
  say "$step. kubectl irsa: the IAM OIDC provider for the cluster, then the binding — the plan first"
  mkdir -p bin && cp "$target/kubectl-irsa" bin/
  export PATH="$demo/bin:$(dirname "$IRSA_KUBECTL"):$PATH"
  run kubectl irsa oidc associate --cluster "$cluster"
  run kubectl irsa create --name my-service-account -n default --cluster "$cluster" \
    --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --dry-run
  run kubectl irsa create --name my-service-account -n default --cluster "$cluster" \
    --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
  role_arn=$(kubectl get serviceaccount my-service-account -n default \
    -o jsonpath='{.metadata.annotations.eks\.amazonaws\.com/role-arn}')
  say "$((step + 1)). The doctor: does the binding work, and why"
  run kubectl irsa describe my-service-account -n default || true
  cat >pod.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: irsa-test
  namespace: default
spec:
  serviceAccountName: my-service-account
  containers:
  - name: irsa
    image: public.ecr.aws/aws-cli/aws-cli:2.25.4
    command: ['sh', '-c', 'aws sts "get-caller-identity" && sleep 3600']
EOF
}

stop_all() {
  for pidfile in "$demo"/*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  if [ -d "$cache/kind/$cluster" ]; then scripts/kind-down.sh "$cluster" || true; fi
  if [ -f "$demo/docker-private" ]; then scripts/docker-private.sh stop || true; fi
}

if [ "${1:-}" = "down" ]; then
  stop_all
  rm -rf "$demo"
  echo "demo stopped and $demo removed"
  exit 0
fi

stop_all
rm -rf "$demo"
mkdir -p "$demo"

say "Building what the demo needs (cached after the first run)"
if [ ! -x "$cache/venv/bin/aws" ]; then
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check -r e2e/python/requirements.txt
fi
export PATH="$cache/venv/bin:$PATH"
cargo build --quiet --bins -p irsa-emulator -p irsa-e2e -p kubectl-irsa
target=${CARGO_TARGET_DIR:-$root/target}/debug
IRSA_KUBECTL=$(scripts/install-kubectl.sh "$cache/bin")
export IRSA_KUBECTL
kubectl() { "$IRSA_KUBECTL" "$@"; }
emulator() { "$target/irsa-emulator" "$@"; }

# Real pods need a Docker engine: the user's, or one of the demo's own where it may start one.
docker_reason=
if [ "${IRSA_DEMO_NO_DOCKER:-}" = 1 ]; then
  docker_reason="IRSA_DEMO_NO_DOCKER=1 asks for the demo without Docker"
elif docker info >/dev/null 2>&1; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "Starting a Docker engine of the demo's own (Debian's docker.io; its own socket, bridges and data)"
  scripts/install-docker.sh
  # `demo.sh down` stops it only if the demo started it.
  scripts/docker-private.sh env >/dev/null 2>&1 || touch "$demo/docker-private"
  docker_env=$(scripts/docker-private.sh start) || { echo "demo.sh: the demo's Docker engine did not start (above)" >&2; exit 1; }
  eval "$docker_env"
  touch "$demo/docker-engine-ours"
else
  docker_reason="no Docker engine answers here, and the demo can start one only as root on Debian"
fi
if [ -z "$docker_reason" ]; then
  # shellcheck source=scripts/demo-kind.sh
  . scripts/demo-kind.sh
  exit 0
fi
say "No real pods this time: $docker_reason. Playing the kubelet against a local control plane instead."
IRSA_CONTROLPLANE_BIN=$(scripts/controlplane.sh)
export IRSA_CONTROLPLANE_BIN
export KUBECONFIG="$demo/kubeconfig"   # not --kubeconfig: kubectl refuses flags before a plugin's name

start_emulator() {
  "$target/irsa-emulator" serve --data-dir "$demo/emulator" --listen "127.0.0.1:$port" "$@" \
    >>"$demo/emulator.log" 2>&1 &
  echo $! >"$demo/emulator.pid"
  for _ in $(seq 1 100); do
    curl -sf --cacert "$demo/emulator/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the emulator did not start; see $demo/emulator.log" >&2
  exit 1
}

say "1. Start the emulator: one HTTPS port for IAM, STS, EKS and the OIDC issuers"
start_emulator
eval "$(emulator env --data-dir "$demo/emulator" --endpoint-url "https://127.0.0.1:$port")"
echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_CA_BUNDLE=$AWS_CA_BUNDLE"

say "2. Create an emulated EKS cluster: its issuer and the key its API server signs tokens with"
run emulator cluster create demo --out-dir "$demo/cluster"
issuer=$(aws eks describe-cluster --name demo --query cluster.identity.oidc.issuer --output text)

say "3. Start a real kube-apiserver that issues tokens for that issuer"
"$target/irsa-controlplane" --issuer "$issuer" --signing-key "$demo/cluster/sa.key" \
  --public-key "$demo/cluster/sa.pub" --kubeconfig-out "$demo/kubeconfig" >"$demo/controlplane.log" 2>&1 &
echo $! >"$demo/controlplane.pid"
for _ in $(seq 1 900); do [ -f "$demo/kubeconfig" ] && break; sleep 0.1; done
[ -f "$demo/kubeconfig" ] || { echo "control plane did not start; see $demo/controlplane.log" >&2; exit 1; }
run kubectl version

say "4. Restart the emulator watching that cluster (state survives restarts) and register its webhook"
kill "$(cat "$demo/emulator.pid")"; wait "$(cat "$demo/emulator.pid")" 2>/dev/null || true
start_emulator --kubeconfig "$demo/kubeconfig"
run emulator webhook install --kubeconfig "$demo/kubeconfig" --url "https://127.0.0.1:$port" \
  --data-dir "$demo/emulator"

cd "$demo"
bind_and_explain demo 5
say "7. The seed's aws-cli pod: the webhook injects the token volume and the AWS env"
run kubectl apply -f pod.yaml
kubectl get pod irsa-test -o jsonpath='{range .spec.containers[0].env[*]}{.name}={.value}{"\n"}{end}'

say "8. Playing the kubelet (no nodes here): project the token, run the AWS CLI with the pod's env"
kubectl create token my-service-account --audience sts.amazonaws.com --duration 1h >token
pod_env=$(kubectl get pod irsa-test -o jsonpath='{range .spec.containers[0].env[*]}{.name}={.value}{"\n"}{end}' \
  | sed -e "s#^AWS_WEB_IDENTITY_TOKEN_FILE=.*#AWS_WEB_IDENTITY_TOKEN_FILE=$demo/token#" \
        -e "s#^AWS_CA_BUNDLE=.*#AWS_CA_BUNDLE=$AWS_CA_BUNDLE#")
if ! grep -q '^AWS_ROLE_ARN=' <<<"$pod_env"; then
  echo "(the webhook did not mutate the pod; using the env it would inject)"
  pod_env="AWS_ROLE_ARN=$role_arn
AWS_WEB_IDENTITY_TOKEN_FILE=$demo/token
AWS_ENDPOINT_URL_STS=$AWS_ENDPOINT_URL
AWS_CA_BUNDLE=$AWS_CA_BUNDLE
AWS_REGION=$AWS_REGION"
fi
# shellcheck disable=SC2046
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL $(echo "$pod_env" | tr '\n' ' ') \
  aws sts get-caller-identity

say "9. Why a binding fails: a token for another service account is denied, and the emulator says why"
kubectl create serviceaccount intruder -n default >/dev/null
kubectl create token intruder --audience sts.amazonaws.com >intruder-token
aws sts assume-role-with-web-identity --role-arn "$role_arn" \
  --role-session-name intruder --web-identity-token "$(cat intruder-token)" 2>&1 | tail -1 || true
run emulator audit --data-dir "$demo/emulator" | tail -2

say "Still running. To explore:"
cat <<EOF
  eval "\$($target/irsa-emulator env --data-dir $demo/emulator --endpoint-url https://127.0.0.1:$port)"
  export KUBECONFIG=$demo/kubeconfig PATH=$(dirname "$IRSA_KUBECTL"):\$PATH
  $target/irsa-emulator audit -f --data-dir $demo/emulator     # every STS decision, with reasons
  scripts/demo.sh down                                           # stop and clean up
EOF
