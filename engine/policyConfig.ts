/**
 * Policy pack configuration as the Pulumi CLI handles it for `--policy-pack-config <file>`: the JSON file
 * format, the reconciliation of the pack's defaults, its initial (programmatic) config and the file, and
 * the validation of each policy's properties against the policy's config schema
 * (`pkg/resource/analyzer/config.go` in pulumi/pulumi). Pure functions, no I/O except {@link findPolicyConfig}.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";

export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type EnforcementLevel = (typeof ENFORCEMENT_LEVELS)[number];

export function isEnforcementLevel(v: unknown): v is EnforcementLevel {
    return typeof v === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(v);
}

/** The configuration of one policy: an enforcement level and/or properties. */
export interface PolicyConfig {
    enforcementLevel?: EnforcementLevel;
    properties?: Record<string, unknown>;
}

/** What the reconciliation needs to know about one policy of a pack (from GetAnalyzerInfo). */
export interface PolicyConfigInfo {
    name: string;
    enforcementLevel: EnforcementLevel;
    /** JSON schema of the policy's properties: `properties` and `required`, as the pack declares them. */
    configSchema?: { properties?: Record<string, Record<string, unknown>>; required?: string[] };
}

/** Error in a policy pack config file; the message names the file's key. */
export class PolicyConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyConfigError";
    }
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Removes and returns `enforcementLevel` from a policy's config object. */
function extractEnforcementLevel(key: string, props: Record<string, unknown>): EnforcementLevel | undefined {
    if (!("enforcementLevel" in props)) return undefined;
    const level = props.enforcementLevel;
    delete props.enforcementLevel;
    if (typeof level !== "string")
        throw new PolicyConfigError(`parsing enforcement level for "${key}": ${JSON.stringify(level)} is not a valid enforcement level; must be a string`);
    if (!isEnforcementLevel(level)) throw new PolicyConfigError(`parsing enforcement level for "${key}": "${level}" is not a valid enforcement level`);
    return level;
}

/**
 * Parses a policy pack config file: a JSON object whose keys are policy names (or `all`) and whose values
 * are an enforcement level or an object with an optional `enforcementLevel` and the policy's properties.
 * An empty file is no config.
 */
export function parsePolicyPackConfig(text: string): Record<string, PolicyConfig> {
    if (text.trim() === "") return {};
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new PolicyConfigError(`not valid JSON: ${(err as Error).message}`);
    }
    if (!isObject(doc)) throw new PolicyConfigError("must be a JSON object of policy name to configuration");
    const result: Record<string, PolicyConfig> = {};
    for (const [key, value] of Object.entries(doc)) {
        let enforcementLevel: EnforcementLevel | undefined;
        let properties: Record<string, unknown> | undefined;
        if (typeof value === "string") {
            if (!isEnforcementLevel(value)) throw new PolicyConfigError(`parsing enforcement level for "${key}": "${value}" is not a valid enforcement level`);
            enforcementLevel = value;
        } else if (isObject(value)) {
            const props = { ...value };
            enforcementLevel = extractEnforcementLevel(key, props);
            if (Object.keys(props).length > 0) properties = props;
        } else {
            throw new PolicyConfigError(`parsing "${key}": ${JSON.stringify(value)} is not a valid value; must be a string or object`);
        }
        if (enforcementLevel === undefined && properties === undefined) continue;
        result[key] = { ...(enforcementLevel ? { enforcementLevel } : {}), ...(properties ? { properties } : {}) };
    }
    return result;
}

/** Every policy at its declared level, with the defaults of its config schema filled in. */
function configWithDefaults(policies: readonly PolicyConfigInfo[]): Record<string, PolicyConfig> {
    const result: Record<string, PolicyConfig> = {};
    for (const p of policies) {
        let properties: Record<string, unknown> | undefined;
        for (const [k, schema] of Object.entries(p.configSchema?.properties ?? {})) {
            if (isObject(schema) && "default" in schema) (properties ??= {})[k] = schema.default;
        }
        result[p.name] = { enforcementLevel: p.enforcementLevel, ...(properties ? { properties } : {}) };
    }
    return result;
}

/** Applies `config` over `result`: `all` sets every policy's level first, then each key is merged. */
function applyConfig(result: Record<string, PolicyConfig>, config: Record<string, PolicyConfig>): Record<string, PolicyConfig> {
    const out: Record<string, PolicyConfig> = { ...result };
    const all = config.all;
    if (all && all.enforcementLevel) {
        for (const [k, v] of Object.entries(out)) out[k] = { ...v, enforcementLevel: all.enforcementLevel };
    }
    for (const [policy, given] of Object.entries(config)) {
        const current = out[policy] ?? {};
        let properties = current.properties ? { ...current.properties } : undefined;
        if (given.properties && Object.keys(given.properties).length > 0) properties = { ...(properties ?? {}), ...given.properties };
        out[policy] = {
            ...((given.enforcementLevel ?? current.enforcementLevel) ? { enforcementLevel: given.enforcementLevel ?? current.enforcementLevel } : {}),
            ...(properties ? { properties } : {}),
        };
    }
    return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });

/** Validation errors of every policy's properties against its schema, as `policy: message`. */
export function validatePolicyPackConfig(policies: readonly PolicyConfigInfo[], config: Record<string, PolicyConfig>): string[] {
    const errors: string[] = [];
    for (const p of policies) {
        if (!p.configSchema) continue;
        const schema: Record<string, unknown> = { type: "object" };
        if (p.configSchema.properties && Object.keys(p.configSchema.properties).length > 0) schema.properties = p.configSchema.properties;
        if (p.configSchema.required && p.configSchema.required.length > 0) schema.required = p.configSchema.required;
        const validate = ajv.compile(schema);
        if (validate(config[p.name]?.properties ?? {})) continue;
        for (const e of validate.errors ?? []) {
            const where = e.instancePath ? `${e.instancePath.slice(1).replace(/\//g, ".")}: ` : "";
            errors.push(`${p.name}: ${where}${e.message ?? "is invalid"}`);
        }
    }
    return errors;
}

/**
 * The configuration the CLI sends with `Configure`: every policy's defaults, then the pack's initial
 * config, then the file's; `errors` lists schema violations (the CLI refuses to run then).
 */
export function reconcilePolicyPackConfig(
    policies: readonly PolicyConfigInfo[],
    initialConfig: Record<string, PolicyConfig> | undefined,
    config: Record<string, PolicyConfig> | undefined,
): { config: Record<string, PolicyConfig>; errors: string[] } {
    let result = configWithDefaults(policies);
    if (initialConfig) result = applyConfig(result, initialConfig);
    if (config) result = applyConfig(result, config);
    const errors = validatePolicyPackConfig(policies, result);
    return { config: result, errors };
}

/**
 * The default config file of a pack for a stack, first that exists (`<packs>` is the directory holding
 * the pack, e.g. `policy/`; `<pack>` its directory name):
 * `<packs>/<pack>/config/<stack>.json`, `<packs>/config/<stack>/<pack>.json` (this repository's layout),
 * `<packs>/config/<pack>/<stack>.json`, `<packs>/config/<stack>.json`.
 */
export function findPolicyConfig(packDir: string, stack: string): string | undefined {
    const parent = path.dirname(path.resolve(packDir));
    const pack = path.basename(path.resolve(packDir));
    const candidates = [
        path.join(packDir, "config", `${stack}.json`),
        path.join(parent, "config", stack, `${pack}.json`),
        path.join(parent, "config", pack, `${stack}.json`),
        path.join(parent, "config", `${stack}.json`),
    ];
    return candidates.find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
}
