#!/usr/bin/env bash
# Installs and builds everything the end-to-end tier runs, on a fresh machine, idempotently:
# Debian packages, the Kubernetes binaries (built from Go modules, cached under ~/.cache/mlops-e2e),
# and the Python environments (from the pinned locks). Each step skips what is already there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

# Debian packages (command -> package); a package's services are never started by apt here.
declare -A pkgs=(
  [etcd]=etcd-server
  [openssl]=openssl
  # The drift-check suite: a real Pushgateway, and promtool to test the alert rules on what it serves.
  [prometheus-pushgateway]=prometheus-pushgateway
  [promtool]=prometheus
  # The alert-rules suite: amtool checks every stack's Alertmanager configuration and its routes.
  [amtool]=prometheus-alertmanager
  # The feature-store suite: the online store, started by the test on loopback with the rendered redis.conf.
  [redis-server]=redis-server
  # The serving-runtimes suite's TorchServe: its frontend is Java.
  [java]=openjdk-17-jre-headless
)
missing=()
for cmd in "${!pkgs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/bin/$cmd" ] || missing+=("${pkgs[$cmd]}")
done
# PostgreSQL server binaries (initdb, pg_ctl, postgres) live under /usr/lib/postgresql/<major>/bin.
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
# TorchServe's worker imports torch: Debian's CPU-only build (PyTorch 1.13, ~150 MB of packages with its
# libraries) for Debian's python3, from which runtimes-torchserve-venv.sh makes TorchServe's venv.
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
/usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "e2e: installing ${missing[*]}"
  apt-get update -qq
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

bash "$here/build-kube.sh"
# The prometheus-operator CRDs (ServiceMonitor, PrometheusRule, ...) from its Go module, cached.
bash "$here/prometheus-operator-crds.sh"
# The Gateway API CRDs (HTTPRoute, ...) from its Go module, cached: the rollout suite applies ModelRoutes.
bash "$here/gateway-api-crds.sh"
# The drift-check suite's Python environment (images/drift-check and e2e/setup/drift-check locks).
bash "$here/drift-venv.sh"
# The serving-runtimes suite's Python environment (MLServer + MLflow, Triton from nvidia-pytriton, AWS CLI, moto).
bash "$here/runtimes-venv.sh"
# TorchServe's environment (e2e/setup/runtimes-torchserve.requirements.lock, on Debian's python3 and torch).
bash "$here/runtimes-torchserve-venv.sh"

# Helm and the platform's charts, from the Go module proxy (scripts/build-charts.sh; cached in ~/.cache/mlops-charts).
bash "$here/../../scripts/build-charts.sh"

# Python venvs from the locks (MLflow, the example model server, the S3 emulator, Feast).
bash "$here/python-venvs.sh"

# The real-node suites' needs (containerd, runc, CNI plugins, debootstrap, kubelet & co., the node's images):
# opt-in, E2E_NODE=1. After the venvs: pip in the platform images' chroots reuses the wheels they downloaded.
if [ "${E2E_NODE:-0}" = 1 ]; then bash "$here/install-node.sh"; fi
