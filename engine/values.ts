/**
 * Pulumi's wire form of property values, as the engine and policy analyzers receive them: secrets are
 * objects tagged with a signature key, unknowns a fixed UUID string. Helpers to inspect and strip them.
 */

/** Key of the signature that marks special values. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** Signature of a secret: `{ [SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** Signature of a resource reference. */
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
/** The value of an unknown (computed during preview) property. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Is `v` a secret in wire form? */
export function isSecret(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Is `v` a resource reference in wire form? */
export function isResourceRef(v: unknown): v is { urn: string; id?: string } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === RESOURCE_SIG;
}

/** Plain value of `v` with every secret unwrapped (and resource references reduced to their id or URN). */
export function reveal<T = unknown>(v: unknown): T {
    if (isSecret(v)) return reveal(v.value);
    if (isResourceRef(v)) return (v.id ?? v.urn) as T;
    if (Array.isArray(v)) return v.map((e) => reveal(e)) as T;
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, reveal(e)])) as T;
    }
    return v as T;
}

/** `v` with every secret replaced by `placeholder`: what is safe to print or write to disk. */
export function redact(v: unknown, placeholder = "[secret]"): unknown {
    if (isSecret(v)) return placeholder;
    if (isResourceRef(v)) return v.id ?? v.urn;
    if (Array.isArray(v)) return v.map((e) => redact(e, placeholder));
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, redact(e, placeholder)]));
    }
    return v;
}

/** Dotted paths (`a.b[0].c`) of every secret inside `v`. */
export function secretPaths(v: unknown, path = ""): string[] {
    if (isSecret(v)) return [path];
    if (Array.isArray(v)) return v.flatMap((e, i) => secretPaths(e, `${path}[${i}]`));
    if (typeof v === "object" && v !== null) {
        return Object.entries(v).flatMap(([k, e]) => secretPaths(e, path ? `${path}.${k}` : k));
    }
    return [];
}
