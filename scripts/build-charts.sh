#!/usr/bin/env bash
# Builds Helm and assembles the platform's charts from the Go module proxy into the charts cache
# ($MLOPS_CHARTS_CACHE, default ~/.cache/mlops-charts): see scripts/build-charts.ts. Idempotent; one run
# at a time (flock): a second run waits, then finds everything cached.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${MLOPS_CHARTS_CACHE:-$HOME/.cache/mlops-charts}"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
exec "$root/node_modules/.bin/tsx" "$root/scripts/build-charts.ts" "$@"
