/**
 * The only place the engine replaces code of @pulumi/pulumi while a program runs on the recording
 * engine. {@link installRecordingPatches} installs both patches for one run and returns what undoes them:
 *
 * - `pulumi.log.warn` / `pulumi.log.error` write into the recording instead of the console (the plan and
 *   the tests report a program's warnings with its resources);
 * - `runtime/debuggable.debuggablePromise` labels the SDK's promises without a stack trace (see
 *   {@link cheapDebugStacks}).
 *
 * `engine/patches/targets.ts` lists every SDK function these patches replace, and the internal functions
 * the recorder calls, with a fingerprint of their source in the pinned SDK: `test/patches.test.ts` fails
 * when an upgrade changes one, so the patch is reviewed against the new code before it is trusted.
 */
import * as pulumi from "@pulumi/pulumi";

/** A message the program logged, as the recording keeps it. */
export interface LoggedMessage {
    severity: string;
    message: string;
    urn?: string;
}

/** Installs every recording patch; returns the function that restores the SDK as it was. */
export function installRecordingPatches(logs: LoggedMessage[]): () => void {
    const restoreLogs = captureLogs(logs);
    const restoreStacks = cheapDebugStacks();
    return () => {
        restoreStacks();
        restoreLogs();
    };
}

/**
 * The SDK labels every promise it makes (four per output property of every resource) with a stack
 * trace, formatted eagerly (`debuggablePromise`) and only ever shown when a promise leaks. With source
 * maps on (tsx turns them on) each trace is also source-mapped: that was half of a plan's time. While a
 * program runs, those labels get no stack; errors and resources keep theirs. Returns the function that
 * restores the SDK as it was.
 */
export function cheapDebugStacks(): () => void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK module it patches, loaded when the patch is installed
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: (p: Promise<unknown>, ctx: unknown) => Promise<unknown> };
    const original = debuggable.debuggablePromise;
    debuggable.debuggablePromise = function (p, ctx) {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return original(p, ctx);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
    return () => {
        debuggable.debuggablePromise = original;
    };
}

/** Routes pulumi.log warnings and errors into `logs` instead of the console while a program runs. */
export function captureLogs(logs: LoggedMessage[]): () => void {
    const log = pulumi.log as any;
    const original = { warn: log.warn, error: log.error };
    log.warn = (message: string, resource?: pulumi.Resource) => {
        logs.push({ severity: "warning", message });
        void resource;
        return Promise.resolve();
    };
    log.error = (message: string) => {
        logs.push({ severity: "error", message });
        return Promise.resolve();
    };
    return () => {
        log.warn = original.warn;
        log.error = original.error;
    };
}
