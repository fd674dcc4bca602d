/**
 * One small factory per policy. A policy is defined once - metadata, config schema with defaults, the
 * resource types it looks at, an optional environment scope and a pure `check` function - and
 * {@link defineResourcePolicy} / {@link defineStackPolicy} turn that into a factory that takes an
 * enforcement level and config and returns a `ResourceValidationPolicy` / `StackValidationPolicy` for
 * a `PolicyPack`.
 *
 * The `check` functions are plain: data in, messages out. Tests call them directly. The wrapper does
 * what every policy needs the same way:
 * - it merges the config: schema defaults, then the factory's config, then the pack config file's;
 * - it resolves the stack context (stack name, environment, label domain) and applies the environment
 *   scope (`environments` config: e.g. approval records are required in prod only);
 * - a value that is unknown during preview makes the policy not applicable to that resource, with the
 *   property named (never a silent pass, never a crash); stack policies skip only the resources they
 *   could not evaluate and still report the others.
 */
import type {
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { AdmissionDefinition } from "./admission";
import { runtimeContext } from "./context";
import { ENVIRONMENTS, type Environment, FRAMEWORKS, type PolicyContext, type PolicyMetadata, type Skipped, type StackOutcome, type Violation } from "./types";
import { isUnknownValueError } from "./unknowns";

/** JSON schema of one config property, with its default (the value used when the config file is silent). */
export type ConfigProperty<T> = PolicyConfigJSONSchema & { default: T; description: string };
export type ConfigSchemaOf<C> = { [K in keyof C]: ConfigProperty<C[K]> };

/** The config every environment-scoped policy has. */
export interface ScopeConfig {
    /** Environments the policy applies in; elsewhere it reports itself not applicable. */
    environments: Environment[];
}

/**
 * An accepted exception: an object rendered from a Helm release (an upstream chart) that a policy does
 * not apply to, and why. Only chart objects can be excepted - the platform's own resources change instead.
 */
export interface ChartException {
    /** The chart object's resource name, `<release>:<namespace>/<name>` (`<release>:<name>` when cluster-scoped); a trailing `*` matches any rest. */
    readonly resource: string;
    /** Why the chart cannot meet the rule (documented in docs/policy-exceptions.md too). */
    readonly reason: string;
}

/** The config every policy has: its accepted chart exceptions. */
export interface ExceptionConfig {
    chartExceptions: ChartException[];
}

/** The type token every rendered chart object's URN carries in its type chain: its parent is a Helm Release. */
const CHART_PARENT = "kubernetes:helm.sh/v3:Release$";

/** The exception that covers a resource (by URN), if it is a chart object and one matches its name. */
export function chartExceptionFor(exceptions: readonly ChartException[] | undefined, urn: string | undefined): ChartException | undefined {
    if (!urn || !exceptions?.length) return undefined;
    const parts = urn.split("::");
    if (!(parts[2] ?? "").includes(CHART_PARENT)) return undefined;
    const name = parts.slice(3).join("::");
    return exceptions.find((e) => (e.resource.endsWith("*") ? name.startsWith(e.resource.slice(0, -1)) : name === e.resource));
}

/** What a resource check sees: the parts of `ResourceValidationArgs` that are data. */
export interface ResourceSubject {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly props: Record<string, any>;
    readonly opts: { readonly protect: boolean };
}

/** What a stack check sees of each resource: the data parts of `PolicyResource`. */
export interface StackSubject {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly props: Record<string, any>;
    readonly opts: { readonly protect: boolean };
    /** The provider resource (type, name, URN, properties) the engine sent with the resource. */
    readonly provider?: { readonly type: string; readonly name: string; readonly urn: string; readonly props: Record<string, any> };
    readonly propertyDependencies?: Readonly<Record<string, readonly { readonly urn: string }[]>>;
}

/** Thrown by {@link skip}: the check does not apply to this resource (or could not evaluate it). */
export class NotApplicableSignal extends Error {
    constructor(readonly reason: string) {
        super(reason);
        this.name = "NotApplicableSignal";
    }
}

/**
 * Runs `make` with stack capture off. Not-applicable outcomes are control flow, thrown for most
 * (policy, resource) pairs of a stack, and never shown with a stack; capturing one for each cost the
 * security pack about 0.3 s of its 7 s CPU at 1,000 resources.
 */
function withoutStack<T>(make: () => T): T {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return make();
    } finally {
        Error.stackTraceLimit = limit;
    }
}

/** Ends the check of the current subject as not applicable, with a reason. */
export function skip(reason: string): never {
    throw withoutStack(() => new NotApplicableSignal(reason));
}

/** `args.notApplicable(reason)` (CrossGuard's own not-applicable error, which it reports), without a stack. */
function notApplicable(args: { notApplicable(reason?: string): never }, reason: string): never {
    return withoutStack(() => args.notApplicable(reason));
}

/** Why a subject could not be evaluated, if `e` says so (unknown value or an explicit skip); else undefined. */
function skipReason(e: unknown): string | undefined {
    if (e instanceof NotApplicableSignal) return e.reason;
    if (isUnknownValueError(e)) return `needs a value that is unknown during preview: ${e.message}`;
    return undefined;
}

/**
 * Evaluates `fn` for each subject; a subject whose evaluation needs an unknown value (or calls
 * {@link skip}) is recorded as skipped, the others' violations are kept.
 */
export function evaluateEach<T extends { readonly urn?: string }>(subjects: readonly T[], fn: (subject: T) => (Violation | string)[] | void): StackOutcome {
    const violations: Violation[] = [];
    const skipped: Skipped[] = [];
    for (const s of subjects) {
        try {
            const found = fn(s);
            if (found) for (const v of found) violations.push(typeof v === "string" ? { message: v, urn: s.urn } : v);
        } catch (e) {
            const reason = skipReason(e);
            if (reason === undefined) throw e;
            skipped.push({ urn: s.urn, reason });
        }
    }
    return { violations, skipped };
}

/** Options every factory takes. */
export interface PolicyOptions<C> {
    /** Default enforcement level of the policy (a pack config file overrides it). Default `mandatory`: fail closed. */
    readonly enforcementLevel?: EnforcementLevel;
    /** Config overriding the schema defaults (a pack config file overrides it in turn). */
    readonly config?: Partial<C>;
    /** Where the stack context comes from. Default: the pack process's environment (see context.ts). */
    readonly context?: (stackTags?: ReadonlyMap<string, string>) => PolicyContext;
}

interface BaseDefinition<C> {
    readonly meta: PolicyMetadata;
    /** The policy's rule for the cluster's admission (policy/framework/admission.ts), when it can be judged on one Kubernetes object. */
    readonly admission?: AdmissionDefinition<C>;
    /** Config properties with their defaults. */
    readonly config: ConfigSchemaOf<C>;
    /** Default environment scope; adds an `environments` config property. Omit: every environment. */
    readonly environments?: readonly Environment[];
}

export interface ResourcePolicyDefinition<C> extends BaseDefinition<C> {
    /** Resource types the policy applies to, or a predicate over the type token. */
    readonly types: readonly string[] | ((type: string) => boolean);
    /** The check: messages for each violation, `[]` when compliant. May call {@link skip}. */
    readonly check: (resource: ResourceSubject, config: C, ctx: PolicyContext) => string[];
}

export interface StackPolicyDefinition<C> extends BaseDefinition<C> {
    /** The check over all resources of the stack; use {@link evaluateEach} to skip per resource. */
    readonly check: (resources: readonly StackSubject[], config: C, ctx: PolicyContext) => StackOutcome | Violation[];
}

interface FactoryBase<C> {
    readonly meta: PolicyMetadata;
    /** The config schema as the pack declares it (defaults included). */
    readonly configSchema: PolicyConfigSchema;
    /** Default config (schema defaults). */
    readonly defaults: C & Partial<ScopeConfig>;
    /** Default environment scope, if the policy is scoped. */
    readonly environments?: readonly Environment[];
    /** The admission rule, if the policy has one. */
    readonly admission?: AdmissionDefinition<C>;
}

export interface ResourcePolicyFactory<C = any> extends FactoryBase<C> {
    (opts?: PolicyOptions<C>): ResourceValidationPolicy;
    readonly kind: "resource";
    readonly check: ResourcePolicyDefinition<C>["check"];
    readonly appliesToType: (type: string) => boolean;
}

export interface StackPolicyFactory<C = any> extends FactoryBase<C> {
    (opts?: PolicyOptions<C>): StackValidationPolicy;
    readonly kind: "stack";
    readonly check: StackPolicyDefinition<C>["check"];
}

export type PolicyFactory = ResourcePolicyFactory | StackPolicyFactory;

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function schemaOf<C>(def: BaseDefinition<C>): { schema: PolicyConfigSchema; defaults: C & Partial<ScopeConfig> } {
    const properties: Record<string, PolicyConfigJSONSchema> = { ...(def.config as Record<string, PolicyConfigJSONSchema>) };
    if (def.environments) {
        const scope: ConfigProperty<Environment[]> = {
            type: "array",
            items: { type: "string", enum: [...ENVIRONMENTS] },
            uniqueItems: true,
            default: [...def.environments],
            description: "Environments the policy applies in; in the others it reports itself not applicable.",
        };
        properties.environments = scope;
    }
    const exceptions: ConfigProperty<ChartException[]> = {
        type: "array",
        items: {
            type: "object",
            properties: {
                resource: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?:[^\\s]+$" },
                reason: { type: "string", minLength: 20 },
            },
            required: ["resource", "reason"],
            additionalProperties: false,
        },
        default: [],
        description:
            "Objects rendered from a Helm release the policy does not apply to, each with the reason the upstream chart cannot meet it: `resource` is `<release>:<namespace>/<name>` (a trailing `*` matches any rest). Platform resources cannot be excepted.",
    };
    properties.chartExceptions = exceptions;
    const defaults = Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, structuredClone(p.default)]));
    return { schema: { properties }, defaults: defaults as C & Partial<ScopeConfig> };
}

function validateMeta(meta: PolicyMetadata): void {
    if (!NAME.test(meta.name)) throw new Error(`policy name "${meta.name}" is not kebab-case`);
    for (const field of ["title", "description", "rationale", "remediation"] as const) {
        if (!meta[field] || meta[field].trim().length === 0) throw new Error(`policy ${meta.name}: ${field} is empty`);
    }
}

/** The `Policy` metadata fields @pulumi/policy 1.21 sends to the engine (severity, framework, tags, remediation). */
function policyFields(meta: PolicyMetadata) {
    const primary = meta.controls[0];
    return {
        name: meta.name,
        displayName: meta.title,
        description: meta.description,
        severity: meta.severity,
        remediationSteps: meta.remediation,
        tags: [
            `severity:${meta.severity}`,
            ...(meta.protectsData ? ["protects-data"] : []),
            ...meta.topics,
            ...meta.controls.map((c) => `${c.framework}:${c.control}`),
        ],
        ...(primary
            ? {
                  framework: {
                      name: FRAMEWORKS[primary.framework].name,
                      version: FRAMEWORKS[primary.framework].version,
                      reference: primary.control,
                      specification: meta.title,
                  },
              }
            : {}),
    };
}

function mergeConfig<C>(defaults: C, ...layers: (Partial<C> | Record<string, unknown> | undefined)[]): C {
    const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const layer of layers) {
        for (const [k, v] of Object.entries(layer ?? {})) if (v !== undefined && k !== "enforcementLevel") out[k] = v;
    }
    return out as C;
}

/** Not-applicable reason when the environment scope excludes the stack, else undefined. */
function scopeReason(config: Partial<ScopeConfig>, scoped: boolean, ctx: PolicyContext): string | undefined {
    if (!scoped) return undefined;
    const envs = config.environments ?? [];
    if (ctx.environment === undefined) {
        return `applies in ${envs.join(", ") || "no environment"} only, and the stack's environment is not known (stack "${ctx.stack ?? ""}")`;
    }
    if (!envs.includes(ctx.environment)) return `applies in ${envs.join(", ") || "no environment"} only, not in ${ctx.environment}`;
    return undefined;
}

function attachType(fn: object, types: readonly string[] | ((t: string) => boolean)): void {
    // @pulumi/policy skips a policy quickly for other types when the validation carries `__pulumiType`.
    if (Array.isArray(types) && types.length === 1) (fn as { __pulumiType?: string }).__pulumiType = types[0];
}

/** What a resource and a stack validation call both get: stack tags, the pack's config, a way to say "not applicable". */
interface ValidationCall {
    /** The resource's URN (resource policies). */
    readonly urn?: string;
    readonly stackTags: ReadonlyMap<string, string>;
    getConfig<T extends object>(): T;
    notApplicable(reason?: string): never;
}

/**
 * One run of a policy's check: the config (defaults, the pack's options, the stack's config file), the
 * environment scope, and a skip or an unknown value as "not applicable" (CrossGuard's own outcome).
 */
function runCheck<C extends object, T>(
    def: BaseDefinition<C>,
    defaults: C & Partial<ScopeConfig>,
    opts: PolicyOptions<C>,
    args: ValidationCall,
    check: (config: C, ctx: PolicyContext) => T,
): T {
    const ctx = (opts.context ?? runtimeContext)(args.stackTags);
    const config = mergeConfig(defaults, opts.config, args.getConfig<Record<string, unknown>>());
    const outOfScope = scopeReason(config, def.environments !== undefined, ctx);
    if (outOfScope) notApplicable(args, outOfScope);
    const excepted = chartExceptionFor((config as Partial<ExceptionConfig>).chartExceptions, args.urn);
    if (excepted) notApplicable(args, `accepted exception for ${excepted.resource}: ${excepted.reason}`);
    try {
        return check(config, ctx);
    } catch (e) {
        const reason = skipReason(e);
        if (reason === undefined) throw e;
        return notApplicable(args, reason);
    }
}

/** The fields of the CrossGuard policy object a factory builds, validation function aside. */
function policyObject<C>(def: BaseDefinition<C>, schema: PolicyConfigSchema, opts: PolicyOptions<C>) {
    return { ...policyFields(def.meta), enforcementLevel: opts.enforcementLevel ?? "mandatory", configSchema: schema };
}

/** What a factory tells about its policy besides building it. */
function factoryFields<C>(def: BaseDefinition<C>, schema: PolicyConfigSchema, defaults: C & Partial<ScopeConfig>) {
    return { meta: def.meta, configSchema: schema, defaults, environments: def.environments, admission: def.admission };
}

/** Defines a resource policy: returns its factory. */
export function defineResourcePolicy<C extends object>(def: ResourcePolicyDefinition<C>): ResourcePolicyFactory<C> {
    validateMeta(def.meta);
    const { schema, defaults } = schemaOf(def);
    const types = def.types;
    const appliesToType = typeof types === "function" ? types : (t: string) => types.includes(t);
    const typeList = typeof types === "function" ? undefined : types;

    const factory = (opts: PolicyOptions<C> = {}): ResourceValidationPolicy => {
        const validate = (args: ResourceValidationArgs, report: ReportViolation) => {
            if (!appliesToType(args.type)) {
                notApplicable(
                    args,
                    typeList
                        ? `Policy only applies to resources of type ${typeList.map((t) => `'${t}'`).join(", ")}`
                        : "Policy does not apply to this resource type",
                );
            }
            const messages = runCheck(def, defaults, opts, args, (config, ctx) => def.check(args, config, ctx));
            for (const m of messages) report(m);
        };
        attachType(validate, types);
        return { ...policyObject(def, schema, opts), validateResource: validate };
    };
    return Object.assign(factory, { kind: "resource" as const, ...factoryFields(def, schema, defaults), check: def.check, appliesToType });
}

function summarize(skipped: readonly Skipped[]): string {
    const shown = skipped.slice(0, 5).map((s) => `${s.urn ?? "stack"}: ${s.reason}`);
    const more = skipped.length > shown.length ? `; and ${skipped.length - shown.length} more` : "";
    return `${skipped.length} resource(s) could not be evaluated: ${shown.join("; ")}${more}`;
}

/** Defines a stack policy (one that joins resources): returns its factory. */
export function defineStackPolicy<C extends object>(def: StackPolicyDefinition<C>): StackPolicyFactory<C> {
    validateMeta(def.meta);
    const { schema, defaults } = schemaOf(def);

    const factory = (opts: PolicyOptions<C> = {}): StackValidationPolicy => {
        const validate = (args: StackValidationArgs, report: ReportViolation) => {
            const result = runCheck(def, defaults, opts, args, (config, ctx) => def.check(args.resources as readonly PolicyResource[], config, ctx));
            const outcome: StackOutcome = Array.isArray(result) ? { violations: result, skipped: [] } : result;
            const exceptions = mergeConfig(defaults as Partial<ExceptionConfig>, opts.config, args.getConfig<Record<string, unknown>>()).chartExceptions;
            for (const v of outcome.violations) if (!chartExceptionFor(exceptions, v.urn)) report(v.message, v.urn);
            if (outcome.skipped.length > 0) notApplicable(args, summarize(outcome.skipped));
        };
        return { ...policyObject(def, schema, opts), validateStack: validate };
    };
    return Object.assign(factory, { kind: "stack" as const, ...factoryFields(def, schema, defaults), check: def.check });
}

/** A pack: its name, description and the list of its policy factories. */
export interface PackDefinition {
    readonly name: string;
    readonly description: string;
    readonly policies: readonly PolicyFactory[];
}

/** Defines a pack, checking that every policy belongs to it and names are unique. */
export function definePack(pack: PackDefinition): PackDefinition {
    const seen = new Set<string>();
    for (const p of pack.policies) {
        if (p.meta.pack !== pack.name) throw new Error(`policy ${p.meta.name} belongs to ${p.meta.pack}, not ${pack.name}`);
        if (seen.has(p.meta.name)) throw new Error(`policy ${p.meta.name} is listed twice in ${pack.name}`);
        seen.add(p.meta.name);
    }
    return pack;
}
