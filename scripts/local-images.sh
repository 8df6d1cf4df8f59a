#!/usr/bin/env bash
# The images the kind and container tests use besides the node image, built on this machine (no registry is
# reachable: nothing is pulled). Each prints its name on stdout.
#
#   scripts/local-images.sh aws-cli              # public.ecr.aws/aws-cli/aws-cli:2.25.4, the image seed 001's
#                                                # pod names: Debian trixie + Debian's awscli (2.23, which reads
#                                                # AWS_ENDPOINT_URL_STS and the web identity token file)
#   scripts/local-images.sh debian               # irsa-local/debian-bookworm:<hash>: minimal bookworm with CA
#                                                # certificates, the emulator image's runtime base
#   scripts/local-images.sh emulator [BINARY]    # irsa-emulator:local from ./Dockerfile, with BINARY (default:
#                                                # the cargo-built target/debug/irsa-emulator) as its prebuilt stage
#
# Cached by content hash like scripts/kind-node-image.sh (scripts/images-lib.sh). Needs a Docker engine
# (DOCKER_HOST; scripts/docker-private.sh starts one), root and mmdebstrap for the Debian roots.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf 'local-images.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=scripts/images-lib.sh
. "$ROOT/scripts/images-lib.sh"

AWS_CLI_IMAGE=public.ecr.aws/aws-cli/aws-cli:2.25.4
AWS_CLI_PACKAGES=awscli,ca-certificates
DEBIAN_PACKAGES=ca-certificates

WORK=
trap '[[ -z "$WORK" ]] || rm -rf "$WORK"' EXIT

build_aws_cli() {
  WORK="$(work_dir aws-cli)"
  debian_rootfs "$WORK/root" trixie "$AWS_CLI_PACKAGES"
  import_dir "$WORK/root" "$1" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENTRYPOINT ["/usr/bin/aws"]'
}

build_debian() {
  WORK="$(work_dir debian)"
  debian_rootfs "$WORK/root" bookworm "$DEBIAN_PACKAGES"
  import_dir "$WORK/root" "$1" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["bash"]'
}

debian_image() {
  local ref
  ref="irsa-local/debian-bookworm:$(content_hash "$DEBIAN_PACKAGES" -- "$ROOT/scripts/local-images.sh" "$ROOT/scripts/images-lib.sh")"
  cached_image "$ref" build_debian
  echo "$ref"
}

# The builder the Dockerfile needs: BuildKit (its prebuilt stage is chosen by a build argument, and the
# unused cargo stage must not be built). Docker 23+ has it as `docker buildx`; Debian's Docker 20.10 client
# has it built in, selected by DOCKER_BUILDKIT=1.
buildkit_build() {
  if docker buildx version >/dev/null 2>&1; then
    docker buildx build --load "$@"
  elif [[ -x /usr/bin/docker ]] && /usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.'; then
    DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
  else
    die "no BuildKit client: install docker-buildx, or Debian's docker.io (its 20.10 client has BuildKit built in)"
  fi
}

emulator_image() {
  local binary=${1:-${IRSA_EMULATOR_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/irsa-emulator}} base ref previous
  [[ -x "$binary" ]] || die "no emulator binary at $binary (cargo build -p irsa-emulator, or name one)"
  base="$(debian_image)"
  ref="irsa-emulator:local"
  mkdir -p "$ROOT/.prebuilt"
  cp "$binary" "$ROOT/.prebuilt/irsa-emulator.tmp.$$"
  mv "$ROOT/.prebuilt/irsa-emulator.tmp.$$" "$ROOT/.prebuilt/irsa-emulator"
  log "docker build of ./Dockerfile (RUNTIME_IMAGE=$base, EMULATOR_BINARY=prebuilt: $binary)"
  previous=$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  buildkit_build --build-arg "RUNTIME_IMAGE=$base" --build-arg EMULATOR_BINARY=prebuilt \
    -t "$ref" "$ROOT" >&2 || die "docker build of ./Dockerfile failed (output above)"
  # Each build of a new binary leaves the last one untagged (~290 MB a test run); an image a container
  # still uses stays.
  if [[ -n "$previous" && "$previous" != "$(docker image inspect --format '{{.Id}}' "$ref")" ]]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
  echo "$ref"
}

need_engine
case "${1:-}" in
  aws-cli)
    ref="irsa-local/aws-cli:$(content_hash "$AWS_CLI_PACKAGES" -- "$ROOT/scripts/local-images.sh" "$ROOT/scripts/images-lib.sh")"
    cached_image "$ref" build_aws_cli
    docker tag "$ref" "$AWS_CLI_IMAGE"
    echo "$AWS_CLI_IMAGE" ;;
  debian) debian_image ;;
  emulator) shift; emulator_image "$@" ;;
  *) die "usage: local-images.sh aws-cli | debian | emulator [BINARY]" ;;
esac
