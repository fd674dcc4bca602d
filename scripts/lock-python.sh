#!/usr/bin/env bash
# Compiles the Python locks (requirements.in -> requirements.lock, every package pinned with its hashes)
# for the images' runtime: CPython 3.11 on linux x86_64 (glibc, manylinux_2_28). Needs uv (`pip install uv`
# into a venv of your own); installs nothing. Run after changing a requirements.in, commit the locks.
set -euo pipefail
cd "$(dirname "$0")/.."
uv="${UV:-uv}"
for input in images/mlflow/requirements.in images/feast/requirements.in images/tensorboard/requirements.in examples/team-fraud/model-server/requirements.in e2e/setup/python/s3-emulator.in e2e/setup/python/dvc.in; do
  output="${input%.in}.lock"
  "$uv" pip compile --quiet --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --no-header --annotation-style line "$input" -o "$output"
  echo "locked $output"
done
