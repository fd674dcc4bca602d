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
        // and tests within a file run in order. The harness also keeps one recording per stack for the
        // worker process (test/harness.ts `runStack`), which pays because the process runs file after file.
        isolate: false,
        // A larger young generation: the suite allocates a lot of short-lived objects (recordings, decoded
        // policy properties, generated cases), and with Node's default semi-space the worker spent a fifth
        // of its time in scavenges (measured: 15.4 s -> 11.5 s of test time on the heaviest files, about
        // 40 MB more memory). A V8 heap setting of the test workers only; programs and plans the tests
        // spawn run with Node's defaults.
        execArgv: ["--max-semi-space-size=64"],
        // Files run in parallel across vitest's workers, as many as cores less one: on a 2-core machine
        // (CI) that is one worker running every file in turn. Two workers there were slower (each imports
        // the SDKs and runs the stacks itself, and they compete with the plans the CLI tests spawn).
        fileParallelism: true,
        sequence: { concurrent: false },
    },
});
