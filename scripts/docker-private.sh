#!/usr/bin/env bash
# A Docker engine of the test suite's own: its own socket, data root, exec root and bridges, so the kind and
# container tests never touch another daemon, and so the host quirks and the network rule are handled in one
# place.
#
#   scripts/docker-private.sh start     # starts it (idempotent), prints `export DOCKER_HOST=…`
#   scripts/docker-private.sh env       # prints the export line of a running one (exit 1 if none runs)
#   scripts/docker-private.sh stop      # stops it; its containers, bridges and host rules go with it
#   eval "$(scripts/docker-private.sh start)"
#
# What it sets up, and why:
# - An OCI runtime wrapper (irsa-runc) as the default runtime: it clamps each container's capability sets to
#   the host's bounding set before exec'ing runc. Where the VM's init dropped a capability (CAP_SYS_RESOURCE
#   here) Docker 20.10's --privileged, which kind always uses, otherwise fails with "unable to apply caps:
#   operation not permitted". On a host that has every capability the wrapper changes nothing.
# - The network rule (tests talk only to loopback and to their own containers): iptables, IP forwarding and
#   masquerading off, so the host routes no container packet anywhere; where the host already forwards, a
#   REJECT for anything leaving the daemon's bridges. Embedded DNS gets only a loopback upstream (which
#   Docker drops, so names outside the network fail locally); registry pulls go to a mirror and a proxy at
#   127.0.0.1:1, which refuse at once. Every image is built locally (scripts/kind-node-image.sh).
# - Its own bridges: irsa-docker0 for the default network and irsa-kind0 for the network kind uses (created
#   here as `kind`, so scripts/kind-up.sh finds its gateway before kind runs). A dockerd given
#   `"bridge": "none"` would delete a link named docker0, so this one never uses that name. Published ports
#   bind 127.0.0.1 only.
#
# Environment: IRSA_DOCKER_DIR (default /tmp/irsa-docker: socket, exec root, pid, log, runtime wrapper),
# IRSA_DOCKER_DATA (default ${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa}/docker: images, kept between runs).
# Needs root and Debian's docker.io (dockerd, containerd, runc): `apt-get install docker.io`.
set -euo pipefail

DIR="${IRSA_DOCKER_DIR:-/tmp/irsa-docker}"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"
DATA="${IRSA_DOCKER_DATA:-$CACHE_ROOT/docker}"
SOCK="$DIR/docker.sock"
DEFAULT_BRIDGE=irsa-docker0
DEFAULT_BRIDGE_CIDR=172.29.0.1/24
KIND_BRIDGE=irsa-kind0
KIND_SUBNET=172.30.0.0/24
KIND_GATEWAY=172.30.0.1
# No registry is reachable, and none may be tried: anything that would pull is sent here and refused.
NOWHERE=http://127.0.0.1:1

log() { printf 'docker-private.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

docker_cli() { DOCKER_HOST="unix://$SOCK" docker "$@"; }
answers() { [[ -S "$SOCK" ]] && docker_cli info >/dev/null 2>&1; }
export_line() { echo "export DOCKER_HOST=unix://$SOCK"; }

write_runtime_wrapper() {
  local python
  python="$(command -v /usr/bin/python3 || command -v python3)" || die "python3 is needed for the runtime wrapper"
  cat >"$DIR/irsa-runc" <<EOF
#!$python
# OCI runtime wrapper (scripts/docker-private.sh): clamp the bundle's capability sets to this host's bounding
# set, then exec runc. Docker 20.10 asks for every capability it knows for --privileged; where the host's
# bounding set lacks one (CAP_SYS_RESOURCE on these VMs), runc would fail "unable to apply caps".
import json, os, sys

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
        "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE"]

def bounding():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
                return {name for bit, name in enumerate(CAPS) if mask >> bit & 1}
    return set(CAPS)

def flag(argv, *names):
    for i, a in enumerate(argv):
        if a in names and i + 1 < len(argv):
            return argv[i + 1]
        for n in names:
            if n.startswith("--") and a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None

def clamp(path, caps_of):
    """Clamp the capability sets of the process in the JSON file at path."""
    with open(path) as f:
        doc = json.load(f)
    caps = caps_of(doc)
    if not caps:
        return
    allowed = bounding()
    clamped = {k: [c for c in v if c in allowed] for k, v in caps.items()}
    if clamped == caps:
        return
    caps.clear()
    caps.update(clamped)
    with open(path + ".irsa-tmp", "w") as f:
        json.dump(doc, f)
    os.replace(path + ".irsa-tmp", path)

argv = sys.argv[1:]
if "create" in argv or "run" in argv:
    # A new container: the process in the bundle's config.json (the bundle is the working directory
    # unless --bundle names it).
    config = os.path.join(flag(argv, "--bundle", "-b") or os.getcwd(), "config.json")
    if os.path.exists(config):
        clamp(config, lambda spec: spec.get("process", {}).get("capabilities"))
elif "exec" in argv:
    # docker exec --privileged (kind runs every command in a node this way): the process.json it names.
    process = flag(argv, "--process", "-p")
    if process and os.path.exists(process):
        clamp(process, lambda proc: proc.get("capabilities"))
os.execv("$(command -v runc)", ["runc"] + sys.argv[1:])
EOF
  chmod 0755 "$DIR/irsa-runc"
}

host_forwards() { [[ "$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo 0)" != 0 ]]; }

# Where the host routes packets anyway, nothing from our bridges may leave through it.
guard_rules() { # guard_rules -I|-D
  local op=$1 bridge
  host_forwards || [[ "$op" == -D ]] || return 0
  for bridge in "$DEFAULT_BRIDGE" "$KIND_BRIDGE"; do
    if [[ "$op" == -I ]]; then
      iptables -C FORWARD -i "$bridge" ! -o "$bridge" -j REJECT 2>/dev/null ||
        iptables -I FORWARD -i "$bridge" ! -o "$bridge" -j REJECT
    else
      while iptables -D FORWARD -i "$bridge" ! -o "$bridge" -j REJECT 2>/dev/null; do :; done
    fi
  done
}

start() {
  if answers; then
    export_line
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "needs root (dockerd), as on the CI machines; run it with sudo"
  command -v dockerd >/dev/null 2>&1 || die "dockerd is not installed: apt-get install docker.io"
  command -v runc >/dev/null 2>&1 || die "runc is not installed: apt-get install docker.io"
  mkdir -p "$DIR" "$DATA"
  write_runtime_wrapper
  if ! ip link show "$DEFAULT_BRIDGE" >/dev/null 2>&1; then
    ip link add "$DEFAULT_BRIDGE" type bridge
    ip addr add "$DEFAULT_BRIDGE_CIDR" dev "$DEFAULT_BRIDGE"
  fi
  ip link set "$DEFAULT_BRIDGE" up
  cat >"$DIR/daemon.json" <<EOF
{
  "hosts": ["unix://$SOCK"],
  "data-root": "$DATA",
  "exec-root": "$DIR/exec",
  "pidfile": "$DIR/dockerd.pid",
  "bridge": "$DEFAULT_BRIDGE",
  "ip": "127.0.0.1",
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false,
  "dns": ["127.0.0.1"],
  "registry-mirrors": ["$NOWHERE"],
  "default-runtime": "irsa-runc",
  "runtimes": {"irsa-runc": {"path": "$DIR/irsa-runc"}},
  "default-address-pools": [{"base": "172.31.0.0/16", "size": 24}],
  "storage-driver": "overlay2",
  "log-driver": "json-file"
}
EOF
  guard_rules -I
  log "starting dockerd (socket $SOCK, data $DATA, log $DIR/dockerd.log)"
  # A pid file left by a daemon that was killed (a machine restored from a snapshot) names a dead process;
  # dockerd would refuse to start over a live one, and the wait below watches the process started here.
  rm -f "$DIR/dockerd.pid"
  HTTP_PROXY="$NOWHERE" HTTPS_PROXY="$NOWHERE" NO_PROXY=localhost,127.0.0.1 \
    nohup dockerd --config-file "$DIR/daemon.json" >>"$DIR/dockerd.log" 2>&1 </dev/null &
  local dockerd_pid=$! i
  for i in $(seq 1 150); do
    answers && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.2
  done
  answers || { tail -n 30 "$DIR/dockerd.log" >&2; die "dockerd did not answer on $SOCK (log above)"; }
  if ! docker_cli network inspect kind >/dev/null 2>&1; then
    # The network kind would create (bridge, masquerade on: a no-op here with iptables off), on our bridge.
    # The gateway is given: Docker 20.10 leaves it out of `network inspect` for a network made with --subnet
    # alone until the daemon restarts, and kind-up.sh reads it there (a fresh engine's first run failed so).
    docker_cli network create -d bridge --subnet "$KIND_SUBNET" --gateway "$KIND_GATEWAY" \
      -o com.docker.network.bridge.name="$KIND_BRIDGE" \
      -o com.docker.network.bridge.enable_ip_masquerade=true kind >/dev/null
  fi
  export_line
}

stop() {
  if answers; then
    local ids
    ids="$(docker_cli ps -aq)"
    [[ -z "$ids" ]] || docker_cli rm -f $ids >/dev/null 2>&1 || true
  fi
  if [[ -f "$DIR/dockerd.pid" ]]; then
    local pid i
    pid="$(cat "$DIR/dockerd.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping dockerd (pid $pid)"
      kill "$pid"
      for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$DIR/dockerd.pid"
  fi
  guard_rules -D
  local bridge
  for bridge in "$DEFAULT_BRIDGE" "$KIND_BRIDGE"; do
    ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge" 2>/dev/null || true
  done
  # dockerd unmounts what it mounted; a killed one may leave its exec root's mounts behind.
  if [[ -d "$DIR/exec" ]]; then
    grep -o " $DIR/exec[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  rm -f "$SOCK"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) answers || die "no private dockerd answers on $SOCK: scripts/docker-private.sh start"; export_line ;;
  *) die "usage: docker-private.sh start|env|stop" ;;
esac
