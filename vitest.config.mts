import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        environment: "node",
        pool: "forks",
        testTimeout: 30_000,
        hookTimeout: 60_000,
        // Files share a worker's module cache (no per-file re-import of @pulumi/aws and friends: that
        // halves the suite). This is safe because every program run goes through engine/recorder.ts,
        // which resets Pulumi's process-global runtime state (monitor, config, stack) before it starts,
        // and tests within a file run in order. Files still run in parallel across the workers.
        isolate: false,
        fileParallelism: true,
        sequence: { concurrent: false },
    },
});
