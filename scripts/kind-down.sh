#!/usr/bin/env bash
# Remove what scripts/kind-up.sh NAME made: the kind cluster, the emulator it started (by its pid file) and
# the state directory ${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa}/kind/NAME.
#
#   scripts/kind-down.sh [NAME]      # NAME defaults to irsa
#
# It talks to the Docker engine kind-up.sh used (DOCKER_HOST, else the one kind-up.sh recorded in the state).
# When that engine does not answer while the cluster may still exist, it says so, stops the emulator and
# keeps the state, so a later run can finish the job; it exits 1 then.
set -euo pipefail

NAME="${1:-irsa}"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"
STATE="$CACHE_ROOT/kind/$NAME"

log() { printf 'kind-down.sh: %s\n' "$*" >&2; }

[[ "$NAME" =~ ^[a-z0-9][a-z0-9-]*$ ]] || { log "NAME must be lowercase letters, digits and -: $NAME"; exit 1; }

if [[ -z "${DOCKER_HOST:-}" && -s "$STATE/docker-host" ]]; then
  DOCKER_HOST="$(cat "$STATE/docker-host")"
  export DOCKER_HOST
fi

stop_emulator() {
  [[ -f "$STATE/emulator.pid" ]] || return 0
  local pid
  pid="$(cat "$STATE/emulator.pid")"
  # Only the emulator this script family started: check the pid still runs irsa-emulator.
  if kill -0 "$pid" 2>/dev/null && grep -q irsa-emulator "/proc/$pid/cmdline" 2>/dev/null ||
    { [[ ! -d /proc ]] && ps -p "$pid" -o command= 2>/dev/null | grep -q irsa-emulator; }; then
    log "stopping irsa-emulator (pid $pid)"
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$STATE/emulator.pid"
}

KIND="$(command -v kind || true)"
[[ -n "$KIND" ]] || KIND="$(ls -1t "$CACHE_ROOT"/kind-tool/*/bin/kind 2>/dev/null | head -n1 || true)"
# The node containers kind labels with the cluster's name (what `kind get clusters` lists).
node_containers() { docker ps -aq --filter "label=io.x-k8s.kind.cluster=$NAME"; }

deleted=
if [[ -n "$KIND" ]] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  # Always ask kind, rather than first asking `kind get clusters`: a listing that fails on a loaded engine
  # reads as "no such cluster" and once left a running node behind. Deleting a missing cluster succeeds.
  log "deleting kind cluster $NAME"
  kubeconfig=()
  [[ -f "$STATE/kubeconfig" ]] && kubeconfig=(--kubeconfig "$STATE/kubeconfig")
  "$KIND" delete cluster --name "$NAME" "${kubeconfig[@]}" >&2 || log "kind delete cluster $NAME failed; removing its containers directly"
  # Then check with the engine itself, and remove what kind left (force, with volumes), for up to a minute.
  left=
  for _ in $(seq 1 60); do
    left="$(node_containers)" || left=unknown
    [[ -z "$left" ]] && break
    [[ "$left" == unknown ]] || docker rm -f -v $left >/dev/null 2>&1 || true
    sleep 1
  done
  if [[ -n "$left" ]]; then
    stop_emulator
    log "kind cluster $NAME still has containers a minute after deleting it:"
    docker ps -a --filter "label=io.x-k8s.kind.cluster=$NAME" >&2 || true
    log "remove them with: docker rm -f -v \$(docker ps -aq --filter label=io.x-k8s.kind.cluster=$NAME)," \
      "then run scripts/kind-down.sh $NAME again (state kept in $STATE)"
    exit 1
  fi
  deleted=1
fi

stop_emulator
if [[ -z "$deleted" && -f "$STATE/kubeconfig" ]]; then
  log "cannot reach the Docker engine at ${DOCKER_HOST:-the default socket} (or find kind) to delete" \
    "kind cluster $NAME: start it and run scripts/kind-down.sh $NAME again (state kept in $STATE)"
  exit 1
fi
if [[ -d "$STATE" ]]; then
  rm -rf "$STATE"
  log "removed $STATE"
fi
