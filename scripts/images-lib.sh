# Sourced by scripts/kind-node-image.sh and scripts/local-images.sh: images built on this machine, with no
# registry (Debian's mirror, the Go module proxy and this repository are the only sources), each cached by the
# hash of what goes into it — in the Docker engine under a tag that carries the hash, and as a `docker save`
# tarball in ${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa}/images/, which a fresh engine loads instead of
# rebuilding.
#
# Callers set ROOT (the repository) and define log/die.

CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"
IMAGES_CACHE="$CACHE_ROOT/images"
DEBIAN_MIRROR="${IRSA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${IRSA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

need_engine() {
  command -v docker >/dev/null 2>&1 || die "docker is not installed (apt-get install docker.io)"
  docker info >/dev/null 2>&1 ||
    die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}): eval \"\$(scripts/docker-private.sh start)\""
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# A short hash of the named files (directories: every file in them, by path) and of extra words.
content_hash() { # content_hash WORD... -- PATH...
  local words=() paths=()
  while (($#)) && [[ "$1" != -- ]]; do words+=("$1"); shift; done
  (($#)) && shift
  paths=("$@")
  {
    printf '%s\n' "${words[@]}"
    local p
    for p in "${paths[@]}"; do
      # Paths are named by their last component, so the same inputs hash alike wherever they live.
      if [[ -d "$p" ]]; then
        echo "dir ${p##*/}"
        (cd "$p" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
      else
        echo "file ${p##*/} $(sha256sum <"$p" | cut -d' ' -f1)"
      fi
    done
  } | sha256sum | cut -c1-16
}

# cached_image REF BUILD_FN: REF (its tag carries the content hash) from the engine, else from its saved
# tarball, else built by `BUILD_FN REF` and saved for the next fresh engine.
cached_image() {
  local ref=$1 build=$2 tar
  tar="$IMAGES_CACHE/$(printf '%s' "$ref" | tr '/:' '__').tar"
  if image_exists "$ref"; then
    log "cached in the engine: $ref"
    return 0
  fi
  if [[ -s "$tar" ]]; then
    log "loading $ref from $tar"
    if docker load -i "$tar" >&2 && image_exists "$ref"; then
      return 0
    fi
    log "the saved $tar did not give $ref: rebuilding it"
    rm -f "$tar"
  fi
  local start=$SECONDS
  "$build" "$ref"
  image_exists "$ref" || die "building $ref gave no image"
  mkdir -p "$IMAGES_CACHE"
  docker save -o "$tar.tmp.$$" "$ref" && mv "$tar.tmp.$$" "$tar"
  log "built $ref in $((SECONDS - start))s (saved as $tar)"
  drop_superseded "$ref"
}

# The other tags of REF's repository are earlier builds of the same recipe: their images and tarballs go, so
# the cache holds one of each (a kind node image is over a gigabyte).
drop_superseded() {
  local ref=$1 repo=${1%:*} old
  for old in $(docker images --format '{{.Repository}}:{{.Tag}}' "$repo"); do
    [[ "$old" == "$ref" ]] && continue
    log "removing the superseded $old"
    docker rmi "$old" >/dev/null 2>&1 || true
    rm -f "$IMAGES_CACHE/$(printf '%s' "$old" | tr '/:' '__').tar"
  done
}

# debian_rootfs DIR SUITE PACKAGES: a minimal Debian root (mmdebstrap, variant minbase) with PACKAGES
# (comma-separated), from the Debian mirror and its security and updates suites, without apt's lists.
debian_rootfs() {
  local dir=$1 suite=$2 packages=$3
  command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
  log "mmdebstrap $suite into $dir (+ $packages)"
  mmdebstrap --quiet --variant=minbase --mode=root --include="$packages" \
    --aptopt='Acquire::Retries "3"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "$suite" "$dir" \
    "deb $DEBIAN_MIRROR $suite main" \
    "deb $DEBIAN_MIRROR $suite-updates main" \
    "deb $DEBIAN_SECURITY_MIRROR $suite-security main" >&2
}

# import_dir DIR REF [CHANGE...]: DIR as a one-layer image (docker import), with Dockerfile-style changes.
import_dir() {
  local dir=$1 ref=$2
  shift 2
  local changes=() c
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$dir" --numeric-owner -cf - . | docker import "${changes[@]}" - "$ref" >/dev/null
}

# A work directory under the cache's filesystem (root filesystems are large), removed by the caller's trap.
work_dir() {
  mkdir -p "$CACHE_ROOT/tmp"
  mktemp -d "$CACHE_ROOT/tmp/$1.XXXXXX"
}
