#!/usr/bin/env bash
# Benchmark (scripts/bench.sh kind): scripts/kind-up.sh to the first assumed-role ARN in the seed pod's logs —
# kind cluster, emulator, `kubectl irsa oidc associate` + `create`, `kind load` of the aws-cli image, the
# seed's pod applied, its log read — median of RUNS, with warm caches (the images in the engine) and cold ones
# (the images removed from the engine, so the node and aws-cli images load from their saved tarballs; Go and
# cargo builds stay cached: a from-scratch image build is the "Images built offline" phase of scripts/test.sh).
#
#   scripts/bench-kind.sh WORK_DIR BIN_DIR RUNS
#
# Needs a Docker engine (DOCKER_HOST; scripts/docker-private.sh starts one) and what scripts/test.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1 bin=$2 runs=$3
cache=${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

docker info >/dev/null 2>&1 || {
  echo "kind: skipped — no Docker engine answers (eval \"\$(scripts/docker-private.sh start)\" as root)" >&2
  exit 0
}
command -v kind >/dev/null 2>&1 || PATH="$(dirname "$(scripts/kind-tool.sh)"):$PATH"
kubectl_bin=$(scripts/install-kubectl.sh "$cache/bin")
mkdir -p "$work/plugin"
cp "$bin/kubectl-irsa" "$work/plugin/"
aws_cli=public.ecr.aws/aws-cli/aws-cli:2.25.4

seed_pod='apiVersion: v1
kind: Pod
metadata:
  name: irsa-test
  namespace: default
spec:
  serviceAccountName: app
  containers:
  - name: irsa
    image: public.ecr.aws/aws-cli/aws-cli:2.25.4
    command: ["sh", "-c", "aws sts \"get-caller-identity\" && sleep 3600"]'

# once NAME: seconds from kind-up.sh to the ARN in the pod's log
once() {
  local name=$1 start node_image
  start=$(date +%s.%N)
  node_image=$(scripts/kind-node-image.sh 2>>"$work/$name.log")
  scripts/local-images.sh aws-cli >/dev/null 2>>"$work/$name.log"
  KIND_NODE_IMAGE=$node_image IRSA_EMULATOR_BIN=$bin/irsa-emulator IRSA_KIND_CONFIG_BIN=$bin/irsa-kind-config \
    IRSA_KIND_PORT=$(free_port) IRSA_KUBECTL=$kubectl_bin scripts/kind-up.sh "$name" >"$work/$name.env" 2>>"$work/$name.log"
  (
    eval "$(cat "$work/$name.env")"
    export PATH="$work/plugin:$(dirname "$kubectl_bin"):$PATH"
    kubectl irsa oidc associate --cluster "$name" >/dev/null
    kubectl irsa create --name app -n default --cluster "$name" \
      --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess >/dev/null
    kind load docker-image --name "$name" "$aws_cli" >/dev/null 2>&1
    echo "$seed_pod" | kubectl apply -f - >/dev/null
    for _ in $(seq 1 600); do
      kubectl logs irsa-test 2>/dev/null | grep -q '"Arn": "arn:aws:sts::' && exit 0
      sleep 0.2
    done
    echo "no ARN in the pod's log after 2 minutes" >&2
    exit 1
  ) >>"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; scripts/kind-down.sh "$name" || true; exit 1; }
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }'
  scripts/kind-down.sh "$name" >/dev/null 2>&1
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The engine must hold the images before the warm runs; the first call builds them if nothing is cached.
scripts/kind-node-image.sh >/dev/null
scripts/local-images.sh aws-cli >/dev/null
warm=() cold=()
for i in $(seq 1 "$runs"); do
  warm+=("$(once "bench-warm-$i")")
done
for i in $(seq 1 "$runs"); do
  docker rmi -f "$(scripts/kind-node-image.sh 2>/dev/null)" "$aws_cli" \
    "$(docker images --format '{{.Repository}}:{{.Tag}}' irsa-local/aws-cli | head -n1)" >/dev/null
  cold+=("$(once "bench-cold-$i")")
done
w=$(printf '%s\n' "${warm[@]}" | median)
c=$(printf '%s\n' "${cold[@]}" | median)
printf '\nkind: scripts/kind-up.sh to the assumed-role ARN in the seed pod'"'"'s log, median of %s (s)\n' "$runs"
printf '%-34s %22s %22s %10s\n' "" "warm (images in engine)" "cold (loaded from cache)" "cold/warm"
printf '%-34s %22s %22s %10s\n' "seconds" "$w" "$c" "$(awk -v a="$c" -v b="$w" 'BEGIN { printf "%.1fx", a / b }')"
printf '%-34s %22s %22s\n' "runs" "${warm[*]}" "${cold[*]}"
