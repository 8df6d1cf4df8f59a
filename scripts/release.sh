#!/usr/bin/env bash
# Build kubectl-irsa release archives for krew and render the krew manifest.
#
#   scripts/release.sh [--out DIR] [--target-dir DIR] [--profile release|dev] [--target TRIPLE]...
#                      [--binary PATH] [--manifest-only] [--require-all-platforms]
#
# For each platform it builds (the host by default) it writes DIR/kubectl-irsa_<os>_<arch>.tar.gz holding the
# binary (kubectl-irsa, or kubectl-irsa.exe on windows) and LICENSE at the archive root. Then it renders
# krew-manifest.yaml (the committed template) into DIR/irsa.yaml — the file name krew-index and
# validate-krew-manifest expect — with the sha256 of every archive found in DIR filled in.
#
# Platforms: the host always; another platform only with --target TRIPLE, and only if that Rust target is
# installed (rustup target list --installed) — a missing toolchain is skipped with a warning (an error with
# --require-all-platforms). Cross-linking is the caller's business. The release workflow therefore runs this
# script once per platform on a native runner (linux/darwin/windows x amd64/arm64) with the same --out DIR
# collected as an artifact, then once more with --manifest-only --require-all-platforms over all five
# archives to render the complete manifest.
#
# Rendering: platforms whose archive is not in DIR are left out of DIR/irsa.yaml (with a warning), so the
# rendered manifest is always valid and installable for what was built; --require-all-platforms makes a missing
# archive an error instead.
#
# Options:
#   --out DIR             output directory (default: dist/)
#   --target-dir DIR      cargo target dir (default: $CARGO_TARGET_DIR or target/)
#   --profile P           cargo profile: release (default) or dev (fast build, fast compression: for tests)
#   --target TRIPLE       also build for this Rust target (repeatable)
#   --binary PATH         package this already-built host binary instead of building (tests use it,
#                         with --profile dev)
#   --manifest-only       build nothing; render DIR/irsa.yaml from the archives already in DIR
#   --require-all-platforms  fail unless all five platforms have an archive in DIR
#
# stdout: the path of the rendered manifest; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATE="$ROOT/krew-manifest.yaml"
OUT="$ROOT/dist"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PROFILE=release
TARGETS=()
BINARY=""
MANIFEST_ONLY=0
REQUIRE_ALL=0
ALL_PLATFORMS=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64)

log() { printf 'release.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="${2:?--out needs a DIR}"; shift 2 ;;
    --target-dir) TARGET_DIR="${2:?--target-dir needs a DIR}"; shift 2 ;;
    --profile) PROFILE="${2:?--profile needs release or dev}"; shift 2 ;;
    --target) TARGETS+=("${2:?--target needs a TRIPLE}"); shift 2 ;;
    --binary) BINARY="${2:?--binary needs a PATH}"; shift 2 ;;
    --manifest-only) MANIFEST_ONLY=1; shift ;;
    --require-all-platforms) REQUIRE_ALL=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case "$PROFILE" in
  release) PROFILE_DIR=release ;;
  dev|debug) PROFILE=dev; PROFILE_DIR=debug ;;
  *) die "--profile must be release or dev, not $PROFILE" ;;
esac
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# The plugin version: the workspace's, which the template's spec.version must match.
CARGO_VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
MANIFEST_VERSION="$(sed -n 's/^  version:[[:space:]]*\(v[^[:space:]]*\)[[:space:]]*$/\1/p' "$TEMPLATE" | head -n1)"
[[ "v$CARGO_VERSION" == "$MANIFEST_VERSION" ]] ||
  die "krew-manifest.yaml spec.version is '$MANIFEST_VERSION' but the workspace version is '$CARGO_VERSION': make them agree"
grep -q "releases/download/$MANIFEST_VERSION/" "$TEMPLATE" ||
  die "krew-manifest.yaml uris do not point at the $MANIFEST_VERSION release"

host_platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW*|MSYS*|CYGWIN*|Windows_NT) os=windows ;;
    *) die "unsupported host OS: $(uname -s)" ;;
  esac
  case "$(uname -m)" in
    x86_64|amd64) arch=amd64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) die "unsupported host architecture: $(uname -m)" ;;
  esac
  echo "${os}_${arch}"
}

triple_platform() {
  case "$1" in
    x86_64-unknown-linux-*) echo linux_amd64 ;;
    aarch64-unknown-linux-*) echo linux_arm64 ;;
    x86_64-apple-darwin) echo darwin_amd64 ;;
    aarch64-apple-darwin) echo darwin_arm64 ;;
    x86_64-pc-windows-*) echo windows_amd64 ;;
    *) return 1 ;;
  esac
}

# package PLATFORM BINARY: DIR/kubectl-irsa_<platform>.tar.gz with the binary and LICENSE at its root.
package() {
  local platform="$1" binary="$2" name=kubectl-irsa stage archive
  [[ "$platform" == windows_* ]] && name=kubectl-irsa.exe
  [[ -x "$binary" ]] || die "no executable at $binary"
  [[ -f "$ROOT/LICENSE" ]] || die "missing $ROOT/LICENSE"
  stage="$(mktemp -d)"
  cp "$binary" "$stage/$name"
  chmod 0755 "$stage/$name"
  cp "$ROOT/LICENSE" "$stage/LICENSE"
  chmod 0644 "$stage/LICENSE"
  archive="$OUT/kubectl-irsa_${platform}.tar.gz"
  local tarflags=()
  if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    # Reproducible: fixed order, owner and mtime (SOURCE_DATE_EPOCH or the last commit's time).
    local epoch="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}"
    tarflags=(--sort=name --owner=0 --group=0 --numeric-owner "--mtime=@$epoch")
  fi
  # dev archives (tests) hold large unoptimized binaries: favour speed over size there.
  local level=9
  [[ "$PROFILE" == dev ]] && level=1
  tar -C "$stage" "${tarflags[@]}" -cf - "$name" LICENSE | gzip -n "-$level" > "$archive.tmp"
  mv "$archive.tmp" "$archive"
  rm -rf "$stage"
  log "packaged $archive ($(sha256 "$archive"))"
}

cargo_build() { # cargo_build [TRIPLE]
  local args=(build --locked -p kubectl-irsa --bin kubectl-irsa --profile "$PROFILE" --target-dir "$TARGET_DIR")
  [[ -n "${1:-}" ]] && args+=(--target "$1")
  log "cargo ${args[*]}"
  (cd "$ROOT" && cargo "${args[@]}" >&2)
}

if [[ "$MANIFEST_ONLY" == 0 ]]; then
  HOST="$(host_platform)"
  if [[ -n "$BINARY" ]]; then
    "$BINARY" --version >/dev/null 2>&1 || die "$BINARY --version failed: not a working kubectl-irsa"
    package "$HOST" "$BINARY"
  else
    cargo_build
    exe=kubectl-irsa; [[ "$HOST" == windows_* ]] && exe=kubectl-irsa.exe
    package "$HOST" "$TARGET_DIR/$PROFILE_DIR/$exe"
  fi
  for triple in "${TARGETS[@]}"; do
    platform="$(triple_platform "$triple")" || die "--target $triple is not one of the krew platforms (${ALL_PLATFORMS[*]})"
    if ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
      msg="Rust target $triple is not installed (rustup target add $triple, plus a linker for it): skipping $platform"
      [[ "$REQUIRE_ALL" == 1 ]] && die "$msg"
      log "$msg"
      continue
    fi
    cargo_build "$triple"
    exe=kubectl-irsa; [[ "$platform" == windows_* ]] && exe=kubectl-irsa.exe
    package "$platform" "$TARGET_DIR/$triple/$PROFILE_DIR/$exe"
  done
fi

# Render DIR/irsa.yaml: fill each platform's checksum from its archive; leave out platforms with no archive.
fill=()
for platform in "${ALL_PLATFORMS[@]}"; do
  archive="$OUT/kubectl-irsa_${platform}.tar.gz"
  if [[ -f "$archive" ]]; then
    fill+=("SHA256_$(printf %s "$platform" | tr a-z A-Z)=$(sha256 "$archive")")
  elif [[ "$REQUIRE_ALL" == 1 ]]; then
    die "no archive for $platform in $OUT (--require-all-platforms)"
  else
    log "no archive for $platform in $OUT: leaving it out of the rendered manifest"
  fi
done
[[ ${#fill[@]} -gt 0 ]] || die "no archives in $OUT: nothing to put in the manifest"

RENDERED="$OUT/irsa.yaml"
awk -v fills="${fill[*]}" '
  BEGIN {
    n = split(fills, kv, " ")
    for (i = 1; i <= n; i++) { split(kv[i], p, "="); sum[p[1]] = p[2] }
  }
  function flush(   i, line, key) {
    if (nblock == 0) return
    key = ""
    for (i = 1; i <= nblock; i++)
      if (match(block[i], /SHA256_[A-Z0-9]+_[A-Z0-9]+/)) key = substr(block[i], RSTART, RLENGTH)
    if (key == "") { print "release.sh: platform block without a SHA256_<OS>_<ARCH> placeholder" > "/dev/stderr"; exit 2 }
    if (key in sum) {
      for (i = 1; i <= nblock; i++) { line = block[i]; sub(/SHA256_[A-Z0-9]+_[A-Z0-9]+/, sum[key], line); print line }
    }
    nblock = 0
  }
  # Comments at the top describe the template, not the rendered file.
  NR == 1, /^apiVersion:/ { if ($0 !~ /^apiVersion:/) next }
  /^  platforms:/ { print; inplat = 1; next }
  inplat && /^  - / { flush() }
  inplat && /^[^ ]/ { flush(); inplat = 0 }
  inplat { block[++nblock] = $0; next }
  { print }
  END { flush() }
' "$TEMPLATE" > "$RENDERED.tmp"
if grep -q 'SHA256_' "$RENDERED.tmp"; then
  rm -f "$RENDERED.tmp"
  die "a SHA256_ placeholder is left in the rendered manifest"
fi
{
  echo "# Rendered by scripts/release.sh from krew-manifest.yaml; do not edit."
  cat "$RENDERED.tmp"
} > "$RENDERED"
rm -f "$RENDERED.tmp"
log "rendered $RENDERED"
echo "$RENDERED"
