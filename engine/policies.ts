/**
 * Runs CrossGuard policy packs alongside a recording the way `pulumi preview --policy-pack` runs them:
 * every pack is started and configured (ConfigureStack, GetAnalyzerInfo, the reconciled policy config
 * with Configure) while the program loads; each registration then goes through `Remediate` on every pack
 * and `Analyze` on every pack with the remediated inputs before the mocks answer it (the engine's two
 * passes, at the same moment); at the end `AnalyzeStack` gets every resource with its parent,
 * dependencies and property dependencies.
 */
import * as fs from "fs";
import type { RecordedAlias, RecordedResource } from "./recorder";
import {
    AnalyzerRequests,
    type AnalyzeDiagnostic,
    type AnalyzerResource,
    type AnalyzerStackResource,
    EngineServer,
    type PolicyInfo,
    PolicyPackError,
    PolicyPackProcess,
    type StackContext,
} from "./analyzer";
import { parsePolicyPackConfig, PolicyConfigError, type PolicyConfig, reconcilePolicyPackConfig } from "./policyConfig";

// ------------------------------------------------------------------------------------------------
// From a recorded registration to what analyzers receive. Pure.
// ------------------------------------------------------------------------------------------------

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds of a Go duration string ("1h30m", "90s", "1.5m"); "" is 0. Throws on anything else. */
export function parseGoDuration(s: string): number {
    if (s === "" || s === "0") return 0;
    const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
    if (!m) throw new Error(`invalid duration "${s}"`);
    let total = 0;
    for (const part of s.replace(/^[-+]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
        total += Number(part[1]) * DURATION_UNITS[part[2]];
    }
    return m[1] === "-" ? -total : total;
}

/** `pulumi:pulumi:Stack`: children of the stack carry no parent type in their URN. */
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The URN an alias stands for, completing what the alias leaves out from the resource itself. */
export function aliasUrn(r: Pick<RecordedResource, "urn" | "type" | "name" | "parent">, alias: RecordedAlias): string {
    if ("urn" in alias) return alias.urn;
    const [prefix, projectPart] = r.urn.split("::");
    const stack = alias.stack ?? prefix.replace(/^urn:pulumi:/, "");
    const project = alias.project ?? projectPart;
    const parent = alias.noParent ? "" : (alias.parentUrn ?? r.parent);
    const parentType = parent ? parent.split("::")[2] : "";
    const type = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${alias.type ?? r.type}` : (alias.type ?? r.type);
    return `urn:pulumi:${stack}::${project}::${type}::${alias.name ?? r.name}`;
}

/** Name part of a URN. */
export function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/** URN part of a provider reference `<urn>::<id>`. */
export function providerUrn(ref: string): string {
    const i = ref.lastIndexOf("::");
    return i < 0 ? ref : ref.slice(0, i);
}

/** Finds a recorded resource by URN (a Map will do). */
export interface ResourceLookup {
    get(urn: string): RecordedResource | undefined;
}

/** What `Analyze` receives for a recorded resource (`inputs` defaults to its recorded inputs). */
export function toAnalyzerResource(r: RecordedResource, byUrn: ResourceLookup, inputs: Record<string, unknown> = r.inputs): AnalyzerResource {
    const o = r.options;
    const timeouts = o.customTimeouts ?? {};
    const out: AnalyzerResource = {
        urn: r.urn,
        type: r.type,
        name: urnName(r.urn),
        properties: inputs,
        options: {
            protect: o.protect,
            ignoreChanges: o.ignoreChanges,
            // The recording keeps the value, not whether it was set: only `true` counts as set.
            deleteBeforeReplace: o.deleteBeforeReplace ? true : undefined,
            additionalSecretOutputs: o.additionalSecretOutputs,
            aliases: o.aliases.map((a) => aliasUrn(r, a)),
            customTimeouts: {
                create: parseGoDuration(timeouts.create ?? ""),
                update: parseGoDuration(timeouts.update ?? ""),
                delete: parseGoDuration(timeouts.delete ?? ""),
            },
            parent: r.parent,
        },
    };
    if (r.provider) {
        const p = byUrn.get(providerUrn(r.provider));
        if (p) out.provider = { urn: p.urn, type: p.type, name: urnName(p.urn), properties: p.inputs };
    }
    return out;
}

/**
 * What `AnalyzeStack` receives: the resource's final state (its outputs: the mocked provider's answer
 * to the inputs, remediations included), its parent and dependencies. As in the engine, its options
 * carry no parent here.
 */
export function toAnalyzerStackResource(r: RecordedResource, byUrn: ResourceLookup): AnalyzerStackResource {
    const base = toAnalyzerResource(r, byUrn, r.outputs);
    return {
        ...base,
        options: { ...base.options, parent: "" },
        parent: r.parent,
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
    };
}

// ------------------------------------------------------------------------------------------------
// The run.
// ------------------------------------------------------------------------------------------------

/** A pack to run and its config file (none: the pack's defaults). */
export interface PolicyPackSpec {
    dir: string;
    configFile?: string;
}

export interface PolicyRunOptions {
    packs: PolicyPackSpec[];
    stack: StackContext;
    /** Start-up budget and per-RPC deadline. */
    timeoutMs: number;
    /** Registrations analysed at once (each still goes remediate -> analyze in order). Default 64. */
    concurrency?: number;
}

export interface PackReport {
    dir: string;
    name: string;
    version: string;
    /** Version of @pulumi/policy (the plugin) the pack runs. */
    pluginVersion: string;
    configFile?: string;
    /** The config sent with Configure. */
    config: Record<string, PolicyConfig>;
    policies: PolicyInfo[];
    /** What the pack printed and logged. */
    output: string[];
}

/** A violation, with where it came from. */
export interface PolicyViolation extends AnalyzeDiagnostic {
    /** `resource` (Analyze), `stack` (AnalyzeStack) or `remediation` (a remediation's warning). */
    stage: "resource" | "stack" | "remediation";
    /** The policy's remediation steps, if it declares any. */
    remediationSteps: string;
}

export interface PolicyRemediation {
    urn: string;
    policyPackName: string;
    policyPackVersion: string;
    policyName: string;
    description: string;
    /** Properties before and after (wire form). */
    before: Record<string, unknown>;
    after: Record<string, unknown>;
}

/** A policy that reported itself not applicable to a resource (Analyze), with its reason. */
export interface PolicyNotApplicable {
    urn: string;
    policyPackName: string;
    policyName: string;
    reason: string;
}

export interface PolicyReport {
    packs: PackReport[];
    violations: PolicyViolation[];
    /** Policies that said they do not apply to a resource (type filters are not reported: they never ran). */
    notApplicable: PolicyNotApplicable[];
    remediations: PolicyRemediation[];
    /** Inputs of remediated resources as the program gave them, by URN (the records hold the remediated ones). */
    originalInputs: Map<string, Record<string, unknown>>;
    /** Messages packs logged through the engine's Log RPC. */
    engineLogs: string[];
    /** Seconds the packs took to start and be configured (overlapping the program's own start). */
    startupSeconds: number;
    /** Seconds from the packs' start to the end of AnalyzeStack. */
    seconds: number;
}

function wrap(pack: string, what: string, err: unknown): Error {
    if (err instanceof PolicyPackError || err instanceof PolicyConfigError) return err;
    return new PolicyPackError(`policy pack "${pack}" failed in ${what}: ${(err as Error).message ?? String(err)}`);
}

interface LoadedPack {
    process: PolicyPackProcess;
    report: PackReport;
    steps: Map<string, string>;
    /** Does any resource policy run at the remediate level? */
    remediates: boolean;
}

/**
 * Does any resource policy of the pack run at the `remediate` level under `config`? A CrossGuard pack
 * only remediates with such policies (its Remediate answers nothing otherwise), so the plan leaves out
 * the call - the one place where it sends fewer RPCs than the CLI, with the same result.
 */
export function remediates(policies: readonly PolicyInfo[], config: Record<string, PolicyConfig>): boolean {
    return policies.some((p) => p.type !== "stack" && (config[p.name]?.enforcementLevel ?? p.enforcementLevel) === "remediate");
}

/**
 * Configures a started pack as the CLI does: ConfigureStack, GetAnalyzerInfo, GetPluginInfo, then the
 * reconciled config (policy defaults, the pack's initial config, the config file) with Configure.
 * Throws PolicyConfigError listing schema violations as `validating policy config: <pack> <version>  <error>`.
 */
export async function configurePack(proc: PolicyPackProcess, spec: PolicyPackSpec, stack: StackContext): Promise<LoadedPack> {
    try {
        await proc.configureStack(stack);
        const info = await proc.getAnalyzerInfo();
        const plugin = await proc.getPluginInfo();
        let config: Record<string, PolicyConfig> = {};
        if (!info.supportsConfig) {
            if (spec.configFile) throw new PolicyConfigError(`policy pack "${info.name}" at "${spec.dir}" does not support config`);
        } else {
            let fromFile: Record<string, PolicyConfig> | undefined;
            if (spec.configFile) {
                try {
                    fromFile = parsePolicyPackConfig(fs.readFileSync(spec.configFile, "utf8"));
                } catch (err) {
                    throw new PolicyConfigError(`policy pack config ${spec.configFile}: ${(err as Error).message}`);
                }
            }
            const reconciled = reconcilePolicyPackConfig(info.policies, info.initialConfig, fromFile);
            if (reconciled.errors.length > 0) {
                throw new PolicyConfigError(
                    reconciled.errors
                        .map((e) => `validating policy config: ${info.name} ${info.version}  ${e}`)
                        .sort()
                        .join("\n"),
                );
            }
            config = reconciled.config;
            await proc.configure(config);
        }
        return {
            process: proc,
            report: {
                dir: spec.dir,
                name: info.name,
                version: info.version,
                pluginVersion: plugin.version,
                configFile: spec.configFile,
                config,
                policies: info.policies,
                output: [],
            },
            steps: new Map(info.policies.map((p) => [p.name, p.remediationSteps])),
            remediates: remediates(info.policies, config),
        };
    } catch (err) {
        throw wrap(spec.dir, "configuration", err);
    }
}

async function loadPack(spec: PolicyPackSpec, engine: EngineServer, opts: PolicyRunOptions, started: PolicyPackProcess[]): Promise<LoadedPack> {
    const proc = await PolicyPackProcess.start(spec.dir, { engineAddress: engine.address, stack: opts.stack, timeoutMs: opts.timeoutMs });
    started.push(proc);
    return configurePack(proc, spec, opts.stack);
}

/** A semaphore: at most `n` tasks at once. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
    let active = 0;
    const queue: (() => void)[] = [];
    return async <T>(task: () => Promise<T>) => {
        if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
        active++;
        try {
            return await task();
        } finally {
            active--;
            queue.shift()?.();
        }
    };
}

/**
 * Policy packs running alongside a program, as in `pulumi preview --policy-pack`: the packs start (and
 * are configured) while the program loads; each registration then goes through `Remediate` on every
 * pack and `Analyze` on every pack with the remediated inputs before the mocks answer it (see
 * {@link PolicySession.onRegister}, a RegisterHook); {@link PolicySession.finish} runs `AnalyzeStack`.
 * Always {@link PolicySession.close} it.
 */
export class PolicySession {
    private readonly violations: { index: number; v: PolicyViolation }[] = [];
    private readonly notApplicable: { index: number; n: PolicyNotApplicable }[] = [];
    private readonly remediations: { index: number; m: PolicyRemediation }[] = [];
    private readonly originalInputs = new Map<string, Record<string, unknown>>();
    private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
    private readonly requests = new AnalyzerRequests();
    private order = 0;
    /** The first failure of a pack during the run (it also fails the registration that met it). */
    failure: Error | undefined;

    private constructor(
        private readonly engine: EngineServer,
        private readonly packs: LoadedPack[],
        private readonly started: number,
        private readonly startupSeconds: number,
        concurrency: number,
    ) {
        this.limit = limiter(concurrency);
    }

    /** Starts and configures every pack at once; on any failure stops them all and throws. */
    static async start(opts: PolicyRunOptions): Promise<PolicySession> {
        const t0 = Number(process.hrtime.bigint()) / 1e9;
        const engine = await EngineServer.start();
        const started: PolicyPackProcess[] = [];
        const settled = await Promise.allSettled(opts.packs.map((spec) => loadPack(spec, engine, opts, started)));
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
        if (failed) {
            await Promise.all(started.map((p) => p.close()));
            await engine.close();
            throw failed.reason;
        }
        const packs = settled.map((s) => (s as PromiseFulfilledResult<LoadedPack>).value);
        return new PolicySession(engine, packs, t0, Number(process.hrtime.bigint()) / 1e9 - t0, opts.concurrency ?? 64);
    }

    /**
     * Remediates, then analyzes, one registration; returns its remediated inputs, if any. Never rejects:
     * a pack's failure is kept in {@link failure} and later registrations are no longer analysed.
     */
    onRegister = (r: RecordedResource, lookup: (urn: string) => RecordedResource | undefined): Promise<Record<string, unknown> | undefined> => {
        const index = this.order++;
        const byUrn = { get: lookup };
        return this.limit(async () => {
            if (this.failure) return undefined;
            try {
                let inputs = r.inputs;
                for (const pack of this.packs) {
                    if (!pack.remediates) continue;
                    let results;
                    try {
                        results = await pack.process.remediate(this.requests.remediate(toAnalyzerResource(r, byUrn, inputs)));
                    } catch (err) {
                        throw wrap(pack.report.dir, `Remediate(${r.urn})`, err);
                    }
                    for (const m of results) {
                        if (m.diagnostic) {
                            this.violations.push({
                                index,
                                v: {
                                    policyName: m.policyName,
                                    policyPackName: m.policyPackName,
                                    policyPackVersion: m.policyPackVersion,
                                    description: m.description,
                                    message: m.diagnostic,
                                    enforcementLevel: "advisory",
                                    urn: r.urn,
                                    severity: "",
                                    stage: "remediation",
                                    remediationSteps: pack.steps.get(m.policyName) ?? "",
                                },
                            });
                        } else if (m.properties) {
                            this.remediations.push({
                                index,
                                m: {
                                    urn: r.urn,
                                    policyPackName: m.policyPackName,
                                    policyPackVersion: m.policyPackVersion,
                                    policyName: m.policyName,
                                    description: m.description,
                                    before: inputs,
                                    after: m.properties,
                                },
                            });
                            inputs = m.properties;
                        }
                    }
                }
                // One request for every pack; the packs analyse it at once (the engine asks them in turn:
                // Analyze has no effect, so only the order of the results could differ, and it is kept).
                const request = this.requests.analyze(toAnalyzerResource(r, byUrn, inputs));
                const results = await Promise.all(
                    this.packs.map((pack) => pack.process.analyze(request).catch((err) => Promise.reject(wrap(pack.report.dir, `Analyze(${r.urn})`, err)))),
                );
                for (const [i, pack] of this.packs.entries()) {
                    const res = results[i];
                    for (const n of res.notApplicable)
                        this.notApplicable.push({ index, n: { urn: r.urn, policyPackName: pack.report.name, policyName: n.policyName, reason: n.reason } });
                    for (const d of res.diagnostics) {
                        this.violations.push({
                            index,
                            v: {
                                ...d,
                                // The engine reports remediate-level violations as mandatory, on this resource's URN.
                                enforcementLevel: d.enforcementLevel === "remediate" ? "mandatory" : d.enforcementLevel,
                                urn: r.urn,
                                stage: "resource",
                                remediationSteps: pack.steps.get(d.policyName) ?? "",
                            },
                        });
                    }
                }
                if (inputs === r.inputs) return undefined;
                this.originalInputs.set(r.urn, r.inputs);
                return inputs;
            } catch (err) {
                // Recorded, not thrown: a failed registration of the stack resource would end the
                // program with an unhandled rejection. The caller checks `failure` after the run.
                this.failure ??= err as Error;
                return undefined;
            }
        });
    };

    /** `AnalyzeStack` on every pack with the final resources, then the report. */
    async finish(resources: readonly RecordedResource[]): Promise<PolicyReport> {
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const request = this.requests.analyzeStack(resources.map((r) => toAnalyzerStackResource(r, byUrn)));
        const stackViolations = await Promise.all(
            this.packs.map(async (pack) => {
                let res;
                try {
                    res = await pack.process.analyzeStack(request);
                } catch (err) {
                    throw wrap(pack.report.dir, "AnalyzeStack", err);
                }
                return res.diagnostics.map((d): PolicyViolation => ({
                    ...d,
                    enforcementLevel: d.enforcementLevel === "remediate" ? "mandatory" : d.enforcementLevel,
                    stage: "stack",
                    remediationSteps: pack.steps.get(d.policyName) ?? "",
                }));
            }),
        );
        for (const pack of this.packs) pack.report.output = pack.process.output.map((o) => o.line);
        const byIndex = <T extends { index: number }>(list: T[]) => [...list].sort((a, b) => a.index - b.index);
        return {
            packs: this.packs.map((p) => p.report),
            violations: [...byIndex(this.violations).map((x) => x.v), ...stackViolations.flat()],
            notApplicable: byIndex(this.notApplicable).map((x) => x.n),
            remediations: byIndex(this.remediations).map((x) => x.m),
            originalInputs: this.originalInputs,
            engineLogs: this.engine.logs.map((l) => `${l.severity}: ${l.message}`),
            startupSeconds: this.startupSeconds,
            seconds: Number(process.hrtime.bigint()) / 1e9 - this.started,
        };
    }

    /** Stops every pack and the engine server. */
    async close(): Promise<void> {
        await Promise.all(this.packs.map((p) => p.process.close()));
        await this.engine.close();
    }
}
