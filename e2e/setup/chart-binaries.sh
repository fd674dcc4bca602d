#!/usr/bin/env bash
# Builds, from the Go module proxy, the programs of the platform's charts that Debian does not package, for
# the charts suite on the real node (e2e/chartsNode.e2e.test.ts; images made from them by e2e/lib/chartImages.ts):
# - the Prometheus operator and its config reloader (github.com/prometheus-operator/prometheus-operator, cmd/
#   operator and cmd/prometheus-config-reloader), at the version kube-prometheus-stack's chart runs;
# - kube-state-metrics (k8s.io/kube-state-metrics/v2), at the version its sub-chart runs;
# - prometheus-adapter (sigs.k8s.io/prometheus-adapter, cmd/adapter), at the chart's version;
# - metrics-server (sigs.k8s.io/metrics-server, cmd/metrics-server): v0.8.0, the proxy's newest approved
#   release (the chart runs v0.8.1, which the proxy does not serve; docs/e2e.md);
# - Prometheus (github.com/prometheus/prometheus v0.314.0, which is Prometheus 3.14.0, cmd/prometheus), at
#   the version the chart runs, with Kubernetes service discovery only (upstream's build tags
#   remove_all_sd,enable_kubernetes_sd) and no built-in web UI assets (the API and probes need none).
#   Debian bookworm's Prometheus 2.42 is built without Kubernetes service discovery, which every
#   ServiceMonitor needs.
# Static binaries (CGO_ENABLED=0, -trimpath), as upstream's images carry. Output:
# $E2E_CACHE/chart-binaries/<name>-<version>/<program>, a directory per release with a .complete stamp; a
# rerun finds it and builds nothing. Each build prints the CPU time it took (user+sys).
set -euo pipefail
E2E_CACHE="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
out="$E2E_CACHE/chart-binaries"
mkdir -p "$out"
# GOWORK=off: a module may ship a go.work (Prometheus does) that would put the build in workspace mode.
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off

OPERATOR_VERSION="${CHART_OPERATOR_VERSION:-v0.93.1}"
KSM_VERSION="${CHART_KSM_VERSION:-v2.20.0}"
ADAPTER_VERSION="${CHART_ADAPTER_VERSION:-v0.12.0}"
METRICS_SERVER_VERSION="${CHART_METRICS_SERVER_VERSION:-v0.8.0}"
PROMETHEUS_VERSION="${CHART_PROMETHEUS_VERSION:-v0.314.0}"

# One build at a time (suites or checkouts may ask at once); the second waits, then finds them built.
exec 9>"$out/.lock"
flock 9

# timed <name> <command...>: runs the command in a subshell and reports its CPU time (user+sys of it and
# its children: the time keyword, no /usr/bin/time needed). A failing command stops the script.
timed() {
  local name="$1"
  shift
  local t
  t="$(mktemp)"
  local TIMEFORMAT='%U %S %R'
  { time ("$@" 2>&3); } 3>&2 2>"$t"
  read -r user sys wall <"$t"
  rm -f "$t"
  echo "chart binaries: $name built in $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", (u + s) / 60 }') CPU-minutes (${wall}s wall)"
}

# build_from <out dir> <module> <version> <ldflags> <package...> (BUILD_TAGS: go build -tags): builds the module's main packages in a copy
# of its source as the proxy serves it, with the module's own go.mod and go.sum (the Go checksum database
# checks the download). `go install <pkg>@<version>` is not used: it asks the proxy for the module's version
# list, which the proxy refuses for some of these (k8s.io/kube-state-metrics/v2).
build_from() {
  set -euo pipefail
  local dir="$1" mod="$2" version="$3" ldflags="$4"
  shift 4
  local src work
  src="$(cd "$(mktemp -d)" && go mod download -json "$mod@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [ -n "$src" ] || { echo "chart binaries: go mod download $mod@$version failed" >&2; return 1; }
  work="$(mktemp -d)"
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  cd "$work"
  # The operator's go.mod points its own API and client modules at directories that its module zip does not
  # hold (nested modules are served separately): they are required at the same version from the proxy.
  if [ "$mod" = github.com/prometheus-operator/prometheus-operator ]; then
    for m in "$mod/pkg/apis/monitoring" "$mod/pkg/client"; do
      go mod edit -dropreplace "$m" -require "$m@$version"
    done
    go mod download "$mod/pkg/apis/monitoring" "$mod/pkg/client"
  fi
  go build -trimpath -tags "${BUILD_TAGS:-}" -ldflags "-s -w $ldflags" -o "$dir/" "$@"
  cd /
  rm -rf "$work"
}
build_operator() {
  build_from "$1" github.com/prometheus-operator/prometheus-operator "$OPERATOR_VERSION" \
    "-X github.com/prometheus/common/version.Version=${OPERATOR_VERSION#v}" ./cmd/operator ./cmd/prometheus-config-reloader
}
build_ksm() {
  build_from "$1" k8s.io/kube-state-metrics/v2 "$KSM_VERSION" "-X github.com/prometheus/common/version.Version=$KSM_VERSION" .
}
build_adapter() {
  build_from "$1" sigs.k8s.io/prometheus-adapter "$ADAPTER_VERSION" "" ./cmd/adapter
}
build_metrics_server() {
  build_from "$1" sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION" ./cmd/metrics-server
}
build_prometheus() {
  # v0.3MM.P of the module is Prometheus 3.MM.P.
  local v="${PROMETHEUS_VERSION#v0.3}"
  v="3.$((10#${v%%.*})).${v#*.}"
  BUILD_TAGS=remove_all_sd,enable_kubernetes_sd build_from "$1" github.com/prometheus/prometheus "$PROMETHEUS_VERSION" \
    "-X github.com/prometheus/common/version.Version=$v" ./cmd/prometheus
}

# build <name> <version> <function>: unless cached, runs the function with the output directory, timed.
build() {
  local name="$1" version="$2" fn="$3"
  local dir="$out/$name-$version"
  if [ -f "$dir/.complete" ]; then echo "chart binaries: $name $version cached in $dir"; return; fi
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "chart binaries: building $name $version from the Go module proxy"
  timed "$name $version" "$fn" "$dir"
  touch "$dir/.complete"
}

build prometheus-operator "$OPERATOR_VERSION" build_operator
build kube-state-metrics "$KSM_VERSION" build_ksm
build prometheus-adapter "$ADAPTER_VERSION" build_adapter
build metrics-server "$METRICS_SERVER_VERSION" build_metrics_server
build prometheus "$PROMETHEUS_VERSION" build_prometheus
