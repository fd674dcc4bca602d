#!/usr/bin/env bash
# The serving-runtimes suite's Python environment: a venv under the e2e cache named after the hash of
# its two locks (e2e/setup/runtimes.requirements.lock: MLServer, MLflow, the AWS CLI, moto;
# e2e/setup/runtimes-triton.requirements.lock: the tritonserver binary of nvidia-pytriton, without its
# dependencies), so a changed lock gets a new venv and an unchanged one is reused. Installed with
# --require-hashes from PyPI. The Python-backend stub for the venv's Python is put where tritonserver
# looks for it (pytriton does that itself when it starts the server; the suite runs the binary).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
lock="$root/e2e/setup/runtimes.requirements.lock"
triton_lock="$root/e2e/setup/runtimes-triton.requirements.lock"
hash="$(cat "$lock" "$triton_lock" | sha256sum | cut -c1-12)"
venv="$cache/venv-runtimes-$hash"
if [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ]; then
  exit 0
fi
python="${PYTHON:-python3}"
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"the runtimes locks are for Python 3.11, got {sys.version}"'
echo "e2e: creating $venv"
rm -rf "$venv"
mkdir -p "$cache"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --require-hashes)
"${pip[@]}" --no-deps -r "$lock"
"${pip[@]}" --no-deps -r "$triton_lock"
triton="$("$venv/bin/python" -c 'import pathlib, sysconfig; print(pathlib.Path(sysconfig.get_paths()["purelib"]) / "pytriton" / "tritonserver")')"
cp "$triton/python_backend_stubs/3.11/triton_python_backend_stub" "$triton/backends/python/"
touch "$venv/.complete"
