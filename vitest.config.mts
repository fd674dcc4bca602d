import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        environment: "node",
        pool: "forks",
        testTimeout: 30_000,
        hookTimeout: 60_000,
        // Pulumi's runtime is process-global: each file runs in its own process, tests in a file in order.
        fileParallelism: true,
        sequence: { concurrent: false },
    },
});
