/**
 * What engine/patches/index.ts replaces in @pulumi/pulumi, and the SDK internals the recording engine
 * (engine/recorder.ts, engine/programRun.ts) calls, each fingerprinted in the pinned SDK
 * (test/patches.test.ts fails when an upgrade changes one: review the patch, then the fingerprint).
 */
import type { PatchTarget } from "./fingerprint";

/** The SDK version the patches were reviewed against. */
export const REVIEWED_VERSIONS: Readonly<Record<string, string>> = { "@pulumi/pulumi": "3.248.0" };

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK modules the patches replace, by path
const sdk = (module: string) => require(`@pulumi/pulumi/${module}`) as Record<string, any>;

export const ENGINE_PATCH_TARGETS: readonly PatchTarget[] = [
    {
        id: "@pulumi/pulumi runtime/debuggable debuggablePromise",
        use: "replaced",
        pkg: "@pulumi/pulumi",
        get: () => sdk("runtime/debuggable").debuggablePromise,
        arity: 2,
        sha256: "bf5c7b37cd7aea03",
    },
    { id: "@pulumi/pulumi log warn", use: "replaced", pkg: "@pulumi/pulumi", get: () => sdk("log").warn, arity: 4, sha256: "dd8d1474e21f339c" },
    { id: "@pulumi/pulumi log error", use: "replaced", pkg: "@pulumi/pulumi", get: () => sdk("log").error, arity: 4, sha256: "28b7fa93d6aabae7" },
    {
        id: "@pulumi/pulumi runtime/settings setMockOptions",
        use: "relied on",
        pkg: "@pulumi/pulumi",
        get: () => sdk("runtime/settings").setMockOptions,
        arity: 5,
        sha256: "1e63547c6db32714",
    },
    {
        id: "@pulumi/pulumi runtime/settings waitForRPCs",
        use: "relied on",
        pkg: "@pulumi/pulumi",
        get: () => sdk("runtime/settings").waitForRPCs,
        arity: 0,
        sha256: "096daf78f4bbc5e8",
    },
    // The store flags the recorder sets instead (engine/recorder.ts FEATURE_FLAGS).
    {
        id: "@pulumi/pulumi runtime/settings awaitFeatureSupport",
        use: "relied on",
        pkg: "@pulumi/pulumi",
        get: () => sdk("runtime/settings").awaitFeatureSupport,
        arity: 0,
        sha256: "3eea91cbcf775dc2",
    },
];
