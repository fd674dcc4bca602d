#!/usr/bin/env bash
# TorchServe's environment for the serving-runtimes suite: a venv under the e2e cache named after the
# hash of e2e/setup/runtimes-torchserve.requirements.lock (TorchServe 0.12.0 and torch-model-archiver,
# installed with --require-hashes from PyPI), made from Debian's /usr/bin/python3 with its system site
# packages: TorchServe's backend worker imports torch, and the torch it gets is Debian's CPU-only
# python3-torch (install.sh installs it; PyPI's Linux x86_64 torch is a CUDA build, ~2.8 GB of wheels).
# TorchServe's frontend is Java: install.sh installs a JRE (17) too.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
lock="$root/e2e/setup/runtimes-torchserve.requirements.lock"
hash="$(sha256sum "$lock" | cut -c1-12)"
venv="$cache/venv-torchserve-$hash"
if [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ]; then
  exit 0
fi
python=/usr/bin/python3
"$python" -c 'import sys, torch; assert sys.version_info[:2] == (3, 11), sys.version' || {
  echo "e2e: TorchServe's venv needs Debian's python3 (3.11) with python3-torch (e2e/setup/install.sh installs it)" >&2
  exit 1
}
echo "e2e: creating $venv"
rm -rf "$venv"
mkdir -p "$cache"
"$python" -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --require-hashes --no-deps -r "$lock"
"$venv/bin/python" -c 'import torch, ts.model_service_worker, model_archiver'
touch "$venv/.complete"
# Venvs of older versions of the lock are not used any more.
find "$cache" -mindepth 1 -maxdepth 1 -name 'venv-torchserve-*' ! -name "venv-torchserve-$hash" -exec rm -rf {} +
