#!/usr/bin/env bash
# Fuzzes the emulator's and the policy crate's input handling with the cargo-fuzz targets in fuzz/:
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 300; TARGET defaults to all of them, run one after the other:
#   query_decoder     the Query-protocol form decoder (lists, tags, ints, bools, IAM input rules, error XML)
#   policy            irsa-policy parse, validate, evaluate and explain
#   token_verifier    STS's web identity token verification, which must accept only the harness's tokens
#   admission_review  the pod identity webhook's AdmissionReview handling and the patches it answers with
#
# Not run in CI (it needs nightly Rust and minutes per target). Each target starts from its committed seeds
# (fuzz/corpus/TARGET) and past crashes (fuzz/regressions/TARGET); what it discovers goes to the working corpus
# fuzz/target/corpus/TARGET (kept between runs, not committed), a crash to fuzz/artifacts/TARGET/, and the log to
# fuzz/target/logs/TARGET.log. The script says per target whether it crashed, and exits non-zero if any did.
#
# Reproduce a crash:   cd fuzz && cargo +nightly fuzz run -s none TARGET artifacts/TARGET/crash-…
# Shrink the seeds:    cd fuzz && cargo +nightly fuzz cmin -s none TARGET corpus/TARGET
#
# FUZZ_SANITIZER (default none: the code under test is safe Rust, and without ASan it runs about twice as
# fast) is passed to cargo fuzz as -s; FUZZ_ARGS adds libFuzzer options (e.g. "-jobs=2 -workers=2").
set -euo pipefail

cd "$(dirname "$0")/.."
ALL_TARGETS=(query_decoder policy token_verifier admission_review)

seconds=300
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
  if [[ ! -f fuzz/fuzz_targets/$target.rs ]]; then
    echo "fuzz.sh: unknown target $target (targets: ${ALL_TARGETS[*]})" >&2
    exit 2
  fi
done
sanitizer=${FUZZ_SANITIZER:-none}
read -r -a extra_args <<<"${FUZZ_ARGS:-}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

cd fuzz
echo "fuzz.sh: building (sanitizer: $sanitizer)" >&2
cargo +nightly fuzz build -s "$sanitizer"

mkdir -p target/logs
failed=()
summary=()
for target in "${targets[@]}"; do
  mkdir -p "target/corpus/$target" "corpus/$target" "regressions/$target"
  log=target/logs/$target.log
  echo "fuzz.sh: $target for ${seconds}s (log: fuzz/$log)" >&2
  status=0
  # The first corpus directory is the one libFuzzer adds to; the committed ones are only read.
  cargo +nightly fuzz run -s "$sanitizer" "$target" \
    "target/corpus/$target" "corpus/$target" "regressions/$target" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${extra_args[@]}" >"$log" 2>&1 ||
    status=$?
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1)
  if [[ $status -eq 0 ]]; then
    summary+=("ok       $target: ${runs:-?} runs in ${seconds}s")
  else
    failed+=("$target")
    artifact=$(grep -Eo 'Test unit written to [^ ]+' "$log" | tail -n 1 | sed 's/Test unit written to //')
    summary+=("CRASHED  $target (exit $status): ${artifact:-see fuzz/$log}")
    grep -E -m 5 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | sed 's/^/         /' >>"target/logs/summary.tmp" || true
    while IFS= read -r line; do summary+=("$line"); done <"target/logs/summary.tmp"
    rm -f target/logs/summary.tmp
  fi
done

printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: crashes in: ${failed[*]}" >&2
  exit 1
fi
