/**
 * Values that are unknown during `pulumi preview` (outputs of resources not yet created).
 *
 * @pulumi/policy 1.21 deserializes a resource's properties and wraps them in a proxy
 * (`unknownCheckingProxy`) that throws an `UnknownValueError` when a check reads a property whose value
 * is one of the engine's unknown sentinels. Left alone, that error becomes an advisory "can't run policy
 * during preview" diagnostic. Our policies catch it instead and report the policy as not applicable to
 * that resource, naming the property: a check never passes on a value it could not see, and never
 * crashes on one.
 */

/** The sentinels the engine sends for unknown values, by type (`@pulumi/policy/proxy.js`). */
export const UNKNOWN_SENTINELS: Readonly<Record<string, string>> = {
    boolean: "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    number: "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    string: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    array: "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    asset: "030794c1-ac77-496b-92df-f27374a8bd58",
    archive: "e48ece36-62e2-4504-bad9-02848725956a",
    object: "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
};

const SENTINEL_SET = new Set(Object.values(UNKNOWN_SENTINELS));

/** Is `v` an unknown sentinel? */
export function isUnknown(v: unknown): boolean {
    return typeof v === "string" && SENTINEL_SET.has(v);
}

/** Error thrown by {@link strict} proxies (and recognised alongside @pulumi/policy's own). */
export class UnknownValueError extends Error {
    constructor(readonly path: readonly PropertyKey[]) {
        super(`value at .${path.map(String).join(".")} can't be known during preview`);
        this.name = "UnknownValueError";
    }
}

/** Is `e` an unknown-value error, ours or @pulumi/policy's? */
export function isUnknownValueError(e: unknown): e is Error {
    if (!(e instanceof Error)) return false;
    return e instanceof UnknownValueError || e.constructor?.name === "UnknownValueError" || "unknownTypeSentinel" in e;
}

const IS_PROXY = "__isSpecialProxy";
const PROXY_TARGET = "__getSpecialProxyTarget";

/**
 * The plain value behind a @pulumi/policy proxy (or `v` itself), unknown sentinels included: for checks
 * that walk a whole property tree and treat unknowns explicitly rather than throwing on the first one.
 */
export function raw<T = unknown>(v: T): T {
    if (v !== null && typeof v === "object" && (v as Record<string, unknown>)[IS_PROXY] === true) {
        return (v as Record<string, unknown>)[PROXY_TARGET] as T;
    }
    return v;
}

/**
 * Wraps plain data so reading an unknown sentinel throws {@link UnknownValueError}, like @pulumi/policy
 * does for the properties it hands to policies. Used where we build policy arguments ourselves.
 */
export function strict<T>(value: T, path: PropertyKey[] = []): T {
    if (value === null || typeof value !== "object") return value;
    return new Proxy(value as unknown as object, {
        get(target, prop) {
            if (prop === IS_PROXY) return true;
            if (prop === PROXY_TARGET) return target;
            const field = (target as Record<PropertyKey, unknown>)[prop];
            if (isUnknown(field)) throw new UnknownValueError([...path, prop]);
            const desc = Object.getOwnPropertyDescriptor(target, prop);
            if (desc && "value" in desc && desc.configurable === false && desc.writable === false) return field;
            return strict(field, [...path, prop]);
        },
    }) as T;
}
