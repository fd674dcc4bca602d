#!/usr/bin/env bash
# The merge gate: plans the platform stacks dev, test and prod and the example team stack of each
# environment, each program run as the Pulumi CLI runs it (the SDK's cmd/run in its own process, compiled
# with the project's tsconfig; docs/plan.md, "Execution model"), with every policy pack run in its own
# process through the analyzer protocol (as `pulumi preview --policy-pack` runs it). Fails on a mandatory violation, an invalid Kubernetes object or
# a program error. The team stack's StackReference answers with the platform plan's outputs.
#   bash scripts/plan-all.sh [out-dir]     (default .plan)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.plan}"
packs=(--policy-pack policy/mlops-governance --policy-pack policy/mlops-security --policy-pack policy/mlops-reliability)

npx tsx engine/cli/plan.ts dev test prod --out "$out" "${packs[@]}"
for env in dev test prod; do
  echo
  echo "=== examples/team-fraud: $env ==="
  npx tsx engine/cli/plan.ts -C examples/team-fraud "$env" --out "$out/team-fraud" \
    --stack-reference "acme/mlops/$env=$out/$env/plan.json" "${packs[@]}"
done
