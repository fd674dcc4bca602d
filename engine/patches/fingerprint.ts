/**
 * What a patch touches in code it does not own, pinned: the function (looked up where the patch finds it),
 * the package version it was reviewed against, and a fingerprint of the function's source there. A test
 * recomputes each fingerprint from the installed packages: an upgrade that changes a patched or relied-on
 * function fails it until someone reviews the patch against the new code and records the new fingerprint.
 */
import { createHash } from "crypto";

/** One function a patch replaces, wraps or relies on. */
export interface PatchTarget {
    /** `<package> <module path> <export>`: what it is. */
    readonly id: string;
    /** What the patch does with it. */
    readonly use: "replaced" | "wrapped" | "relied on";
    /** The package (as the patch resolves it) whose version this was reviewed against. */
    readonly pkg: string;
    /** The function, from the module instance the patch changes or calls. */
    readonly get: () => unknown;
    /** `length` (declared parameters) and {@link fingerprint} of its source in the reviewed version. */
    readonly arity: number;
    readonly sha256: string;
}

/** The first 16 hex digits of the SHA-256 of a function's source text. */
export function fingerprint(fn: unknown): string {
    if (typeof fn !== "function") throw new Error(`not a function: ${String(fn)}`);
    return createHash("sha256").update(Function.prototype.toString.call(fn)).digest("hex").slice(0, 16);
}
