/**
 * Error messages of the stack configuration: each names the key (`mlops:<path>`, a team by its name), the
 * value it got and what is allowed, with a "did you mean" for a mistyped key (edit distance).
 */
import { z } from "zod";
import { CONFIG_NAMESPACE } from "../../components/contract";
import { platformConfigSchema } from "./schema";

/** Thrown for invalid configuration; `problems` holds one sentence per bad key. */
export class ConfigError extends Error {
    constructor(
        readonly stackName: string,
        readonly problems: readonly string[],
    ) {
        super(
            `Invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}

/** The closest of `candidates` to `key`, if it is close enough to be a likely typo. */
export function suggestKey(key: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = editDistance(key, c);
        if (d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Renders a config value for an error message, shortened. */
export function show(value: unknown): string {
    if (value === undefined) return "nothing (the key is missing)";
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function keyName(path: readonly PropertyKey[], input?: unknown): string {
    const [head, ...rest] = path.map(String);
    const name = `${CONFIG_NAMESPACE}:${head}` + rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("");
    // A team is named by its name too, not only by its position in the list.
    const team = head === "teams" && path.length > 2 ? (valueAt(input, path.slice(0, 2)) as { name?: unknown } | undefined)?.name : undefined;
    return typeof team === "string" ? `${name} (team ${JSON.stringify(team)})` : name;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let v: unknown = root;
    for (const p of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<PropertyKey, unknown>)[p];
    }
    return v;
}

/** Schema of the object at `path`, to list its allowed keys. */
function objectKeysAt(path: readonly PropertyKey[]): string[] {
    // Optional and defaulted keys wrap their schema (teams: a defaulted array of objects).
    const unwrap = (s: z.ZodType): z.ZodType => (s instanceof z.ZodOptional || s instanceof z.ZodDefault ? unwrap(s.unwrap() as z.ZodType) : s);
    let schema: z.ZodType = platformConfigSchema;
    for (const p of path) {
        schema = unwrap(schema);
        if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(p)];
        else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
        if (!schema) return [];
    }
    schema = unwrap(schema);
    return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
    if (issue.code === "unrecognized_keys") {
        const allowed = objectKeysAt(issue.path);
        return issue.keys.map((k) => {
            const full = keyName([...issue.path, k]);
            // `pulumi config set mlops:mlflow.replicas 2` (without --path) writes a flat key with a dot.
            const [head] = k.split(".");
            if (issue.path.length === 0 && k.includes(".") && allowed.includes(head)) {
                return (
                    `${full}: unknown key; it looks like a nested key written flat (pulumi config set without --path). ` +
                    `Remove it (pulumi config rm '${full}') and set it nested: pulumi config set --path '${full}' <value>.`
                );
            }
            const suggestion = suggestKey(k, allowed);
            return (
                `${full}: unknown key` +
                (suggestion ? `; did you mean "${keyName([...issue.path, suggestion])}"?` : ".") +
                ` Allowed keys here: ${allowed.join(", ")}.`
            );
        });
    }
    const value = valueAt(input, issue.path);
    let allowed = issue.message;
    if (issue.code === "invalid_type" && issue.expected === "object") {
        allowed = `a map with the keys ${objectKeysAt(issue.path).join(", ")}`;
    }
    const expected = value === undefined ? `a value is required: ${allowed}` : `expected ${allowed}`;
    return [`${keyName(issue.path, input)}: got ${show(value)}; ${expected}.`];
}
