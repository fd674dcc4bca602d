import { defineConfig } from "vitest/config";

// The end-to-end tier: suites that start real software (kube-apiserver, etcd, MLflow, PostgreSQL, ...)
// on loopback. Files run one at a time: each suite owns the servers it starts, and two cores are not
// enough to run them side by side.
export default defineConfig({
    test: {
        include: ["e2e/**/*.e2e.test.ts"],
        environment: "node",
        pool: "forks",
        testTimeout: 300_000,
        hookTimeout: 600_000,
        fileParallelism: false,
        sequence: { concurrent: false },
    },
});
