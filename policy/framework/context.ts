/**
 * How a pack learns which stack it is checking.
 *
 * The Pulumi CLI starts a policy pack as its own process (`pulumi-analyzer-policy`) and passes the stack
 * as environment variables, as it does for programs: `PULUMI_NODEJS_STACK` (the stack name, what
 * `pulumi.getStack()` returns), `PULUMI_NODEJS_PROJECT` and `PULUMI_CONFIG` (the stack's configuration
 * as JSON). Newer CLIs also send `ConfigureStack`; @pulumi/policy 1.21 keeps only its tags
 * (`args.stackTags`), not the stack name.
 *
 * The environment (dev, test, prod) is derived from the stack name first: it is what the engine is
 * deploying, so a stack whose config claims another environment is caught rather than believed. Then a
 * stack tag `environment`, then the stack's own `mlops:environment` config key (or `<project>:environment`
 * of a team project). The label domain is `mlops:labelDomain` (or `<project>:labelDomain`).
 */
import { CONFIG_NAMESPACE, SHARED_CONFIG_KEYS } from "../../components/contract";
import { ENVIRONMENTS, type Environment, isEnvironment, type PolicyContext } from "./types";

/** The environment a stack name denotes: `prod`, or the last `-`/`.`/`_`/`/` separated part (`acme/prod`, `mlops-prod`). */
export function environmentOfStack(stack: string | undefined): Environment | undefined {
    if (!stack) return undefined;
    const s = stack.toLowerCase();
    if (isEnvironment(s)) return s;
    const last = s.split(/[-._/]/).pop();
    return isEnvironment(last) ? last : undefined;
}

function stackConfig(env: NodeJS.ProcessEnv): Record<string, string> {
    const text = env.PULUMI_CONFIG;
    if (!text) return {};
    try {
        const parsed = JSON.parse(text);
        return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, string>) : {};
    } catch {
        return {};
    }
}

/** A project config value by key (`<project>:<key>`): `mlops:` first, then any other project's. */
export function projectConfigValue(config: Record<string, string>, key: string): string | undefined {
    const own = config[`${CONFIG_NAMESPACE}:${key}`];
    if (typeof own === "string" && own) return own;
    const other = Object.entries(config).find(([k, v]) => k.endsWith(`:${key}`) && !k.slice(0, -key.length - 1).includes(":") && typeof v === "string" && v);
    return other?.[1];
}

/**
 * The context of the running pack: from the process environment the CLI set and the stack tags of
 * `ConfigureStack`. `pulumi.getStack()` returns "stack" when nothing was set; that is treated as unknown.
 */
export function runtimeContext(stackTags?: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv = process.env): PolicyContext {
    const stackName = env.PULUMI_NODEJS_STACK || undefined;
    const config = stackConfig(env);
    const tagEnv = stackTags?.get("environment");
    const configEnv = projectConfigValue(config, SHARED_CONFIG_KEYS.environment);
    const environment = environmentOfStack(stackName) ?? (isEnvironment(tagEnv) ? tagEnv : undefined) ?? (isEnvironment(configEnv) ? configEnv : undefined);
    const labelDomain = projectConfigValue(config, SHARED_CONFIG_KEYS.labelDomain);
    return { stack: stackName, environment, labelDomain, now: new Date() };
}

export { ENVIRONMENTS };
