#!/usr/bin/env bash
# Opt-in (E2E_NODE=1, or run directly): what the real-node suites (e2e/node.e2e.test.ts and
# e2e/platformNode.e2e.test.ts) need besides the API server: containerd, runc and the CNI plugins from
# Debian, debootstrap and iptables for the local images and kubelet, and kubelet, kube-scheduler and
# kube-controller-manager built from the same Go modules as the API server (build-kube.sh with KUBE_NODE=1).
# Idempotent; services are never started.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

# What the machine must allow; when it does not, say why and install nothing (the suite reports itself
# skipped with the same reasons).
if [ "$(uname -s)" != Linux ] || [ "$(id -u)" != 0 ]; then
  echo "e2e node: SKIPPED install: the real node needs Linux and root (uid $(id -u) on $(uname -s))"; exit 0
fi
if ! grep -qE ' - cgroup2? ' /proc/self/mountinfo; then
  echo "e2e node: SKIPPED install: no cgroup filesystem is mounted"; exit 0
fi

# command (or file) -> Debian package
declare -A pkgs=(
  [/usr/bin/containerd]=containerd
  [/usr/sbin/runc]=runc
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [/usr/sbin/debootstrap]=debootstrap
  [/usr/sbin/iptables]=iptables
  [/usr/bin/gcc]=gcc
  [/usr/bin/mount]=mount
  [/usr/bin/nsenter]=util-linux
  [/usr/sbin/ip]=iproute2
  [/usr/bin/openssl]=openssl
)
missing=()
for f in "${!pkgs[@]}"; do [ -x "$f" ] || missing+=("${pkgs[$f]}"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "e2e node: installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  # No service starts from a package install here (the suite starts its own containerd with its own config).
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

KUBE_NODE=1 bash "$here/build-kube.sh"

# The pause image (pause.c from the kubernetes module the build above downloaded), the Debian base
# layer (debootstrap from Debian's archive) and the platform's images (e2e/lib/platformImages.ts), cached
# under $E2E_CACHE/node-images.
cd "$here/../.." && npx tsx e2e/setup/node-images.ts

# The charts' programs the Go module proxy serves (operator, config reloader, kube-state-metrics,
# prometheus-adapter, metrics-server; cached under $E2E_CACHE/chart-binaries) and the charts' images
# (e2e/lib/chartImages.ts), for e2e/chartsNode.e2e.test.ts.
bash "$here/chart-binaries.sh"
cd "$here/../.." && npx tsx e2e/setup/chart-images.ts
