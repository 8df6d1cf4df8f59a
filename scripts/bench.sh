#!/usr/bin/env bash
# Benchmarks (not tests): wall time of binding a service account to a role, measured in the same run on the
# same emulator and control plane, and printed as a ratio.
#
#   kubectl irsa create          vs   the seed's AWS CLI + kubectl sequence (seed 002, "AWS CLI" route:
#                                     get-caller-identity, describe-cluster, create-role, attach-role-policy,
#                                     kubectl create serviceaccount, kubectl annotate)
#
#   scripts/bench.sh [-n ITERATIONS]      (BENCH_PROFILE=dev to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
iterations=7
[ "${1:-}" = "-n" ] && iterations=$2
profile=${BENCH_PROFILE:-release}
cache=${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
work=$(mktemp -d /tmp/irsa-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "building ($profile) ..." >&2
cargo build --quiet --profile "$profile" --bins -p irsa-emulator -p irsa-e2e -p kubectl-irsa
dir=${CARGO_TARGET_DIR:-$root/target}/$([ "$profile" = dev ] && echo debug || echo "$profile")
[ -x "$cache/venv/bin/aws" ] || { python3 -m venv "$cache/venv"; "$cache/venv/bin/pip" install -q -r e2e/python/requirements.txt; }
IRSA_CONTROLPLANE_BIN=$(scripts/controlplane.sh)
kubectl_bin=$(scripts/install-kubectl.sh "$cache/bin")
export IRSA_CONTROLPLANE_BIN PATH="$dir:$cache/venv/bin:$(dirname "$kubectl_bin"):$PATH"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
irsa-emulator serve --data-dir "$work/emulator" --listen "127.0.0.1:$port" >"$work/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -f "$work/emulator/ca.pem" ] && curl -sf --cacert "$work/emulator/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
eval "$(irsa-emulator env --data-dir "$work/emulator" --endpoint-url "https://127.0.0.1:$port")"
irsa-emulator cluster create bench --out-dir "$work/cluster" >/dev/null
issuer=$(aws eks describe-cluster --name bench --query cluster.identity.oidc.issuer --output text)
irsa-controlplane --issuer "$issuer" --signing-key "$work/cluster/sa.key" --public-key "$work/cluster/sa.pub" \
  --kubeconfig-out "$work/kubeconfig" >"$work/controlplane.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 900); do [ -f "$work/kubeconfig" ] && break; sleep 0.1; done
export KUBECONFIG=$work/kubeconfig
kubectl create namespace bench >/dev/null
kubectl irsa oidc associate --cluster bench >/dev/null

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

plugin_once() {
  kubectl irsa create --name "sa-plugin-$1" -n bench --cluster bench \
    --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess >/dev/null
}

# Seed 002's AWS CLI route, as a user pastes it (one role per service account).
cli_once() {
  local sa="sa-cli-$1" account_id oidc_provider
  kubectl create serviceaccount "$sa" -n bench >/dev/null
  account_id=$(aws sts get-caller-identity --query "Account" --output text)
  oidc_provider=$(aws eks describe-cluster --name bench --query "cluster.identity.oidc.issuer" --output text | sed -e "s/^https:\/\///")
  cat >"$work/trust.json" <<EOF
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::$account_id:oidc-provider/$oidc_provider"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"$oidc_provider:aud":"sts.amazonaws.com","$oidc_provider:sub":"system:serviceaccount:bench:$sa"}}}]}
EOF
  aws iam create-role --role-name "role-$sa" --assume-role-policy-document "file://$work/trust.json" >/dev/null
  aws iam attach-role-policy --role-name "role-$sa" --policy-arn=arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
  kubectl annotate serviceaccount -n bench "$sa" "eks.amazonaws.com/role-arn=arn:aws:iam::$account_id:role/role-$sa" >/dev/null
}

plugin_times=() cli_times=()
for i in $(seq 1 "$iterations"); do   # interleaved, so drift on a shared machine hits both alike
  t0=$(now_ms); plugin_once "$i"; t1=$(now_ms); cli_once "$i"; t2=$(now_ms)
  plugin_times+=($((t1 - t0))); cli_times+=($((t2 - t1)))
done
plugin_ms=$(printf '%s\n' "${plugin_times[@]}" | median)
cli_ms=$(printf '%s\n' "${cli_times[@]}" | median)
printf '\n%-46s %10s\n' "bind one service account to a role ($iterations runs)" "median ms"
printf '%-46s %10s\n' "kubectl irsa create" "$plugin_ms"
printf '%-46s %10s\n' "AWS CLI + kubectl (seed 002 sequence)" "$cli_ms"
awk -v p="$plugin_ms" -v c="$cli_ms" 'BEGIN { printf "%-46s %9.1fx\n", "ratio (AWS CLI sequence / kubectl irsa)", c / p }'
