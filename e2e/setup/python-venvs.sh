#!/usr/bin/env bash
# The e2e tier's Python environments, one virtualenv per lock file, installed with --require-hashes
# from PyPI into $E2E_CACHE/venv/<name>-<first 16 hex of the lock's SHA-256>: a changed lock makes a
# new venv, an unchanged one is reused. e2e/lib/python.ts computes the same directory names.
#   mlflow        images/mlflow/requirements.lock (the MLflow server image's own lock)
#   model-server  examples/team-fraud/model-server/requirements.lock (the example model server's lock)
#   s3-emulator   e2e/setup/python/s3-emulator.lock (moto's server: S3, IAM and STS on loopback)
#   dvc           e2e/setup/python/dvc.lock (DVC with its S3 remote: the client of the teams' DVC remotes)
#   feast         images/feast/requirements.lock (the Feast image's own lock: Feast, Redis client, s3fs;
#                 pandas and pyarrow make it the largest, ~640 MB installed)
#   tensorboard   images/tensorboard/requirements.lock (the TensorBoard image's own lock: TensorBoard, boto3)
# The system Python (3.11, as the locks and the images) only creates the venvs; nothing is installed
# into its site-packages.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
python="${E2E_PYTHON:-python3}"
mkdir -p "$cache/venv"

version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$version" != "3.11" ]; then
  echo "e2e: the Python locks are for Python 3.11 (as the images run); $python is $version" >&2
  exit 1
fi

declare -A locks=(
  [mlflow]=images/mlflow/requirements.lock
  [model-server]=examples/team-fraud/model-server/requirements.lock
  [s3-emulator]=e2e/setup/python/s3-emulator.lock
  [dvc]=e2e/setup/python/dvc.lock
  [feast]=images/feast/requirements.lock
  [tensorboard]=images/tensorboard/requirements.lock
)
exec 9>"$cache/venv/.lock"
flock 9
install() {
  local name="$1" lock="$root/${locks[$1]}" hash dir
  hash="$(sha256sum "$lock" | cut -c1-16)"
  dir="$cache/venv/$name-$hash"
  [ -x "$dir/bin/python" ] && [ -f "$dir/.complete" ] && return 0
  echo "e2e: creating the $name venv from ${locks[$name]}"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-hashes --no-deps -r "$lock"
  # Marks a finished install: an interrupted one is started again from scratch.
  touch "$dir/.complete"
  # Venvs of older versions of this lock are not used any more.
  find "$cache/venv" -mindepth 1 -maxdepth 1 -name "$name-*" ! -name "$name-$hash" -exec rm -rf {} +
}
# The downloads dominate: the venvs install side by side. Arguments name a subset (default: every venv).
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=("${!locks[@]}")
pids=()
for name in "${names[@]}"; do
  [ -n "${locks[$name]:-}" ] || { echo "e2e: no venv named $name (${!locks[*]})" >&2; exit 1; }
  install "$name" &
  pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
