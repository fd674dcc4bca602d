/**
 * Whether the values the platform sets exist in the chart it sets them on: Helm ignores a value no
 * template reads, so a value renamed upstream is silently dropped. This compares the platform's values
 * with the chart's defaults (values.yaml, each dependency's under its name or alias, coalesced as Helm
 * does) and, where the chart ships one, validates them against its values.schema.json.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import YAML from "yaml";

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `over` deep-merged onto `base` (objects merge, anything else replaces): Helm's coalescing of defaults. */
function coalesce(base: unknown, over: unknown): unknown {
    if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = coalesce(base[k], v);
    return out;
}

/** A chart's default values with its dependencies' defaults under their names (or aliases), recursively. */
export function chartDefaults(chartDir: string): Obj {
    const read = (file: string) => (fs.existsSync(file) ? (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) : {});
    const own = read(path.join(chartDir, "values.yaml")) as Obj;
    const meta = read(path.join(chartDir, "Chart.yaml")) as { dependencies?: { name: string; alias?: string }[] };
    let out: Obj = {};
    for (const dep of meta.dependencies ?? []) {
        const dir = path.join(chartDir, "charts", dep.name);
        if (fs.existsSync(path.join(dir, "Chart.yaml"))) out[dep.alias ?? dep.name] = chartDefaults(dir);
    }
    out = coalesce(out, own) as Obj;
    return out;
}

/**
 * Keys whose value a chart passes through verbatim into an object (a Kubernetes security context or
 * resource requirements) or a config file (`grafana.ini`): the key must exist, its contents are not
 * looked up in the defaults - the Kubernetes ones are checked where they land, by the schema check of
 * the rendered objects.
 */
export const PASS_THROUGH_KEYS: ReadonlySet<string> = new Set([
    "securityContext",
    "podSecurityContext",
    "containerSecurityContext",
    "resources",
    "grafana.ini",
]);

/**
 * Paths of `values` the defaults do not have. A default that is a map with no keys (`podLabels: {}`),
 * a list, a scalar or null takes anything below it (labels, free-form config); a non-empty map is
 * descended into (unless its key is one of {@link PASS_THROUGH_KEYS}), and a key it lacks is reported as `a.b.c`.
 */
export function unknownValuePaths(values: unknown, defaults: unknown, prefix = ""): string[] {
    if (!isObject(values)) return [];
    if (!isObject(defaults) || Object.keys(defaults).length === 0) return [];
    const out: string[] = [];
    for (const [k, v] of Object.entries(values)) {
        const p = prefix ? `${prefix}.${k}` : k;
        if (!(k in defaults)) {
            out.push(p);
            continue;
        }
        if (!PASS_THROUGH_KEYS.has(k)) out.push(...unknownValuePaths(v, defaults[k], p));
    }
    return out;
}

/** Errors of `values` against the chart's values.schema.json (none when it ships none). */
export function schemaErrors(chartDir: string, values: unknown): string[] {
    const file = path.join(chartDir, "values.schema.json");
    if (!fs.existsSync(file)) return [];
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(file, "utf8")));
    if (validate(values)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
}

/** Every problem of `values` on the chart in `chartDir`: unknown paths, then schema errors. */
export function checkValues(chartDir: string, values: unknown): string[] {
    return [...unknownValuePaths(values, chartDefaults(chartDir)).map((p) => `${p} is not a value of the chart`), ...schemaErrors(chartDir, values)];
}
