/**
 * Runtime checks of a component's arguments as a team passes them: from plain JavaScript or untyped
 * configuration, where the TypeScript types do not hold. A shape names every argument, whether it is
 * required and what it must be; {@link shapeProblems} lists every missing argument, wrong type and
 * unknown key (with a "did you mean") at once, each naming the argument's path. The components then
 * check values only where the shape holds ({@link withoutShapeDuplicates}), so every problem is
 * reported in one pass and none twice. Pure.
 */
import * as pulumi from "@pulumi/pulumi";

/** What an argument must be. `input`: anything but undefined (a value or an Output). */
export type ArgKind =
    | "string"
    | "number"
    | "integer"
    | "boolean"
    | "string[]"
    | "input"
    | "record"
    | { readonly object: Shape }
    | { readonly oneOf: readonly Shape[]; readonly describe: string };

export interface ArgSpec {
    readonly kind: ArgKind;
    readonly required?: boolean;
    /** What the argument is, for "is required" messages. */
    readonly hint?: string;
}

/** The arguments of an object, by key. */
export type Shape = Readonly<Record<string, ArgSpec>>;

/** A shape with exactly the keys of `T` (use with `satisfies`: the compiler keeps shapes and types in step). */
export type ShapeOf<T> = { readonly [K in keyof Required<T>]: ArgSpec };

export const req = (kind: ArgKind, hint?: string): ArgSpec => ({ kind, required: true, hint });
export const opt = (kind: ArgKind, hint?: string): ArgSpec => ({ kind, hint });

/** A problem of the shape, at `path`. */
export interface ShapeProblem {
    path: string;
    message: string;
}

function describeValue(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "string") return `"${v.length > 40 ? `${v.slice(0, 37)}...` : v}" (a string)`;
    if (typeof v === "object") return "an object";
    return `${String(v)} (a ${typeof v})`;
}

function kindName(kind: ArgKind): string {
    if (typeof kind === "object") return "oneOf" in kind ? kind.describe : "an object";
    return {
        string: "a string",
        number: "a number",
        integer: "an integer",
        boolean: "true or false",
        "string[]": "a list of strings",
        input: "a value",
        record: "an object of names to values",
    }[kind];
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++)
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    }
    return d[a.length][b.length];
}

/** The closest of `candidates` to `key`, if close enough to be a typo. */
export function closest(key: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestD = Infinity;
    for (const c of candidates) {
        const dist = distance(key, c);
        if (dist < bestD) [best, bestD] = [c, dist];
    }
    return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function kindProblems(value: unknown, kind: ArgKind, path: string): ShapeProblem[] {
    const wrong = (): ShapeProblem[] => [{ path, message: `${path} must be ${kindName(kind)}, got ${describeValue(value)}` }];
    // An Output is accepted wherever a value may be one (the component's types say where).
    if (pulumi.Output.isInstance(value)) return kind === "input" || typeof kind !== "object" ? [] : wrong();
    if (typeof kind === "object" && "oneOf" in kind) {
        if (typeof value !== "object" || value === null || Array.isArray(value)) return wrong();
        const keys = Object.keys(value);
        const match = kind.oneOf.find((s) => keys.some((k) => k in s));
        return match ? objectProblems(value as Record<string, unknown>, match, path) : wrong();
    }
    if (typeof kind === "object") {
        if (typeof value !== "object" || value === null || Array.isArray(value)) return wrong();
        return objectProblems(value as Record<string, unknown>, kind.object, path);
    }
    switch (kind) {
        case "string":
            return typeof value === "string" ? [] : wrong();
        case "number":
            return typeof value === "number" ? [] : wrong();
        case "integer":
            // A fractional number is the value check's to report, with the allowed range.
            return typeof value === "number" ? [] : wrong();
        case "boolean":
            return typeof value === "boolean" ? [] : wrong();
        case "string[]": {
            if (!Array.isArray(value)) return wrong();
            const i = value.findIndex((e) => typeof e !== "string");
            return i < 0 ? [] : [{ path, message: `${path} must be a list of strings, got ${describeValue(value[i])} at ${path}[${i}]` }];
        }
        case "record":
            return typeof value === "object" && value !== null && !Array.isArray(value) ? [] : wrong();
        case "input":
            return [];
    }
}

function objectProblems(value: Record<string, unknown>, shape: Shape, path: string): ShapeProblem[] {
    const at = (k: string) => (path ? `${path}.${k}` : k);
    const problems: ShapeProblem[] = [];
    for (const [key, spec] of Object.entries(shape)) {
        const v = value[key];
        if (v === undefined) {
            if (spec.required) problems.push({ path: at(key), message: `${at(key)} is required${spec.hint ? `: ${spec.hint}` : ` (${kindName(spec.kind)})`}` });
            continue;
        }
        problems.push(...kindProblems(v, spec.kind, at(key)));
    }
    const known = Object.keys(shape);
    for (const key of Object.keys(value)) {
        if (key in shape || value[key] === undefined) continue;
        const guess = closest(key, known);
        problems.push({
            path: at(key),
            message: `${at(key)} is not an argument${guess ? `; did you mean ${at(guess)}?` : ` (known here: ${known.join(", ")})`}`,
        });
    }
    return problems;
}

/** Every problem of `args` against `shape` (missing, wrong type, unknown key), in the shape's order. */
export function shapeProblems(args: unknown, shape: Shape): ShapeProblem[] {
    if (typeof args !== "object" || args === null || Array.isArray(args))
        return [{ path: "", message: `the arguments must be an object, got ${describeValue(args)}` }];
    return objectProblems(args as Record<string, unknown>, shape, "");
}

/**
 * `args` with every required object or list that is missing or of the wrong type replaced by an empty
 * one, so value checks can run on the rest without failing on what the shape already reported.
 */
export function fillForChecks<T>(args: unknown, shape: Shape): T {
    const fill = (value: unknown, s: Shape): Record<string, unknown> => {
        const out: Record<string, unknown> = typeof value === "object" && value !== null && !Array.isArray(value) ? { ...(value as object) } : {};
        for (const [key, spec] of Object.entries(s)) {
            const kind = spec.kind;
            if (typeof kind === "object" && "object" in kind) {
                if (out[key] !== undefined || spec.required) out[key] = fill(pulumi.Output.isInstance(out[key]) ? {} : out[key], kind.object);
            } else if (typeof kind === "object" && "oneOf" in kind) {
                if (typeof out[key] !== "object" || out[key] === null) out[key] = spec.required ? {} : out[key];
            } else if (
                typeof kind === "string" &&
                kind !== "input" &&
                (out[key] === undefined ? spec.required : kindProblems(out[key], kind, key).length > 0)
            ) {
                // A value of the wrong type: a neutral one of the right type (its problem is already reported).
                const neutral = { string: "", number: 0, integer: 0, boolean: false, "string[]": [], record: {} }[kind];
                if (spec.required) out[key] = neutral;
                else delete out[key];
            } else if (kind === "string[]" && spec.required && !Array.isArray(out[key])) {
                out[key] = [];
            }
        }
        return out;
    };
    return fill(args, shape) as T;
}

/** Does a value check's message speak of `path` (it starts with the path, as every check's message does)? */
function mentions(message: string, path: string): boolean {
    const aliases: Record<string, string> = { modelUri: "model URI", image: "image" };
    const heads = [path, aliases[path]].filter((h): h is string => Boolean(h));
    return heads.some((h) => message === h || [" ", ".", ":", "[", ' "'].some((sep) => message.startsWith(`${h}${sep}`)) || message.startsWith(`${h} "`));
}

/** Value checks' problems without those about an argument whose shape is already reported. */
export function withoutShapeDuplicates(valueProblems: readonly string[], shape: readonly ShapeProblem[]): string[] {
    const paths = shape.map((p) => p.path).filter(Boolean);
    return valueProblems.filter((m) => !paths.some((p) => mentions(m, p)));
}

/** One message for every problem: `<Component> "<name>": <problem>; <problem>.`. */
export function argumentsError(component: string, name: string, problems: readonly string[]): Error {
    return new Error(`${component} "${name}": ${problems.join("; ")}.`);
}
