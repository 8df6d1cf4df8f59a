#!/usr/bin/env bash
# Build the kind node image offline — no registry, nothing pulled — and print its name, for
# KIND_NODE_IMAGE=$(scripts/kind-node-image.sh) scripts/kind-up.sh.
#
# What goes in:
# - a Debian bookworm root (mmdebstrap, from Debian's mirror) with systemd, Debian's containerd 1.6, runc,
#   the CNI plugins, iptables and the rest of what kind's base image installs;
# - kind's own node files (entrypoint, systemd units) from the sigs.k8s.io/kind module at $KIND_VERSION, with
#   e2e/kindnode/files/ on top: containerd config (version 2, restrict_oom_score_adj, a CNI template instead
#   of kindnetd, registry mirrors at 127.0.0.1:1) and the network guard the entrypoint runs
#   (usr/local/bin/irsa-offline-guard: node DNS pointed at itself, egress only to the node's docker network);
# - kubelet, kubeadm, kubectl from e2e/controlplane (the k8s.io/kubernetes version the e2e control plane
#   runs), crictl from e2e/kindnode;
# - the component images kubeadm expects, preloaded into the node's containerd: kube-apiserver,
#   kube-controller-manager, kube-scheduler, kube-proxy (e2e/controlplane), etcd, CoreDNS and pause
#   (e2e/kindnode), each a small image around the binary, named as registry.k8s.io names them.
#
# Cache: the image's tag is <k8s version>-<hash of all of the above>; a saved tarball
# (${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa}/images/) is loaded into a fresh engine instead of rebuilt.
# Needs root (mmdebstrap, containerd), a Docker engine (DOCKER_HOST; scripts/docker-private.sh starts one),
# mmdebstrap, Debian's containerd (its ctr), jq and Go. Progress goes to stderr; stdout is the image name.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf 'kind-node-image.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=scripts/images-lib.sh
. "$ROOT/scripts/images-lib.sh"

KIND_VERSION="$(sed -n 's/^[[:space:]]*\(require[[:space:]]*\)\?sigs\.k8s\.io\/kind \(v[^ ]*\).*/\2/p' "$ROOT/e2e/kind/go.mod" | head -n1)"
K8S_VERSION="$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes \(v[^ ]*\).*/\1/p' "$ROOT/e2e/controlplane/go.mod" | head -n1)"
[[ -n "$KIND_VERSION" && -n "$K8S_VERSION" ]] || die "cannot read the kind or Kubernetes version"
NODE_PACKAGES=systemd,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,procps,containerd,runc,containernetworking-plugins,socat,jq
PROXY_PACKAGES=iptables,conntrack,ipset,kmod,ca-certificates

need_engine
for tool in ctr jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (apt-get install containerd jq)"
done

# The Go-built parts, each cached by its module's hash.
K8S_BIN="$("$ROOT/scripts/controlplane.sh" kind-node ./cmd/kubelet ./cmd/kubeadm ./cmd/kubectl \
  ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/kube-proxy)"
CRICTL_VERSION="$(sed -n 's/^[[:space:]]*sigs\.k8s\.io\/cri-tools \(v[^ ]*\).*/\1/p' "$ROOT/e2e/kindnode/go.mod" | head -n1)"
TOOLS_BIN="$(GO_BUILD_LDFLAGS="-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
  "$ROOT/scripts/go-build-cached.sh" e2e/kindnode kindnode-tools \
  github.com/coredns/coredns sigs.k8s.io/cri-tools/cmd/crictl ./cmd/etcd ./cmd/pause)"
KIND_SRC="$(cd / && GOFLAGS= go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | jq -r .Dir)"
[[ -d "$KIND_SRC/images/base/files" ]] || die "no images/base/files in sigs.k8s.io/kind@$KIND_VERSION ($KIND_SRC)"

# The image names kubeadm will look for, from kubeadm itself.
mapfile -t COMPONENT_IMAGES < <("$K8S_BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
((${#COMPONENT_IMAGES[@]} >= 7)) || die "kubeadm config images list gave: ${COMPONENT_IMAGES[*]:-nothing}"
image_for() { printf '%s\n' "${COMPONENT_IMAGES[@]}" | grep -m1 "/$1:" || die "kubeadm lists no $1 image"; }

HASH="$(content_hash "$KIND_VERSION" "$K8S_VERSION" "$NODE_PACKAGES" "$PROXY_PACKAGES" "${COMPONENT_IMAGES[@]}" -- \
  "$ROOT/scripts/kind-node-image.sh" "$ROOT/scripts/images-lib.sh" "$ROOT/e2e/kindnode/files" \
  "$K8S_BIN" "$TOOLS_BIN" "$KIND_SRC/images/base/files")"
REF="irsa-local/kind-node:$K8S_VERSION-$HASH"

# component_image REF BINARY [DEBIAN_ROOT]: BINARY at /usr/local/bin (and the image's entrypoint), on a
# Debian root where the component needs one (kube-proxy: iptables), else on nothing.
component_image() {
  local ref=$1 binary=$2 base=${3:-} dir name
  dir="$WORK/image-${ref//[\/:]/_}"
  name="$(basename "$binary")"
  if [[ -n "$base" ]]; then cp -a "$base" "$dir"; else mkdir -p "$dir"/{etc,tmp}; chmod 1777 "$dir/tmp"; fi
  install -D -m 0755 "$binary" "$dir/usr/local/bin/$name"
  import_dir "$dir" "$ref" 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "ENTRYPOINT [\"/usr/local/bin/$name\"]"
  rm -rf "$dir"
}

# The component images, saved and imported (not unpacked: containerd unpacks on first use, as in kind's own
# node images) into the node root's containerd by a containerd of this script's own.
preload_component_images() {
  local root=$1 proxy_root="$WORK/proxy-root" refs=() ref
  debian_rootfs "$proxy_root" bookworm "$PROXY_PACKAGES"
  chroot "$proxy_root" update-alternatives --set iptables /usr/sbin/iptables-nft >/dev/null
  chroot "$proxy_root" update-alternatives --set ip6tables /usr/sbin/ip6tables-nft >/dev/null
  for ref in "${COMPONENT_IMAGES[@]}"; do
    case "$ref" in
      */kube-apiserver:* | */kube-controller-manager:* | */kube-scheduler:*)
        component_image "$ref" "$K8S_BIN/$(basename "${ref%%:*}")" ;;
      */kube-proxy:*) component_image "$ref" "$K8S_BIN/kube-proxy" "$proxy_root" ;;
      */etcd:*) component_image "$ref" "$TOOLS_BIN/etcd" ;;
      */pause:*) component_image "$ref" "$TOOLS_BIN/pause" ;;
      */coredns:*)
        # kubeadm's CoreDNS Deployment gives no command: the image's entrypoint is /coredns, as upstream's.
        mkdir -p "$WORK/coredns/tmp"
        install -m 0755 "$TOOLS_BIN/coredns" "$WORK/coredns/coredns"
        import_dir "$WORK/coredns" "$ref" 'ENTRYPOINT ["/coredns"]'
        rm -rf "$WORK/coredns" ;;
      *) die "no recipe for the component image $ref" ;;
    esac
    refs+=("$ref")
  done
  rm -rf "$proxy_root"
  docker save -o "$WORK/components.tar" "${refs[@]}"
  docker rmi "${refs[@]}" >/dev/null

  local ctrd="$WORK/containerd"
  mkdir -p "$ctrd"
  cat >"$ctrd/config.toml" <<EOF
version = 2
root = "$root/var/lib/containerd"
state = "$ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctrd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$ctrd/opt"
EOF
  containerd --config "$ctrd/config.toml" >"$ctrd/log" 2>&1 &
  CONTAINERD_PID=$!
  local i
  for i in $(seq 1 100); do
    ctr --address "$ctrd/containerd.sock" version >/dev/null 2>&1 && break
    kill -0 "$CONTAINERD_PID" 2>/dev/null || { cat "$ctrd/log" >&2; die "containerd (for the preload) exited"; }
    sleep 0.1
  done
  ctr --address "$ctrd/containerd.sock" --namespace k8s.io images import --all-platforms --no-unpack \
    "$WORK/components.tar" >&2
  local listed
  listed="$(ctr --address "$ctrd/containerd.sock" --namespace k8s.io images list -q)"
  kill "$CONTAINERD_PID"
  wait "$CONTAINERD_PID" 2>/dev/null || true
  CONTAINERD_PID=
  for ref in "${refs[@]}"; do
    grep -qx "$ref" <<<"$listed" || die "$ref is not in the node's containerd after the import"
  done
  rm -f "$WORK/components.tar"
}

build_node_image() {
  local ref=$1 root="$WORK/rootfs"
  debian_rootfs "$root" bookworm "$NODE_PACKAGES"

  # kind's node files, then ours; modes as kind's Dockerfile sets them.
  cp -r "$KIND_SRC/images/base/files/." "$root/"
  cp -r "$ROOT/e2e/kindnode/files/." "$root/"
  find "$root/kind" "$root/etc/containerd" "$root/etc/systemd/system" "$root/etc/sysctl.d" \
    "$root/etc/default" "$root/etc/crictl.yaml" -type f -exec chmod 0644 {} +
  find "$root/kind" "$root/etc/systemd/system" -type d -exec chmod 0755 {} +
  chmod 0755 "$root"/usr/local/bin/* "$root"/kind/bin/*
  # The guard runs once iptables is chosen and before kind's network set-up (which would otherwise look up
  # host.docker.internal through Docker's DNS, and point the node at it).
  sed -i 's|^select_iptables$|select_iptables\n. /usr/local/bin/irsa-offline-guard\nirsa_offline_guard|' \
    "$root/usr/local/bin/entrypoint"
  grep -qx 'irsa_offline_guard' "$root/usr/local/bin/entrypoint" ||
    die "kind $KIND_VERSION's entrypoint has no select_iptables line to run the guard after"

  # systemd as kind's base image sets it up.
  rm -f "$root/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service" \
    "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
    "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
    "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
  systemctl --root="$root" enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  systemctl --root="$root" mask systemd-binfmt.service >/dev/null 2>&1
  mkdir -p "$root/etc/kubernetes/manifests" "$root/etc/cni/net.d"
  # The hostPath volumes of default-storage.yaml, writable by any pod user (as local-path-provisioner makes them).
  mkdir -p "$root"/var/local-pv/{0,1,2}
  chmod 0777 "$root"/var/local-pv/{0,1,2}

  local b
  for b in kubelet kubeadm kubectl; do install -m 0755 "$K8S_BIN/$b" "$root/usr/bin/$b"; done
  install -m 0755 "$TOOLS_BIN/crictl" "$root/usr/local/bin/crictl"
  echo "$K8S_VERSION" >"$root/kind/version"
  ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"

  preload_component_images "$root"

  import_dir "$root" "$ref-rootfs"
  rm -rf "$root"
  # Docker 20.10 refuses STOPSIGNAL in `import --change`; a Dockerfile FROM the local image pulls nothing.
  printf 'FROM %s\nENV container=docker\nSTOPSIGNAL SIGRTMIN+3\nENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]\nLABEL dev.kubectl-irsa.kind-node.kubernetes=%s dev.kubectl-irsa.kind-node.kind=%s\n' \
    "$ref-rootfs" "$K8S_VERSION" "$KIND_VERSION" | DOCKER_BUILDKIT=0 docker build -q -t "$ref" - >/dev/null
  docker rmi "$ref-rootfs" >/dev/null
}

CONTAINERD_PID=
WORK=
cleanup() {
  [[ -z "$CONTAINERD_PID" ]] || kill "$CONTAINERD_PID" 2>/dev/null || true
  [[ -z "$WORK" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
if ! image_exists "$REF"; then
  WORK="$(work_dir kind-node)"
fi
cached_image "$REF" build_node_image
echo "$REF"
