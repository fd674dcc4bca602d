#!/usr/bin/env bash
# npm run test:e2e: installs/builds what the end-to-end tier needs (cached), then runs its suites
# (e2e/**/*.e2e.test.ts) against the real software. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
bash e2e/setup/install.sh
exec npx vitest run --config e2e/vitest.config.mts "$@"
