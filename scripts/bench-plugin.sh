#!/usr/bin/env bash
# The plugin part of scripts/bench.sh (run from there: it builds the binaries and puts them and the venv on PATH).
#   kubectl irsa create      vs  the seed's AWS CLI + kubectl sequence (seed 002, "AWS CLI" route: get-caller-
#                                identity, describe-cluster, create-role, attach-role-policy, kubectl create
#                                serviceaccount, kubectl annotate), interleaved, median of RUNS
#   kubectl irsa create -f   with SAS service accounts in one eksctl ClusterConfig
#
#   scripts/bench-plugin.sh WORK_DIR SAS RUNS
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1 sas=$2 iterations=$3
cache=${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

IRSA_CONTROLPLANE_BIN=$(scripts/controlplane.sh)
kubectl_bin=$(scripts/install-kubectl.sh "$cache/bin")
export IRSA_CONTROLPLANE_BIN PATH="$(dirname "$kubectl_bin"):$PATH"

# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
start_emulator "$work/plugin-emu"
eval "$(irsa-emulator env --data-dir "$work/plugin-emu" --endpoint-url "$emu_url")"
irsa-emulator cluster create bench --out-dir "$work/cluster" >/dev/null
issuer=$(aws eks describe-cluster --name bench --query cluster.identity.oidc.issuer --output text)
irsa-controlplane --issuer "$issuer" --signing-key "$work/cluster/sa.key" --public-key "$work/cluster/sa.pub" \
  --kubeconfig-out "$work/kubeconfig" >"$work/controlplane.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 900); do [ -f "$work/kubeconfig" ] && break; sleep 0.1; done
export KUBECONFIG=$work/kubeconfig
kubectl create namespace bench >/dev/null
kubectl create namespace fleet >/dev/null
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
for i in $(seq 1 "$iterations"); do # interleaved, so drift on a shared machine hits both alike
  t0=$(now_ms); plugin_once "$i"; t1=$(now_ms); cli_once "$i"; t2=$(now_ms)
  plugin_times+=($((t1 - t0))) cli_times+=($((t2 - t1)))
done
plugin_ms=$(printf '%s\n' "${plugin_times[@]}" | median)
cli_ms=$(printf '%s\n' "${cli_times[@]}" | median)

{
  printf 'apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: bench\n  region: us-east-1\n'
  printf 'iam:\n  withOIDC: true\n  serviceAccounts:\n'
  for i in $(seq 1 "$sas"); do
    printf '  - metadata: {name: app-%s, namespace: fleet}\n    attachPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n' "$i"
  done
} >"$work/fleet.yaml"
t0=$(now_ms)
kubectl irsa create -f "$work/fleet.yaml" >"$work/fleet.out" 2>"$work/fleet.progress" || { cat "$work/fleet.progress" >&2; exit 1; }
fleet_ms=$(($(now_ms) - t0))
bound=$(kubectl get serviceaccounts -n fleet -o jsonpath='{range .items[*]}{.metadata.annotations.eks\.amazonaws\.com/role-arn}{"\n"}{end}' | grep -c ':role/')

printf '\n%-46s %10s\n' "bind one service account to a role ($iterations runs)" "median ms"
printf '%-46s %10s\n' "kubectl irsa create" "$plugin_ms"
printf '%-46s %10s\n' "AWS CLI + kubectl (seed 002 sequence)" "$cli_ms"
awk -v p="$plugin_ms" -v c="$cli_ms" 'BEGIN { printf "%-46s %9.1fx\n", "ratio (AWS CLI sequence / kubectl irsa)", c / p }'
printf '\n%-46s %10s\n' "kubectl irsa create -f, $sas service accounts" "ms"
printf '%-46s %10s\n' "total ($bound annotated afterwards)" "$fleet_ms"
awk -v t="$fleet_ms" -v n="$sas" 'BEGIN { printf "%-46s %10.1f\n", "per service account", t / n }'
awk -v t="$fleet_ms" -v n="$sas" -v c="$cli_ms" \
  'BEGIN { printf "%-46s %9.1fx\n", "ratio (seed sequence x N / create -f)", c * n / t }'
[ "$bound" = "$sas" ] || { echo "only $bound of $sas service accounts were annotated" >&2; exit 1; }
