#!/usr/bin/env bash
# Builds the Kubernetes binaries the end-to-end tier runs (kube-apiserver, kubectl; with KUBE_NODE=1 also
# kubelet, kube-scheduler and kube-controller-manager) from the Go module proxy.
#
# `go install k8s.io/kubernetes/cmd/...@vX` is refused because k8s.io/kubernetes' go.mod replaces its
# k8s.io/* staging modules with local directories. So we build inside a small wrapper module that
# requires k8s.io/kubernetes and replaces every staging module with its published v0.x.y.
# Output: $E2E_CACHE/kube-<version>/bin. The Go build cache (~/.cache/go-build) makes a rerun cheap;
# a finished build is recognised by its stamp file and skipped.
set -euo pipefail
KUBE_VERSION="${KUBE_VERSION:-v1.32.13}"
E2E_CACHE="${E2E_CACHE:-$HOME/.cache/mlops-e2e}"
out="$E2E_CACHE/kube-$KUBE_VERSION"
cmds=(kube-apiserver kubectl)
if [ "${KUBE_NODE:-0}" = 1 ]; then cmds+=(kubelet kube-scheduler kube-controller-manager kube-proxy); fi

missing=()
for c in "${cmds[@]}"; do [ -x "$out/bin/$c" ] || missing+=("$c"); done
if [ "${#missing[@]}" -eq 0 ]; then echo "kube: $KUBE_VERSION cached in $out/bin"; exit 0; fi

staging="${KUBE_VERSION/v1./v0.}"
mod="$out/module"
mkdir -p "$mod" "$out/bin"
# One build at a time (several suites or checkouts may ask at once); the second waits, then finds it cached.
exec 9>"$out/.lock"
flock 9
missing=()
for c in "${cmds[@]}"; do [ -x "$out/bin/$c" ] || missing+=("$c"); done
if [ "${#missing[@]}" -eq 0 ]; then echo "kube: $KUBE_VERSION cached in $out/bin"; exit 0; fi
cd "$mod"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
[ -f go.mod ] || cat > go.mod <<MOD
module mlops.local/kubebuild

go 1.23.0

require k8s.io/kubernetes $KUBE_VERSION
MOD
go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null
kmod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBE_VERSION.mod"
# Every staging module k8s.io/kubernetes replaces with ./staging/..., at its published version.
for m in $(awk '/=> \.\/staging/ {print $1}' "$kmod"); do
  v="$staging"
  # The proxy refuses k8s.io/endpointslice v0.32.13; its previous patch release is served and identical in API.
  if [ "$m" = k8s.io/endpointslice ] && [ "$staging" = v0.32.13 ]; then v=v0.32.12; fi
  go mod edit -replace "$m=$m@$v"
done
printf 'package tools\n\nimport (\n' > tools.go
for c in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c" >> tools.go; done
printf ')\n' >> tools.go
sed -i '1i //go:build tools' tools.go
go mod tidy -e >/dev/null 2>&1 || true
echo "kube: building ${missing[*]} $KUBE_VERSION (first build ~7 CPU-minutes; cached afterwards)"
for c in "${missing[@]}"; do
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)" \
    -o "$out/bin/$c" "k8s.io/kubernetes/cmd/$c"
done
"$out/bin/kube-apiserver" --version
