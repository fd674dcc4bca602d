/**
 * Runs CrossGuard policy packs over a recording the way `pulumi preview --policy-pack` runs them:
 * every pack is started and configured (ConfigureStack, GetAnalyzerInfo, the reconciled policy config
 * with Configure), then each resource in registration order goes through `Remediate` on every pack and
 * then `Analyze` on every pack with the remediated properties (the engine's two passes), and at the end
 * `AnalyzeStack` gets every resource with its parent, dependencies and property dependencies.
 */
import * as fs from "fs";
import type { RecordedAlias, RecordedResource } from "./recorder";
import {
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

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, "μs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

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

/** What `Analyze` receives for a recorded resource (`inputs` defaults to its recorded inputs). */
export function toAnalyzerResource(
    r: RecordedResource,
    byUrn: ReadonlyMap<string, RecordedResource>,
    inputs: Record<string, unknown> = r.inputs,
): AnalyzerResource {
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
 * What `AnalyzeStack` receives: the resource's final state (the mocked outputs; with remediated inputs
 * laid over them), its parent and dependencies. As in the engine, options carry no parent here.
 */
export function toAnalyzerStackResource(
    r: RecordedResource,
    byUrn: ReadonlyMap<string, RecordedResource>,
    remediatedInputs?: Record<string, unknown>,
): AnalyzerStackResource {
    let state: Record<string, unknown> = r.custom ? r.outputs : { ...r.outputs };
    if (remediatedInputs) {
        state = { ...r.outputs, ...remediatedInputs };
        for (const k of Object.keys(r.inputs)) if (!(k in remediatedInputs)) delete state[k];
    }
    const base = toAnalyzerResource(r, byUrn, state);
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
    /** Resources analysed at once (each still goes remediate -> analyze in order). Default 16. */
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

export interface PolicyReport {
    packs: PackReport[];
    violations: PolicyViolation[];
    remediations: PolicyRemediation[];
    /** Inputs of remediated resources, by URN. */
    remediatedInputs: Map<string, Record<string, unknown>>;
    /** Messages packs logged through the engine's Log RPC. */
    engineLogs: string[];
    /** Seconds spent starting and configuring the packs (a fixed cost per run). */
    startupSeconds: number;
    /** Seconds spent in all, start-up included. */
    seconds: number;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i], i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

function wrap(pack: string, what: string, err: unknown): Error {
    if (err instanceof PolicyPackError || err instanceof PolicyConfigError) return err;
    return new PolicyPackError(`policy pack "${pack}" failed in ${what}: ${(err as Error).message ?? String(err)}`);
}

interface LoadedPack {
    process: PolicyPackProcess;
    report: PackReport;
    steps: Map<string, string>;
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
                throw new PolicyConfigError(reconciled.errors.map((e) => `validating policy config: ${info.name} ${info.version}  ${e}`).sort().join("\n"));
            }
            config = reconciled.config;
            await proc.configure(config);
        }
        return {
            process: proc,
            report: { dir: spec.dir, name: info.name, version: info.version, pluginVersion: plugin.version, configFile: spec.configFile, config, policies: info.policies, output: [] },
            steps: new Map(info.policies.map((p) => [p.name, p.remediationSteps])),
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

/** Runs the packs over `resources`; always stops every pack process before returning or throwing. */
export async function runPolicyPacks(resources: readonly RecordedResource[], opts: PolicyRunOptions): Promise<PolicyReport> {
    const t0 = process.hrtime.bigint();
    const engine = await EngineServer.start();
    const started: PolicyPackProcess[] = [];
    try {
        // Start every pack at once (as the CLI does) and wait for all, so none is left running on failure.
        const settled = await Promise.allSettled(opts.packs.map((spec) => loadPack(spec, engine, opts, started)));
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
        if (failed) throw failed.reason;
        const packs = settled.map((s) => (s as PromiseFulfilledResult<LoadedPack>).value);
        const startupSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const remediatedInputs = new Map<string, Record<string, unknown>>();
        const perResource = await mapLimit(resources, opts.concurrency ?? 16, async (r) => {
            const violations: PolicyViolation[] = [];
            const remediations: PolicyRemediation[] = [];
            let inputs = r.inputs;
            for (const pack of packs) {
                let results;
                try {
                    results = await pack.process.remediate(toAnalyzerResource(r, byUrn, inputs));
                } catch (err) {
                    throw wrap(pack.report.dir, `Remediate(${r.urn})`, err);
                }
                for (const m of results) {
                    if (m.diagnostic) {
                        violations.push({
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
                        });
                    } else if (m.properties) {
                        remediations.push({ urn: r.urn, policyPackName: m.policyPackName, policyPackVersion: m.policyPackVersion, policyName: m.policyName, description: m.description, before: inputs, after: m.properties });
                        inputs = m.properties;
                    }
                }
            }
            if (inputs !== r.inputs) remediatedInputs.set(r.urn, inputs);
            for (const pack of packs) {
                let res;
                try {
                    res = await pack.process.analyze(toAnalyzerResource(r, byUrn, inputs));
                } catch (err) {
                    throw wrap(pack.report.dir, `Analyze(${r.urn})`, err);
                }
                for (const d of res.diagnostics) {
                    violations.push({
                        ...d,
                        // The engine reports remediate-level violations as mandatory, on this resource's URN.
                        enforcementLevel: d.enforcementLevel === "remediate" ? "mandatory" : d.enforcementLevel,
                        urn: r.urn,
                        stage: "resource",
                        remediationSteps: pack.steps.get(d.policyName) ?? "",
                    });
                }
            }
            return { violations, remediations };
        });

        const stackResources = resources.map((r) => toAnalyzerStackResource(r, byUrn, remediatedInputs.get(r.urn)));
        const stackViolations = await Promise.all(
            packs.map(async (pack) => {
                let res;
                try {
                    res = await pack.process.analyzeStack(stackResources);
                } catch (err) {
                    throw wrap(pack.report.dir, "AnalyzeStack", err);
                }
                return res.diagnostics.map(
                    (d): PolicyViolation => ({
                        ...d,
                        enforcementLevel: d.enforcementLevel === "remediate" ? "mandatory" : d.enforcementLevel,
                        stage: "stack",
                        remediationSteps: pack.steps.get(d.policyName) ?? "",
                    }),
                );
            }),
        );
        for (const pack of packs) pack.report.output = pack.process.output.map((o) => o.line);
        return {
            packs: packs.map((p) => p.report),
            violations: [...perResource.flatMap((p) => p.violations), ...stackViolations.flat()],
            remediations: perResource.flatMap((p) => p.remediations),
            remediatedInputs,
            engineLogs: engine.logs.map((l) => `${l.severity}: ${l.message}`),
            startupSeconds,
            seconds: Number(process.hrtime.bigint() - t0) / 1e9,
        };
    } finally {
        await Promise.all(started.map((p) => p.close()));
        await engine.close();
    }
}
