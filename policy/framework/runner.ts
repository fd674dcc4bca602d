/**
 * Runs packs in-process over recorded resources: the fast path for tests (the offline plan's analyzer
 * client runs the same packs out of process, over gRPC, as `pulumi preview --policy-pack` does).
 *
 * It builds the arguments @pulumi/policy 1.21's server would build: properties go through the same
 * `deserializeProperties` (secrets unwrapped, resource references reduced to ids) and the same
 * `unknownCheckingProxy` (reading an unknown throws), resource policies see inputs, stack policies see
 * the final state (outputs) with parents, dependencies, property dependencies and providers joined,
 * the config file's level and properties apply as the CLI applies them. It calls the policies the
 * packs serve (the factories' products), so nothing here re-implements a check.
 */
import type {
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { SHARED_CONFIG_KEYS } from "../../components/contract";
import { environmentOfStack, projectConfigValue } from "./context";
import { effectiveLevel, effectiveProperties, type PackConfigFile } from "./configFiles";
import type { PackDefinition, PolicyFactory } from "./define";
import type { EnforcementLevel, PolicyContext, Severity } from "./types";
import { isUnknownValueError } from "./unknowns";

/* eslint-disable @typescript-eslint/no-require-imports */
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: Record<string, unknown>): unknown } };
const { deserializeProperties } = require("@pulumi/policy/deserialize") as { deserializeProperties(s: unknown, proxySecrets: boolean): Record<string, any> };
const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(v: T): T };

/** What the runner needs of a recorded resource (engine/recorder.ts `RecordedResource` fits). */
export interface RecordedLike {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    /** `<provider urn>::<id>`, or "". */
    provider: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    options: { protect: boolean; ignoreChanges: string[]; additionalSecretOutputs: string[]; deleteBeforeReplace?: boolean };
}

/** One violation a pack reported. */
export interface Finding {
    pack: string;
    policy: string;
    level: EnforcementLevel;
    severity: Severity;
    message: string;
    /** The resource (resource policies: the one analysed; stack policies: the one reported). */
    urn?: string;
    stage: "resource" | "stack";
}

export interface NotApplicable {
    pack: string;
    policy: string;
    urn?: string;
    reason: string;
}

export interface PackRun {
    findings: Finding[];
    notApplicable: NotApplicable[];
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

/** Resource references become their id (or URN), as the engine marshals them for analyzers. */
function withoutResourceRefs(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(withoutResourceRefs);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SIG_KEY] === RESOURCE_SIG) return (o.id as string) || (o.urn as string);
        return Object.fromEntries(
            Object.entries(o)
                .filter(([, e]) => e !== undefined)
                .map(([k, e]) => [k, withoutResourceRefs(e)]),
        );
    }
    return v;
}

/** Wire-form properties as a policy sees them: deserialized and wrapped in @pulumi/policy's unknown-checking proxy. */
export function policyProps(wire: Record<string, unknown>): Record<string, any> {
    return propsOf(toStruct(wire));
}

const toStruct = (wire: Record<string, unknown>) => Struct.fromJavaScript(withoutResourceRefs(wire) as Record<string, unknown>);
/** What the server does with a request's Struct: each call decodes its own copy. */
const propsOf = (struct: unknown) => unknownCheckingProxy(deserializeProperties(struct, false));

/** Decodes wire-form properties to what a policy sees ({@link policyProps}). */
export type PropsDecoder = (wire: Record<string, unknown>) => Record<string, any>;

/**
 * A {@link policyProps} for one run of the packs over resources that do not change during it: each wire
 * object becomes a protobuf Struct once (a provider's inputs go with every resource it manages, and every
 * pack reads every resource), and every call still decodes its own copy from the Struct, as the server
 * decodes each request's.
 */
export function runDecoder(): PropsDecoder {
    const structs = new WeakMap<object, unknown>();
    return (wire) => {
        let struct = structs.get(wire);
        if (struct === undefined) {
            struct = toStruct(wire);
            structs.set(wire, struct);
        }
        return propsOf(struct);
    };
}

function options(r: RecordedLike): PolicyResourceOptions {
    return {
        protect: r.options.protect,
        ignoreChanges: r.options.ignoreChanges,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.options.additionalSecretOutputs,
        ...(r.options.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

const urnName = (urn: string) => urn.split("::").slice(3).join("::");
const providerUrn = (ref: string) => (ref.lastIndexOf("::") < 0 ? ref : ref.slice(0, ref.lastIndexOf("::")));

function providerOf(r: RecordedLike, byUrn: ReadonlyMap<string, RecordedLike>, decode: PropsDecoder): PolicyProviderResource | undefined {
    if (!r.provider) return undefined;
    const p = byUrn.get(providerUrn(r.provider));
    return p ? { type: p.type, name: urnName(p.urn), urn: p.urn, props: decode(p.inputs) } : undefined;
}

class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}
const notApplicable = (reason?: string): never => {
    throw new NotApplicableError(reason);
};

/** The stack context of a recorded stack: environment from the stack name, label domain from its config. */
export function contextForStack(stack: string, config: Record<string, string> = {}, now = new Date()): PolicyContext {
    return { stack, environment: environmentOfStack(stack), labelDomain: projectConfigValue(config, SHARED_CONFIG_KEYS.labelDomain), now };
}

/** Runs one pack over `resources` with a stack's config file, in-process. */
export async function runPack(
    pack: PackDefinition,
    resources: readonly RecordedLike[],
    file: PackConfigFile,
    context: PolicyContext,
    decode: PropsDecoder = runDecoder(),
): Promise<PackRun> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const findings: Finding[] = [];
    const skipped: NotApplicable[] = [];
    const active = pack.policies
        .map((factory) => ({ factory, level: effectiveLevel(file, factory.meta.name) }))
        .filter((p) => p.level !== "disabled")
        .map(({ factory, level }) => ({
            factory,
            level: (level === "remediate" ? "mandatory" : level) as EnforcementLevel,
            policy: (factory as PolicyFactory)({ context: () => context }),
            config: effectiveProperties(file, factory),
        }));

    const record =
        (factory: PolicyFactory, level: EnforcementLevel, stage: Finding["stage"], defaultUrn?: string) => (message: string | object, urn?: string) =>
            findings.push({
                pack: pack.name,
                policy: factory.meta.name,
                level,
                severity: factory.meta.severity,
                message: String(message),
                urn: urn ?? defaultUrn,
                stage,
            });

    const guard = async (factory: PolicyFactory, urn: string | undefined, fn: () => unknown) => {
        try {
            await fn();
        } catch (e) {
            if (e instanceof NotApplicableError) skipped.push({ pack: pack.name, policy: factory.meta.name, urn, reason: e.reason ?? "" });
            else if (isUnknownValueError(e)) {
                // What @pulumi/policy does with an unknown a policy did not handle: an advisory diagnostic.
                findings.push({
                    pack: pack.name,
                    policy: factory.meta.name,
                    level: "advisory",
                    severity: factory.meta.severity,
                    message: `can't run policy during preview: ${e.message}`,
                    urn,
                    stage: "resource",
                });
            } else throw e;
        }
    };

    const resourcePolicies = active.filter((p) => p.factory.kind === "resource");
    for (const r of resourcePolicies.length > 0 ? resources : []) {
        const props = decode(r.inputs);
        const provider = providerOf(r, byUrn, decode);
        for (const { factory, level, policy, config } of resourcePolicies) {
            const args: ResourceValidationArgs = {
                type: r.type,
                props,
                urn: r.urn,
                name: urnName(r.urn),
                opts: options(r),
                ...(provider ? { provider } : {}),
                stackTags: new Map(),
                isType: () => false,
                asType: () => undefined,
                getConfig: <T extends object>() => config as T,
                notApplicable,
            };
            const validate = (policy as ResourceValidationPolicy).validateResource!;
            const report = record(factory, level, "resource", r.urn);
            await guard(factory, r.urn, () => (Array.isArray(validate) ? Promise.all(validate.map((v) => v(args, report))) : validate(args, report)));
        }
    }

    const stackPolicies = active.filter((p) => p.factory.kind === "stack");
    const stackResources = stackPolicies.length > 0 ? toPolicyResources(resources, decode) : [];
    for (const { factory, level, policy, config } of stackPolicies) {
        const args: StackValidationArgs = {
            resources: stackResources,
            stackTags: new Map(),
            getConfig: <T extends object>() => config as T,
            notApplicable,
        };
        await guard(factory, undefined, () => (policy as StackValidationPolicy).validateStack(args, record(factory, level, "stack")));
    }
    return { findings, notApplicable: skipped };
}

/** The resources of a stack as `AnalyzeStack` hands them to stack policies (final state, joined). */
export function toPolicyResources(resources: readonly RecordedLike[], decode: PropsDecoder = runDecoder()): PolicyResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const out = new Map<string, PolicyResource>();
    for (const r of resources) {
        const provider = providerOf(r, byUrn, decode);
        out.set(r.urn, {
            type: r.type,
            name: urnName(r.urn),
            urn: r.urn,
            props: decode(r.outputs),
            opts: { ...options(r), parent: undefined },
            ...(provider ? { provider } : {}),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        });
    }
    for (const r of resources) {
        const pr = out.get(r.urn)!;
        const parent = out.get(r.parent);
        if (parent) pr.parent = parent;
        pr.dependencies = r.dependencies.map((d) => out.get(d)).filter((d): d is PolicyResource => d !== undefined);
        for (const [k, deps] of Object.entries(r.propertyDependencies)) {
            pr.propertyDependencies[k] = deps.map((d) => out.get(d)).filter((d): d is PolicyResource => d !== undefined);
        }
    }
    return [...out.values()];
}

/** Runs several packs with the config files of one stack. */
export async function runPacks(
    packs: readonly PackDefinition[],
    resources: readonly RecordedLike[],
    configOf: (pack: string) => PackConfigFile,
    context: PolicyContext,
): Promise<PackRun> {
    const all: PackRun = { findings: [], notApplicable: [] };
    const decode = runDecoder();
    for (const pack of packs) {
        const run = await runPack(pack, resources, configOf(pack.name), context, decode);
        all.findings.push(...run.findings);
        all.notApplicable.push(...run.notApplicable);
    }
    return all;
}
