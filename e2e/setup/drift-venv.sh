#!/usr/bin/env bash
# The drift-check suite's Python environment: a venv under the e2e cache, named after the hash of the two
# locks it installs (images/drift-check/requirements.lock, e2e/setup/drift-check.requirements.lock), so
# a changed lock gets a new venv and an unchanged one is reused. Installed with --require-hashes from PyPI.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
image_lock="$root/images/drift-check/requirements.lock"
test_lock="$root/e2e/setup/drift-check.requirements.lock"
hash="$(cat "$image_lock" "$test_lock" | sha256sum | cut -c1-12)"
venv="$cache/venv-drift-check-$hash"
if [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ]; then
  exit 0
fi
python="${PYTHON:-python3}"
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"the drift-check locks are for Python 3.11, got {sys.version}"'
echo "e2e: creating $venv"
rm -rf "$venv"
mkdir -p "$cache"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --require-hashes --no-deps -r "$image_lock" -r "$test_lock"
touch "$venv/.complete"
