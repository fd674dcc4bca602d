#!/usr/bin/env bash
# Caches the Gateway API CustomResourceDefinitions (standard channel: GatewayClass, Gateway, HTTPRoute,
# GRPCRoute, ReferenceGrant, BackendTLSPolicy) from the Go module sigs.k8s.io/gateway-api:
# config/crd/standard/*.yaml. ModelRoute renders gateway.networking.k8s.io/v1 HTTPRoutes against them.
# Output: $E2E_CACHE/gateway-api-crds-<version>/*.yaml (e2e/lib/gatewayApi.ts gatewayApiCrdDir).
# The module zip is checked against the hash pinned here (GATEWAY_API_SUM) besides Go's checksum database.
set -euo pipefail
E2E_CACHE="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
version="${GATEWAY_API_VERSION:-v1.4.0}"
sum="${GATEWAY_API_SUM:-h1:ZwlNM6zOHq0h3WUX2gfByPs2yAEsy/EenYJB78jpQfQ=}"
mod=sigs.k8s.io/gateway-api
out="$E2E_CACHE/gateway-api-crds-$version"
if [ -f "$out/.complete" ]; then echo "Gateway API CRDs: $version cached in $out"; exit 0; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
json="$(cd "$tmp" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "$mod@$version")"
got="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",*$/\1/p')"
dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
err="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p')"
if [ -n "$err" ]; then echo "Gateway API CRDs: go mod download $mod@$version failed: $err" >&2; exit 1; fi
if [ "$got" != "$sum" ]; then echo "Gateway API CRDs: $mod@$version has sum $got, expected $sum" >&2; exit 1; fi
src="$dir/config/crd/standard"
ls "$src"/gateway.networking.k8s.io_*.yaml >/dev/null
mkdir -p "$out"
cp "$src"/gateway.networking.k8s.io_*.yaml "$out/"
touch "$out/.complete"
echo "Gateway API CRDs: $version ($(ls "$out"/*.yaml | wc -l) CRDs) cached in $out"
