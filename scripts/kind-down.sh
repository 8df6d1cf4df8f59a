#!/usr/bin/env bash
# Remove what scripts/kind-up.sh NAME made: the kind cluster, the emulator it started (by its pid file) and
# the state directory ${IRSA_CACHE_DIR:-~/.cache/kubectl-irsa}/kind/NAME.
#
#   scripts/kind-down.sh [NAME]      # NAME defaults to irsa
set -euo pipefail

NAME="${1:-irsa}"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"
STATE="$CACHE_ROOT/kind/$NAME"

log() { printf 'kind-down.sh: %s\n' "$*" >&2; }

[[ "$NAME" =~ ^[a-z0-9][a-z0-9-]*$ ]] || { log "NAME must be lowercase letters, digits and -: $NAME"; exit 1; }

KIND="$(command -v kind || true)"
[[ -n "$KIND" ]] || KIND="$(ls -1 "$CACHE_ROOT"/kind-bin/*/kind 2>/dev/null | tail -n1 || true)"
if [[ -n "$KIND" ]] && docker info >/dev/null 2>&1; then
  if "$KIND" get clusters 2>/dev/null | grep -qx "$NAME"; then
    log "deleting kind cluster $NAME"
    "$KIND" delete cluster --name "$NAME" >&2
  fi
else
  log "kind or Docker unavailable: not deleting any kind cluster"
fi

if [[ -f "$STATE/emulator.pid" ]]; then
  pid="$(cat "$STATE/emulator.pid")"
  # Only the emulator this script family started: check the pid still runs irsa-emulator.
  if kill -0 "$pid" 2>/dev/null && grep -q irsa-emulator "/proc/$pid/cmdline" 2>/dev/null ||
    { [[ ! -d /proc ]] && ps -p "$pid" -o command= 2>/dev/null | grep -q irsa-emulator; }; then
    log "stopping irsa-emulator (pid $pid)"
    kill "$pid" 2>/dev/null || true
  fi
fi

if [[ -d "$STATE" ]]; then
  rm -rf "$STATE"
  log "removed $STATE"
fi
