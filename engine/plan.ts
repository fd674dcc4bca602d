/**
 * The offline plan of a stack: the real program (Pulumi.yaml's `main`) run on the recording engine with
 * the stack's config, every Kubernetes object validated against the upstream schemas, and the policy
 * packs run over the result as `pulumi preview --policy-pack` runs them. engine/cli/plan.ts is the CLI.
 */
import * as fs from "fs";
import * as path from "path";
import { isPolicyPackDir, PolicyPackError } from "./analyzer";
import { kubernetesObjects, type RenderedObject, type SchemaError, validateObjects } from "./kubernetes";
import { type PolicyPackSpec, type PolicyReport, PolicySession } from "./policies";
import { ChartsUnavailableError } from "./charts";
import { ChartRenderError, renderReleases, type RenderOptions } from "./helm";
import { findPolicyConfig, PolicyConfigError } from "./policyConfig";
import { NO_PROGRESS, type ProgressSink } from "./progress";
import { ProjectError } from "./project";
import { organizationOf } from "./provenance";
import { ProgramError, type RecordedResource, type RegisterHook } from "./recorder";
import { type ModuleLoader, type ProgramRunner, recordStack, resolveStack, type StackRecording } from "./stack";

/** Exit codes of `npm run plan` (documented in docs/plan.md). */
export const EXIT = {
    /** The plan ran; no mandatory violation, every Kubernetes object valid. */
    OK: 0,
    /** At least one mandatory policy violation. */
    MANDATORY_VIOLATIONS: 1,
    /** The plan could not be made: bad flags, project or stack files, invalid config, or the program threw. */
    PROGRAM_ERROR: 2,
    /** A policy pack failed to start, crashed, timed out, or its policy config is invalid. */
    POLICY_PACK_ERROR: 3,
    /** At least one Kubernetes object fails its schema. */
    INVALID_KUBERNETES: 4,
    /** `--fail-on-stateful-delete`: the diff deletes or replaces a stateful or protected resource. */
    STATEFUL_DELETE: 5,
} as const;

/** Error in how the plan was asked for (flags, paths). */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** Policy packs under `<root>/policy/` (each directory with a PulumiPolicy.yaml), sorted. */
export function discoverPolicyPacks(root: string): string[] {
    const dir = path.join(root, "policy");
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && isPolicyPackDir(path.join(dir, e.name)))
        .map((e) => path.join(dir, e.name))
        .sort();
}

/** The package that ships the platform's policy packs (its `policy/` directory) with the plan: mlops-plan. */
export const PLAN_PACKAGE = "mlops-plan";

/**
 * The platform's policy packs as installed with the plan: `<mlops-plan>/policy/*` resolved from the
 * project (a team project has them under node_modules, where its devDependency put them). Empty when
 * the project does not depend on the plan package or the package has no packs (this repository's own
 * engine/ workspace: here the packs are the project's own, under policy/).
 */
export function shippedPolicyPacks(root: string): string[] {
    let manifest: string;
    try {
        manifest = require.resolve(`${PLAN_PACKAGE}/package.json`, { paths: [path.resolve(root)] });
    } catch {
        return [];
    }
    return discoverPolicyPacks(path.dirname(fs.realpathSync(manifest)));
}

/**
 * The packs a plan runs by default: the project's own (`<root>/policy/*`), or else the platform's packs
 * shipped with the plan package it depends on, so no team plan goes unchecked because the team has no packs.
 */
export function defaultPolicyPacks(root: string): string[] {
    const own = discoverPolicyPacks(root);
    return own.length > 0 ? own : shippedPolicyPacks(root);
}

/**
 * The packs to run and their config files: the given packs (or {@link defaultPolicyPacks}), each
 * with its `--policy-pack-config` (matched by position, as the CLI does) or its default config file.
 */
export function resolvePolicyPacks(root: string, stack: string, packs: string[] | undefined, configs: string[]): PolicyPackSpec[] {
    if (configs.length > 0 && (packs === undefined || configs.length !== packs.length)) {
        throw new UsageError(`--policy-pack-config must be given once per --policy-pack (${configs.length} config files for ${packs?.length ?? 0} packs)`);
    }
    const dirs = packs ?? defaultPolicyPacks(root);
    return dirs.map((dir, i) => {
        if (!isPolicyPackDir(dir)) throw new UsageError(`--policy-pack ${dir}: no PulumiPolicy.yaml there`);
        const configFile = configs[i] ?? findPolicyConfig(dir, stack);
        if (configs[i] && !fs.existsSync(configs[i])) throw new UsageError(`--policy-pack-config ${configs[i]}: no such file`);
        return { dir, configFile };
    });
}

export interface PlanOptions {
    /** Directory with Pulumi.yaml. */
    root: string;
    stack: string;
    /** Config values to set or remove (`ns:key`), like `pulumi preview --config`. */
    configOverrides?: Record<string, string | undefined>;
    /** Packs to run; empty for none. */
    policyPacks: PolicyPackSpec[];
    /** Start-up budget and per-call deadline of each pack. */
    policyTimeoutMs: number;
    organization?: string;
    /** Run as a preview (unknown values stay unknown). */
    preview?: boolean;
    load?: ModuleLoader;
    /** How the program runs (engine/stack.ts); default `in-process`. `npm run plan` runs it as the CLI does. */
    runner?: ProgramRunner;
    /** CLI-style runs: the program's output as it arrives. */
    onOutput?: (text: string) => void;
    /** Packs already started for this plan by {@link startPolicySession} (used instead of starting `policyPacks`); the plan closes them. */
    policySession?: Promise<PolicySession>;
    /** Told of each phase as it starts and ends (engine/progress.ts). */
    progress?: ProgressSink;
    /**
     * Render every Helm Release (engine/helm.ts) and treat its objects as the plan's own: true for the
     * charts cache, or how to render; default false (the Releases stay opaque).
     */
    charts?: boolean | RenderOptions;
}

export interface Plan {
    project: string;
    stack: string;
    organization: string;
    recording: StackRecording;
    /**
     * The recorded resources (with policy remediations applied to their inputs, as the engine would),
     * then the objects of the Helm releases, each a child of its Release (when charts are rendered).
     */
    resources: RecordedResource[];
    /** The rendered chart objects among `resources` (empty when charts are not rendered). */
    chartResources: RecordedResource[];
    /** Kubernetes objects (secrets revealed, for validation; redact before writing). */
    objects: RenderedObject[];
    schemaErrors: SchemaError[];
    policy?: PolicyReport;
    exitCode: number;
}

/** The exit code for a finished plan: mandatory violations outrank schema errors. */
export function planExitCode(p: { policy?: PolicyReport; schemaErrors: readonly SchemaError[] }): number {
    if (p.policy?.violations.some((v) => v.enforcementLevel === "mandatory")) return EXIT.MANDATORY_VIOLATIONS;
    if (p.schemaErrors.length > 0) return EXIT.INVALID_KUBERNETES;
    return EXIT.OK;
}

/** Severity of each exit code, for combining several stacks: a failed plan outranks everything. */
const SEVERITY: Record<number, number> = {
    [EXIT.OK]: 0,
    [EXIT.INVALID_KUBERNETES]: 1,
    [EXIT.MANDATORY_VIOLATIONS]: 2,
    [EXIT.STATEFUL_DELETE]: 2.5,
    [EXIT.POLICY_PACK_ERROR]: 3,
    [EXIT.PROGRAM_ERROR]: 4,
};

/** The exit code of several plans: the most severe (2 > 3 > 5 > 1 > 4 > 0). */
export function combineExitCodes(codes: readonly number[]): number {
    return codes.reduce((worst, c) => ((SEVERITY[c] ?? 5) > (SEVERITY[worst] ?? 5) ? c : worst), EXIT.OK);
}

/**
 * Starts and configures the plan's packs (`opts.policyPacks`) with the stack's context, as planStack
 * does; undefined when there are none. For callers that want the packs running before the plan (the
 * benchmark, which measures their start-up apart from the analysis): pass the result as
 * `opts.policySession`.
 */
export function startPolicySession(opts: Omit<PlanOptions, "policySession">): Promise<PolicySession> | undefined {
    if (opts.policyPacks.length === 0) return undefined;
    const { info, stackConfig } = resolveStack(opts.root, opts.stack, opts.configOverrides);
    return PolicySession.start({
        packs: opts.policyPacks,
        stack: {
            project: info.name,
            stack: opts.stack,
            organization: opts.organization ?? organizationOf(stackConfig.config, info.name) ?? "organization",
            dryRun: true,
            config: stackConfig.config,
            configSecretKeys: stackConfig.secretKeys,
        },
        timeoutMs: opts.policyTimeoutMs,
    });
}

/** The organisation of the stack from its config (a bad stack fails later, where recording reports it). */
function stackOrganization(opts: Pick<PlanOptions, "root" | "stack" | "configOverrides">): string | undefined {
    try {
        const { info, stackConfig } = resolveStack(opts.root, opts.stack, opts.configOverrides);
        return organizationOf(stackConfig.config, info.name);
    } catch {
        return undefined;
    }
}

/** Records the stack, validates its Kubernetes objects and runs the policy packs. */
export async function planStack(opts: PlanOptions): Promise<Plan> {
    const organization = opts.organization ?? stackOrganization(opts) ?? "organization";
    const progress = opts.progress ?? NO_PROGRESS;
    // As the CLI does, the packs start and are configured while the program loads (in their own
    // processes), and analyse every resource as it registers, before the mocks answer it.
    const packCount = opts.policySession ? undefined : opts.policyPacks.length;
    if (packCount !== 0) progress.start("starting the policy packs");
    const starting = (opts.policySession ?? startPolicySession(opts))?.then((s) => {
        progress.done("starting the policy packs", packCount ? `${packCount} pack${packCount === 1 ? "" : "s"} ready` : "ready");
        return s;
    });
    starting?.catch(() => undefined); // handled below; a failed start must not count as unhandled meanwhile
    let recording: StackRecording;
    let policy: PolicyReport | undefined;
    let session: PolicySession | undefined;
    let chartResources: RecordedResource[] = [];
    try {
        let startError: unknown;
        let registered = 0;
        // Only with packs: a hook delays each registration by a turn, which changes the order the
        // program's resources register in (the recording without packs is the harness's).
        const onRegister: RegisterHook | undefined = starting
            ? async (r, lookup) => {
                  progress.count(++registered, "resources");
                  try {
                      session ??= await starting;
                  } catch (err) {
                      startError ??= err;
                      return undefined;
                  }
                  return session.onRegister(r, lookup);
              }
            : undefined;
        progress.start("running the program");
        try {
            recording = await recordStack({
                root: opts.root,
                stack: opts.stack,
                configOverrides: opts.configOverrides,
                load: opts.load,
                preview: opts.preview,
                onRegister,
                runner: opts.runner,
                organization,
                onOutput: opts.onOutput,
            });
        } catch (err) {
            throw startError ?? session?.failure ?? err;
        }
        progress.done("running the program", `${recording.resources.length} resources${starting ? " (each analysed by the packs as it registered)" : ""}`);
        // A pack that failed (to start, or during the run) stops the plan, as it stops a preview.
        if (startError) throw startError;
        if (session?.failure) throw session.failure;
        session ??= await starting;
        // The charts' objects, after the program: the packs see each as the object it is, then the
        // stack policies see them with the rest.
        if (opts.charts) {
            progress.start("rendering the Helm releases");
            chartResources = renderReleases(recording.resources, opts.charts === true ? {} : opts.charts);
            progress.done("rendering the Helm releases", `${chartResources.length} objects`);
        }
        if (session && chartResources.length > 0) {
            const byUrn = new Map([...recording.resources, ...chartResources].map((r) => [r.urn, r]));
            // What a pack would remediate in a chart object cannot change what Helm installs: inputs stay.
            await Promise.all(chartResources.map((r) => session!.onRegister(r, (urn) => byUrn.get(urn))));
            if (session.failure) throw session.failure;
        }
        if (session) {
            progress.start("checking the stack with the policy packs");
            policy = await session.finish([...recording.resources, ...chartResources]);
            const n = policy.violations.length;
            progress.done("checking the stack with the policy packs", `${n} violation${n === 1 ? "" : "s"}`);
        }
    } finally {
        const s = session ?? (await starting?.catch(() => undefined));
        await s?.close();
    }
    const resources = [...recording.resources, ...chartResources];
    const objects = kubernetesObjects(resources);
    progress.start("validating Kubernetes objects");
    const schemaErrors = await validateObjects(objects.map((o) => o.object));
    progress.done(
        "validating Kubernetes objects",
        `${objects.length} objects, ${schemaErrors.length ? `${new Set(schemaErrors.map((e) => e.object)).size} invalid` : "all valid"}`,
    );
    const plan = {
        project: recording.project,
        stack: opts.stack,
        organization,
        recording,
        resources,
        chartResources,
        objects,
        schemaErrors,
        policy,
        exitCode: 0,
    };
    plan.exitCode = planExitCode(plan);
    return plan;
}

/** First stack frame in the project's own code (not node_modules, not the engine). */
function userFrame(err: unknown, root: string): string | undefined {
    const stack = err instanceof Error ? err.stack : undefined;
    if (!stack) return undefined;
    const engineDir = path.join(root, "engine") + path.sep;
    return stack
        .split("\n")
        .slice(1)
        .map((l) => l.trim())
        .find((l) => l.includes(root) && !l.includes(`${path.sep}node_modules${path.sep}`) && !l.includes(engineDir));
}

/**
 * The one message and exit code for an error that stopped the plan. Invalid stack config (a
 * `ConfigError` from stacks/config/schema.ts) is printed as its message alone.
 */
export function describeFailure(err: unknown, root: string): { exitCode: number; message: string } {
    if (err instanceof UsageError || err instanceof ProjectError) return { exitCode: EXIT.PROGRAM_ERROR, message: err.message };
    if (err instanceof PolicyPackError) {
        // eslint-disable-next-line no-control-regex
        const text = err.stderr.replace(/\x1b\[[0-9;]*m/g, "").trimEnd();
        const stderr = text
            ? `\n  pack stderr:\n${text
                  .split("\n")
                  .slice(-15)
                  .map((l) => `    ${l}`)
                  .join("\n")}`
            : "";
        return { exitCode: EXIT.POLICY_PACK_ERROR, message: `${err.message}${stderr}` };
    }
    if (err instanceof PolicyConfigError) return { exitCode: EXIT.POLICY_PACK_ERROR, message: err.message };
    if (err instanceof ChartsUnavailableError) return { exitCode: EXIT.PROGRAM_ERROR, message: err.message };
    if (err instanceof ChartRenderError) return { exitCode: EXIT.PROGRAM_ERROR, message: `cannot render the Helm releases: ${err.message}` };
    if (err instanceof ProgramError) {
        const cause = err.cause as { name?: string; message?: string } | undefined;
        if (cause?.name === "ConfigError" && cause.message) return { exitCode: EXIT.PROGRAM_ERROR, message: cause.message };
        const where = userFrame(err.cause, root);
        return { exitCode: EXIT.PROGRAM_ERROR, message: `${err.message}${where ? `\n    ${where}` : ""}` };
    }
    const e = err as Error;
    return { exitCode: EXIT.PROGRAM_ERROR, message: `the plan failed: ${e?.stack ?? String(err)}` };
}
