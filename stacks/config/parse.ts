/**
 * Parsing the stack configuration: {@link parsePlatformConfig} is a pure function from the raw `mlops:`
 * values to a validated {@link PlatformConfig}. It applies the environment's defaults (defaults.ts),
 * validates the merged result against the schema (schema.ts) and the rules that span keys (rules.ts),
 * and reports every problem at once, each naming the key, the bad value and what is allowed
 * (messages.ts), before any resource is registered.
 */
import { CONFIG_NAMESPACE, ENVIRONMENTS, type Environment } from "../../components/contract";
import { ENVIRONMENT_DEFAULTS } from "./defaults";
import { ConfigError, describeIssue, show } from "./messages";
import { crossFieldProblems } from "./rules";
import { type PlatformConfig, platformConfigSchema } from "./schema";

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else in `override` replaces `base`. */
export function deepMerge<T>(base: T, override: unknown): T {
    if (!isPlainObject(base) || !isPlainObject(override)) {
        return (override === undefined ? base : override) as T;
    }
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(override)) {
        out[k] = k in base ? deepMerge((base as Record<string, unknown>)[k], v) : v;
    }
    return out as T;
}

/**
 * Parses raw stack configuration into a validated {@link PlatformConfig}.
 *
 * @param raw the `mlops:` keys of the stack, without the namespace, as Pulumi hands them to the program:
 *   strings, with structured values JSON-encoded (objects may also be passed already decoded).
 * @param stack the stack name, for messages.
 * @throws ConfigError listing every problem.
 */
export function parsePlatformConfig(raw: Readonly<Record<string, unknown>>, stack: string): PlatformConfig {
    const decoded: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        decoded[key] = decodeValue(value);
    }
    const env = decoded.environment;
    if (typeof env !== "string" || !(ENVIRONMENTS as readonly string[]).includes(env)) {
        throw new ConfigError(stack, [`${CONFIG_NAMESPACE}:environment: got ${show(env)}; expected one of ${ENVIRONMENTS.join(", ")}.`]);
    }
    const merged = deepMerge(ENVIRONMENT_DEFAULTS[env as Environment], decoded);
    const result = platformConfigSchema.safeParse(merged);
    if (!result.success) {
        throw new ConfigError(
            stack,
            result.error.issues.flatMap((i) => describeIssue(i, merged)),
        );
    }
    const problems = crossFieldProblems(result.data);
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return result.data;
}

/** Pulumi hands structured config to programs as JSON text; scalars stay strings. */
function decodeValue(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const t = value.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
        try {
            return JSON.parse(t);
        } catch {
            return value;
        }
    }
    return value;
}
