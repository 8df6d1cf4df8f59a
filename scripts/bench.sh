#!/usr/bin/env bash
# Benchmarks (not tests): irsa-emulator against moto (PyPI moto[server], what users reach for today), measured
# side by side in the same run on the same machine, printed as tables with ratios. Load comes from irsa-load
# (bench/), one closed-loop client per connection, the same code for both servers.
#
#   scripts/bench.sh [SECTION...]     SECTION: startup sts iam scale plugin kind (default: all of them)
#
#   startup  process start -> first 200 (/healthz; moto: /moto-api/), median of BENCH_RUNS runs; RSS when idle
#   sts      AssumeRoleWithWebIdentity with a valid token, BENCH_CONNECTIONS connections for BENCH_SECONDS:
#            req/s, p50/p99, RSS idle and peak. The emulator verifies everything (HTTPS, JWKS signature, exp,
#            aud, issuer, trust policy); moto checks nothing and is given plain HTTP, its default.
#   iam      CreateRole / GetRole / AttachRolePolicy rounds, SigV4-signed, same load and report
#   scale    the emulator alone: GetRole p99 and ListRoles per-page time at 1,000 roles and at BENCH_ROLES
#   plugin   `kubectl irsa create` vs the seed's AWS CLI + kubectl sequence, and `create -f` with BENCH_SAS
#            service accounts (local control plane from Go modules)
#   kind     scripts/kind-up.sh to the first assumed-role ARN in a real pod's log, median of BENCH_KIND_RUNS (3),
#            warm and cold image caches (scripts/bench-kind.sh; needs a Docker engine, else it says so)
#
# Environment: BENCH_SECONDS (10), BENCH_CONNECTIONS (16), BENCH_RUNS (7), BENCH_ROLES (100000),
# BENCH_SAS (1000), BENCH_KIND_RUNS (3), BENCH_PROFILE (release; dev skips the optimized build but measures a debug binary).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(startup sts iam scale plugin kind)
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-16}
runs=${BENCH_RUNS:-7}
roles=${BENCH_ROLES:-100000}
sas=${BENCH_SAS:-1000}
profile=${BENCH_PROFILE:-release}
cache=${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
work=$(mktemp -d /tmp/irsa-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
wants() { [[ " ${sections[*]} " == *" $1 "* ]]; }

echo "building ($profile) ..." >&2
# Always the same package set: another set unifies features differently and rebuilds shared crates.
cargo build --quiet --profile "$profile" --bins -p irsa-emulator -p irsa-bench -p irsa-e2e -p kubectl-irsa
bin=${CARGO_TARGET_DIR:-$root/target}/$([ "$profile" = dev ] && echo debug || echo "$profile")

venv=$cache/bench-venv
want=$(cat e2e/python/requirements.txt bench/requirements.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/moto_server" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  echo "installing moto and the AWS CLI into $venv ..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r e2e/python/requirements.txt -r bench/requirements.txt
  echo "$want" >"$venv/.requirements.sha256"
fi
export PATH="$bin:$venv/bin:$PATH"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

# field JSON KEY.PATH -> the value, numbers rounded to 1 decimal
field() { python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): v=v[k]
print(round(v,1) if isinstance(v,float) else v)' "$1" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
row() { printf '%-34s %22s %22s %10s\n' "$@"; }

start_moto() {
  local port
  port=$(free_port)
  moto_server -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!; pids+=("$moto_pid")
  moto_url=http://127.0.0.1:$port
  for _ in $(seq 1 300); do curl -sf "$moto_url/moto-api/" >/dev/null && return; sleep 0.05; done
  echo "moto did not start: $(cat "$work/moto.log")" >&2; exit 1
}

emulator_env() { eval "$(irsa-emulator env --endpoint-url "$emu_url" --data-dir "$1")"; export AWS_CA_BUNDLE=$emu_ca; }
moto_env() {
  export AWS_ENDPOINT_URL=$moto_url AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  unset AWS_CA_BUNDLE AWS_SESSION_TOKEN
}

load_table() { # TITLE EMULATOR_JSON MOTO_JSON EMU_IDLE_KIB MOTO_IDLE_KIB
  printf '\n%s (%s connections, %s s)\n' "$1" "$connections" "$seconds"
  row "" "irsa-emulator" "moto" "ratio"
  row "requests/s" "$(field "$2" requests_per_second)" "$(field "$3" requests_per_second)" \
    "$(ratio "$(field "$2" requests_per_second)" "$(field "$3" requests_per_second)")"
  row "p50 ms" "$(field "$2" p50_ms)" "$(field "$3" p50_ms)" "$(ratio "$(field "$3" p50_ms)" "$(field "$2" p50_ms)")"
  row "p99 ms" "$(field "$2" p99_ms)" "$(field "$3" p99_ms)" "$(ratio "$(field "$3" p99_ms)" "$(field "$2" p99_ms)")"
  row "errors / requests" "$(field "$2" errors) / $(field "$2" requests)" "$(field "$3" errors) / $(field "$3" requests)" ""
  row "RSS idle MiB" "$(mib "$4")" "$(mib "$5")" "$(ratio "$5" "$4")"
  row "RSS peak under load MiB" "$(mib "$(field "$2" rss.peak_kib)")" "$(mib "$(field "$3" rss.peak_kib)")" \
    "$(ratio "$(field "$3" rss.peak_kib)" "$(field "$2" rss.peak_kib)")"
  for report in "$2" "$3"; do
    [ "$(field "$report" errors)" = 0 ] || echo "  first error: $(field "$report" first_error)"
  done
}

if wants startup; then
  emu=$(irsa-load startup --runs "$runs" -- irsa-emulator serve --http --listen '127.0.0.1:{port}' --data-dir '{dir}')
  moto=$(irsa-load startup --runs "$runs" --path /moto-api/ -- moto_server -p '{port}')
fi

if wants startup || wants sts || wants iam; then
  start_emulator "$work/emu"
  start_moto
  sleep 1
  emu_idle=$(rss_kib "$emu_pid") moto_idle=$(rss_kib "$moto_pid")
  load=(--connections "$connections" --duration "$seconds" --warmup 2)
fi

if wants startup; then
  printf '\nStart-up: process start -> first 200, median of %s (both plain HTTP; the emulator with a fresh data dir)\n' "$runs"
  row "" "irsa-emulator" "moto" "ratio"
  row "ms" "$(field "$emu" median_ms)" "$(field "$moto" median_ms)" \
    "$(ratio "$(field "$moto" median_ms)" "$(field "$emu" median_ms)")"
  row "RSS idle MiB (1 s after start)" "$(mib "$emu_idle")" "$(mib "$moto_idle")" "$(ratio "$moto_idle" "$emu_idle")"
fi

if wants sts; then
  ( # a cluster, its OIDC provider and a role trusting one service account, exactly as IRSA sets them up
    emulator_env "$work/emu"
    irsa-emulator cluster create bench --out-dir "$work/keys" >/dev/null
    issuer=$(aws eks describe-cluster --name bench --query cluster.identity.oidc.issuer --output text)
    provider_arn=$(aws iam create-open-id-connect-provider --url "$issuer" --client-id-list sts.amazonaws.com \
      --query OpenIDConnectProviderArn --output text)
    p=${issuer#https://}
    printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:aud":"sts.amazonaws.com","%s:sub":"system:serviceaccount:bench:app"}}}]}' \
      "$provider_arn" "$p" "$p" >"$work/trust.json"
    aws iam create-role --role-name bench-sts --assume-role-policy-document "file://$work/trust.json" \
      --query Role.Arn --output text >"$work/role_arn"
    irsa-emulator token --cluster bench -n bench --service-account app >"$work/token"
  )
  emu=$(irsa-load sts "${load[@]}" --url "$emu_url" --ca-file "$emu_ca" --pid "$emu_pid" \
    --role-arn "$(cat "$work/role_arn")" --token-file "$work/token")
  moto=$(irsa-load sts "${load[@]}" --url "$moto_url" --pid "$moto_pid" \
    --role-arn arn:aws:iam::123456789012:role/bench-sts --token-file "$work/token")
  load_table "STS AssumeRoleWithWebIdentity: emulator over HTTPS with full verification; moto over HTTP, verifying nothing" \
    "$emu" "$moto" "$emu_idle" "$moto_idle"
fi

if wants iam; then
  policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
  emu_policy=$(emulator_env "$work/emu"; aws iam create-policy --policy-name bench --policy-document "$policy" --query Policy.Arn --output text)
  moto_policy=$(moto_env; aws iam create-policy --policy-name bench --policy-document "$policy" --query Policy.Arn --output text)
  emu=$(irsa-load iam-mix "${load[@]}" --url "$emu_url" --ca-file "$emu_ca" --pid "$emu_pid" --policy-arn "$emu_policy")
  moto=$(AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing irsa-load iam-mix "${load[@]}" --url "$moto_url" \
    --pid "$moto_pid" --account 123456789012 --policy-arn "$moto_policy")
  load_table "IAM CreateRole/GetRole/AttachRolePolicy (SigV4; the emulator verifies it, moto does not)" \
    "$emu" "$moto" "$emu_idle" "$moto_idle"
fi

if wants scale; then
  start_emulator "$work/scale"
  measure_scale() {
    local get list
    get=$(irsa-load get-role --url "$emu_url" --ca-file "$emu_ca" --connections "$connections" --duration 5 \
      --warmup 1 --role-name scale-0-0)
    list=$(irsa-load list-roles --url "$emu_url" --ca-file "$emu_ca" --runs 3)
    echo "$(field "$get" p99_ms) $(field "$get" requests_per_second) $(field "$list" median_ms) $(field "$list" roles)"
  }
  created=$(irsa-load create-roles --url "$emu_url" --ca-file "$emu_ca" --connections "$connections" --count 1000)
  read -r get_small rps_small list_small n_small <<<"$(measure_scale)"
  created=$(irsa-load create-roles --url "$emu_url" --ca-file "$emu_ca" --connections "$connections" \
    --count $((roles - 1000)) --prefix more)
  [ "$(field "$created" errors)" = 0 ] || { echo "creating roles failed: $(field "$created" first_error)" >&2; exit 1; }
  read -r get_big rps_big list_big n_big <<<"$(measure_scale)"
  per_page() { awk -v ms="$1" -v n="$2" 'BEGIN { printf "%.2f", ms / ((n + 999) / 1000 > 1 ? int((n + 999) / 1000) : 1) }'; }
  printf '\nScale: the emulator with %s roles vs %s (created at %s roles/s over HTTPS, each committed)\n' \
    "$n_big" "$n_small" "$(field "$created" requests_per_second)"
  row "" "$n_small roles" "$n_big roles" "after/before"
  row "GetRole p99 ms" "$get_small" "$get_big" "$(ratio "$get_big" "$get_small")"
  row "GetRole requests/s" "$rps_small" "$rps_big" "$(ratio "$rps_big" "$rps_small")"
  row "ListRoles ms per 1000-role page" "$(per_page "$list_small" "$n_small")" "$(per_page "$list_big" "$n_big")" \
    "$(ratio "$(per_page "$list_big" "$n_big")" "$(per_page "$list_small" "$n_small")")"
  row "ListRoles all pages ms" "$list_small" "$list_big" ""
  row "RSS MiB" "" "$(mib "$(rss_kib "$emu_pid")")" ""
fi

if wants plugin; then
  scripts/bench-plugin.sh "$work" "$sas" "$runs"
fi

if wants kind; then
  scripts/bench-kind.sh "$work/kind" "$bin" "${BENCH_KIND_RUNS:-3}"
fi
