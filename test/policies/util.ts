/**
 * Helpers for policy unit tests, in the style of AWSGuard's `src/tests/util.ts`: build the arguments
 * @pulumi/policy hands a policy (properties deserialized and wrapped in its unknown-checking proxy, as
 * the real server does), run the policy, and assert the exact violations.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { expect } from "vitest";
import type { PolicyFactory, ResourcePolicyFactory, StackPolicyFactory } from "../../policy/framework/define";
import { policyProps, toPolicyResources, type RecordedLike } from "../../policy/framework/runner";
import type { Environment, PolicyContext } from "../../policy/framework/types";
import { UNKNOWN_SENTINELS } from "../../policy/framework/unknowns";

/** The unknown value the engine sends during preview for a string (what `pulumi.Output`s not yet known become). */
export const UNKNOWN = UNKNOWN_SENTINELS.string;

/** The moment tests run "at": approval ages are measured from it. */
export const NOW = new Date("2025-06-15T12:00:00Z");

/** A stack context; `null` makes the environment or label domain unknown (as when the engine did not say). */
export function context(environment: Environment | null = "prod", labelDomain: string | null = "acme.io"): PolicyContext {
    return { stack: environment ?? undefined, environment: environment ?? undefined, labelDomain: labelDomain ?? undefined, now: NOW };
}

/** A policy from its factory, running in `ctx` (prod, acme.io by default). */
export function resourcePolicy(factory: ResourcePolicyFactory, ctx: PolicyContext = context()): ResourceValidationPolicy {
    return factory({ context: () => ctx });
}

export function stackPolicy(factory: StackPolicyFactory, ctx: PolicyContext = context()): StackValidationPolicy {
    return factory({ context: () => ctx });
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

/** Config as the CLI sends it: the schema defaults with `overrides` on top. */
function configOf(factory: PolicyFactory | undefined, overrides: Record<string, unknown>): Record<string, unknown> {
    return { ...(factory ? structuredClone(factory.defaults as Record<string, unknown>) : {}), ...overrides };
}

export interface ResourceArgsOptions {
    name?: string;
    protect?: boolean;
    config?: Record<string, unknown>;
    /** The factory, to fill the config with its schema defaults. */
    factory?: PolicyFactory;
}

/** ResourceValidationArgs for a resource of `type` with `props` (plain data; unknown sentinels allowed). */
export function createResourceValidationArgs(type: string, props: Record<string, unknown>, opts: ResourceArgsOptions = {}): ResourceValidationArgs {
    const name = opts.name ?? "test-resource";
    return {
        type,
        props: policyProps(props),
        urn: `urn:pulumi:prod::mlops::${type}::${name}`,
        name,
        opts: {
            protect: opts.protect ?? false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => configOf(opts.factory, opts.config ?? {}) as T,
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason ?? "");
        },
    };
}

/** A resource of a synthetic stack. */
export interface TestResource {
    type: string;
    name: string;
    props: Record<string, unknown>;
    /** Name of the provider resource (in the same list) it was registered with. */
    provider?: string;
    /** Property name -> names of the resources its value came from (e.g. `{ bucket: ["bucket"] }`). */
    propertyDependencies?: Record<string, string[]>;
    protect?: boolean;
}

const urnOf = (r: Pick<TestResource, "type" | "name">) => `urn:pulumi:prod::mlops::${r.type}::${r.name}`;

/** The resources as AnalyzeStack hands them to stack policies, joined as the engine joins them. */
export function policyResources(resources: readonly TestResource[]): PolicyResource[] {
    const byName = new Map(resources.map((r) => [r.name, r]));
    const records: RecordedLike[] = resources.map((r) => {
        const provider = r.provider ? byName.get(r.provider) : undefined;
        if (r.provider && !provider) throw new Error(`no provider resource named ${r.provider}`);
        return {
            urn: urnOf(r),
            type: r.type,
            name: r.name,
            custom: true,
            parent: "",
            provider: provider ? `${urnOf(provider)}::${provider.name}-id` : "",
            inputs: r.props,
            outputs: r.props,
            dependencies: [],
            propertyDependencies: Object.fromEntries(
                Object.entries(r.propertyDependencies ?? {}).map(([k, names]) => [k, names.map((n) => urnOf(byName.get(n) ?? { type: "missing", name: n }))]),
            ),
            options: { protect: r.protect ?? false, ignoreChanges: [], additionalSecretOutputs: [] },
        };
    });
    return toPolicyResources(records);
}

export function createStackValidationArgs(
    resources: readonly TestResource[],
    opts: { config?: Record<string, unknown>; factory?: PolicyFactory } = {},
): StackValidationArgs {
    return {
        resources: policyResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => configOf(opts.factory, opts.config ?? {}) as T,
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason ?? "");
        },
    };
}

export interface PolicyViolation {
    message: string;
    urn?: string;
}

export interface PolicyRun {
    violations: PolicyViolation[];
    /** The not-applicable reason, when the policy reported one. */
    notApplicable?: string;
}

/** Runs a resource policy's validations; reports violations and whether it declared itself not applicable. */
export async function runResourcePolicy(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<PolicyRun> {
    const violations: PolicyViolation[] = [];
    const report = (message: string | object, urn?: string) => violations.push({ message: String(message), urn });
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    try {
        for (const v of validations) await v(args, report);
    } catch (e) {
        if (e instanceof NotApplicable) return { violations, notApplicable: e.reason };
        throw e;
    }
    return { violations };
}

export async function runStackPolicy(policy: StackValidationPolicy, args: StackValidationArgs): Promise<PolicyRun> {
    const violations: PolicyViolation[] = [];
    try {
        await policy.validateStack(args, (message, urn) => violations.push({ message: String(message), urn }));
    } catch (e) {
        if (e instanceof NotApplicable) return { violations, notApplicable: e.reason };
        throw e;
    }
    return { violations };
}

const messages = (run: PolicyRun) => run.violations.map((v) => v.message);

/** The policy reports exactly `message` (among possibly others). */
export async function assertHasResourceViolation(policy: ResourceValidationPolicy, args: ResourceValidationArgs, message: string): Promise<void> {
    const run = await runResourcePolicy(policy, args);
    expect(run.notApplicable, `unexpectedly not applicable: ${run.notApplicable}`).toBeUndefined();
    expect(messages(run)).toContain(message);
}

/** The policy passes: no violation, and it did not skip. */
export async function assertNoResourceViolations(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<void> {
    const run = await runResourcePolicy(policy, args);
    expect(run.notApplicable, `unexpectedly not applicable: ${run.notApplicable}`).toBeUndefined();
    expect(messages(run)).toEqual([]);
}

/** The policy declares itself not applicable with a reason containing `reason`, and reports nothing. */
export async function assertResourceNotApplicable(policy: ResourceValidationPolicy, args: ResourceValidationArgs, reason: string | RegExp): Promise<void> {
    const run = await runResourcePolicy(policy, args);
    expect(messages(run)).toEqual([]);
    expect(run.notApplicable).toBeDefined();
    expect(run.notApplicable).toMatch(reason);
}

export async function assertHasStackViolation(policy: StackValidationPolicy, args: StackValidationArgs, message: string, urnSuffix?: string): Promise<void> {
    const run = await runStackPolicy(policy, args);
    const hit = run.violations.find((v) => v.message === message);
    expect(hit, `violation "${message}" not among:\n${messages(run).join("\n")}`).toBeDefined();
    if (urnSuffix) expect(hit!.urn).toMatch(new RegExp(`${urnSuffix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
}

export async function assertNoStackViolations(policy: StackValidationPolicy, args: StackValidationArgs): Promise<void> {
    const run = await runStackPolicy(policy, args);
    expect(run.notApplicable, `unexpectedly not applicable: ${run.notApplicable}`).toBeUndefined();
    expect(messages(run)).toEqual([]);
}

/** Deep copy with `mutate` applied: one field changed per test case. */
export function variant<T>(base: T, mutate: (copy: T) => void): T {
    const copy = structuredClone(base);
    mutate(copy);
    return copy;
}

/** `stack` with the resource named `name` changed by `mutate` (on a copy), or removed when `mutate` returns null. */
export function withResource(stack: TestResource[], name: string, mutate: (props: Record<string, any>) => unknown): TestResource[] {
    return stack.flatMap((r) => {
        if (r.name !== name) return [r];
        const props = structuredClone(r.props);
        return mutate(props) === null ? [] : [{ ...r, props }];
    });
}
