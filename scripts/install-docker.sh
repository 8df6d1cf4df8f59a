#!/usr/bin/env bash
# Install what real pods need on this machine, where it is missing: Debian's docker.io (dockerd, containerd,
# runc; scripts/docker-private.sh runs a daemon of the tests' own), mmdebstrap (the images' Debian roots),
# jq and tcpdump (the network-rule test watches the uplink). Needs root and apt-get.
#
#   scripts/install-docker.sh        # exit 0 when everything is there afterwards; exit 1 saying what is not
set -euo pipefail

log() { printf 'install-docker.sh: %s\n' "$*" >&2; }
want=()
command -v dockerd >/dev/null 2>&1 || want+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || want+=(mmdebstrap)
command -v jq >/dev/null 2>&1 || want+=(jq)
command -v tcpdump >/dev/null 2>&1 || want+=(tcpdump)
((${#want[@]} == 0)) && exit 0
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  log "missing ${want[*]}, and this is not root on a Debian-like machine: install them yourself"
  exit 1
fi
log "apt-get install ${want[*]}"
# Installing docker.io starts nothing here: without systemd no unit runs, and the suite runs its own daemon.
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >&2; then
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >&2
fi
