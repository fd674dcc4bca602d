#!/usr/bin/env bash
# Caches the CustomResourceDefinitions of the prometheus-operator (ServiceMonitor, PodMonitor,
# PrometheusRule, ...) from its Go module: example/prometheus-operator-crd/*.yaml of
# github.com/prometheus-operator/prometheus-operator at the operator version the pinned
# kube-prometheus-stack chart ships (components/platform/monitoringStack.ts CHARTS.kubePrometheusStack).
# Output: $E2E_CACHE/prometheus-operator-crds-<version>/*.yaml (e2e/lib/paths.ts prometheusOperatorCrdDir).
#
# Version: kube-prometheus-stack 79.7.1 ships prometheus-operator v0.86.2. The Go module proxy refuses
# v0.86.2 ("not available"); v0.86.1 is served, and is the previous patch release (0.86.2's changes are
# bug fixes of the operator; its CRD files are those of 0.86.x). The checksum database has no entry for
# v0.86.1 either, so the module is checked against the hash pinned here instead (PROMETHEUS_OPERATOR_SUM):
# a different zip fails the install.
set -euo pipefail
E2E_CACHE="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
version="${PROMETHEUS_OPERATOR_VERSION:-v0.86.1}"
sum="${PROMETHEUS_OPERATOR_SUM:-h1:pHUuiRErcFb3nFDox7RxoxpEN0FyT24GtYOkr2GBu04=}"
mod=github.com/prometheus-operator/prometheus-operator
out="$E2E_CACHE/prometheus-operator-crds-$version"
if [ -f "$out/.complete" ]; then echo "prometheus-operator CRDs: $version cached in $out"; exit 0; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Outside any module; the sum is checked below (the checksum database does not know this version).
json="$(cd "$tmp" && GOFLAGS=-mod=mod GONOSUMDB="$mod" GOTOOLCHAIN=local go mod download -json "$mod@$version")"
got="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",*$/\1/p')"
dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
err="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p')"
if [ -n "$err" ]; then echo "prometheus-operator CRDs: go mod download $mod@$version failed: $err" >&2; exit 1; fi
if [ "$got" != "$sum" ]; then echo "prometheus-operator CRDs: $mod@$version has sum $got, expected $sum" >&2; exit 1; fi
src="$dir/example/prometheus-operator-crd"
ls "$src"/monitoring.coreos.com_*.yaml >/dev/null
mkdir -p "$out"
cp "$src"/monitoring.coreos.com_*.yaml "$out/"
touch "$out/.complete"
echo "prometheus-operator CRDs: $version ($(ls "$out"/*.yaml | wc -l) CRDs) cached in $out"
