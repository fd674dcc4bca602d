/**
 * The recording engine: runs a Pulumi program on Pulumi's mock runtime and records, for every resource,
 * what the Pulumi engine would receive in its RegisterResource request: type, name, URN, parent,
 * provider, inputs (secrets kept as secrets), dependencies, property dependencies and resource options.
 *
 * The unit-test harness and the offline plan share this one engine.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

// Internal runtime modules: not all of their functions are in the published typings.
/* eslint-disable @typescript-eslint/no-require-imports */
const settings = require("@pulumi/pulumi/runtime/settings") as {
    setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean, organization: string): void;
    waitForRPCs(): Promise<void>;
};
const resproto = require("@pulumi/pulumi/proto/resource_pb") as {
    RegisterResourceResponse: new () => { setUrn(u: string): void; setId(id: string): void; setObject(s: Struct): void };
};
const state = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };
const rpc = require("@pulumi/pulumi/runtime/rpc") as {
    deserializeProperties(struct: { toJavaScript(): Record<string, unknown> }, keepUnknowns?: boolean): Record<string, unknown>;
    serializeProperties(label: string, props: Record<string, unknown>, opts?: { keepOutputValues?: boolean }): Promise<Record<string, unknown>>;
};
import { type MockContext, mockCall, mockState, setMockContext } from "./mockState";
import { installRecordingPatches } from "./patches";
import { SECRET_SIG, SIG_KEY, UNKNOWN } from "./values";

/** An alias as the engine receives it: a URN, or a spec of name/type/parent/stack/project. */
export type RecordedAlias = { urn: string } | { name?: string; type?: string; stack?: string; project?: string; parentUrn?: string; noParent?: boolean };

/** The options of a resource registration. */
export interface RecordedOptions {
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    additionalSecretOutputs: string[];
    aliases: RecordedAlias[];
    customTimeouts?: { create?: string; update?: string; delete?: string };
    deletedWith?: string;
    version?: string;
    pluginDownloadURL?: string;
    importId?: string;
}

/** Everything recorded about one resource. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** A custom (provider-managed) resource, as opposed to a component. */
    custom: boolean;
    /** Mocked physical id (custom resources). */
    id?: string;
    /** URN of the parent resource ("" for the stack itself). */
    parent: string;
    /** Provider reference `<provider urn>::<id>` for custom resources, "" otherwise. */
    provider: string;
    /** Provider references by package, as passed to a component. */
    providers: Record<string, string>;
    /** Inputs in Pulumi's wire form: secrets are `{ SIG_KEY: SECRET_SIG, value }`, unknowns `UNKNOWN`. */
    inputs: Record<string, unknown>;
    /** The state the mocks returned (inputs plus computed attributes). */
    outputs: Record<string, unknown>;
    /** URNs this resource depends on. */
    dependencies: string[];
    /** For each input property, the URNs its value came from. */
    propertyDependencies: Record<string, string[]>;
    options: RecordedOptions;
}

/** A record of one program run. */
export interface Recording {
    project: string;
    stack: string;
    resources: RecordedResource[];
    /** Stack outputs, in wire form (secrets marked). */
    outputs: Record<string, unknown>;
    /** Messages the program logged (warnings and errors). */
    logs: { severity: string; message: string; urn?: string }[];
}

type Req = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getProvider(): string;
    getProvidersMap(): { toObject(): [string, string][] };
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(fn: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getProtect(): boolean;
    getRetainondelete(): boolean;
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getAliasesList(): { toObject(): AliasObject }[];
    getAliasurnsList(): string[];
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
    getDeletedwith(): string;
    getVersion(): string;
    getPlugindownloadurl(): string;
    getImportid(): string;
};

type AliasObject = {
    urn?: string;
    spec?: { name?: string; type?: string; stack?: string; project?: string; parenturn?: string; noparent?: boolean };
};

function nonEmpty<T extends Record<string, unknown>>(o: T): T | undefined {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== "" && v !== false) out[k] = v;
    return Object.keys(out).length > 0 ? (out as T) : undefined;
}

function propertyDependencies(r: Req): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    r.getPropertydependenciesMap().forEach((deps, key) => {
        out[key] = [...deps.getUrnsList()];
    });
    return out;
}

function aliasFrom(a: AliasObject): RecordedAlias {
    if (a.urn) return { urn: a.urn };
    const s = a.spec ?? {};
    return nonEmpty({ name: s.name, type: s.type, stack: s.stack, project: s.project, parentUrn: s.parenturn, noParent: s.noparent }) ?? {};
}

/**
 * The URN the engine gives a resource: the parent's full qualified type chain (except the root stack's
 * type), then this type and name - as `resource.NewURN` in the Pulumi engine. The SDK's MockMonitor keeps
 * only the last type of the chain and prefixes `pulumi:pulumi:Stack$`, which a real deployment never does.
 */
export function urnOf(parent: string, type: string, name: string): string {
    let qualified = type;
    const parentType = parent ? parent.split("::")[2] : "";
    if (parentType && parentType !== "pulumi:pulumi:Stack") qualified = `${parentType}$${type}`;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

/**
 * Called with each registration before the mocks answer it, as the Pulumi engine runs analyzers (policy
 * packs) on a resource before its step; may return replacement inputs (wire form), which the mocks and
 * the record then see - as the engine uses a policy's remediated inputs. `lookup` finds resources
 * registered so far by URN. A rejection fails the registration.
 */
export type RegisterHook = (record: RecordedResource, lookup: (urn: string) => RecordedResource | undefined) => Promise<Record<string, unknown> | undefined>;

/**
 * A `google.protobuf.Struct` that stands for `value`, already decoded: its `toJavaScript()` (all the SDK
 * reads of a property struct it receives) returns `value`. Readers copy what they read (the SDK's
 * `deserializeProperties`), so sharing the one value is safe.
 */
function decoded(value: Record<string, unknown>): Struct {
    const struct = new Struct();
    Object.defineProperty(struct, "toJavaScript", { value: () => value });
    return struct;
}

/** A MockMonitor that records the full register-resource request of every resource. */
export class RecordingMonitor extends MockMonitor {
    readonly records: RecordedResource[] = [];
    readonly logs: Recording["logs"] = [];
    private readonly byUrn = new Map<string, RecordedResource>();

    constructor(private readonly onRegister?: RegisterHook) {
        super({
            newResource: (args) => mockState(args),
            call: (args) => mockCall(args),
        });
        // MockMonitor names resources with its private `newUrn`; use the engine's URNs instead.
        (this as unknown as { newUrn: typeof urnOf }).newUrn = urnOf;
    }

    override async registerResource(req: any, callback: (err: any, resp?: any) => void): Promise<void> {
        const r = req as Req;
        let record: RecordedResource | undefined;
        try {
            const urn = urnOf(r.getParent(), r.getType(), r.getName());
            const timeouts = r.getCustomtimeouts();
            record = {
                urn,
                type: r.getType(),
                name: r.getName(),
                custom: r.getCustom(),
                parent: r.getParent(),
                provider: r.getProvider(),
                providers: Object.fromEntries(r.getProvidersMap().toObject()),
                inputs: r.getObject()?.toJavaScript() ?? {},
                outputs: {},
                dependencies: [...r.getDependenciesList()],
                propertyDependencies: propertyDependencies(r),
                options: {
                    protect: r.getProtect(),
                    retainOnDelete: r.getRetainondelete(),
                    deleteBeforeReplace: r.getDeletebeforereplace(),
                    ignoreChanges: [...r.getIgnorechangesList()],
                    replaceOnChanges: [...r.getReplaceonchangesList()],
                    additionalSecretOutputs: [...r.getAdditionalsecretoutputsList()],
                    aliases: [...r.getAliasesList().map((a) => aliasFrom(a.toObject())), ...r.getAliasurnsList().map((urn) => ({ urn }))],
                    customTimeouts: timeouts
                        ? nonEmpty({ create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() })
                        : undefined,
                    deletedWith: r.getDeletedwith() || undefined,
                    version: r.getVersion() || undefined,
                    pluginDownloadURL: r.getPlugindownloadurl() || undefined,
                    importId: r.getImportid() || undefined,
                },
            };
            if (this.byUrn.has(urn)) {
                throw new Error(`Duplicate resource URN '${urn}': two resources of one type and name under one parent.`);
            }
            this.byUrn.set(urn, record);
            this.records.push(record);
        } catch (err) {
            callback(err);
            return;
        }
        const rec = record;
        if (this.onRegister) {
            try {
                const replaced = await this.onRegister(rec, (urn) => this.byUrn.get(urn));
                if (replaced) rec.inputs = replaced;
            } catch (err) {
                callback(err);
                return;
            }
        }
        // What MockMonitor.registerResource does (the mocks' state, serialised, is the response), without
        // its protobuf round trips: the request's properties were decoded once above, and the response
        // carries the serialised state as it is instead of a Struct built from it and decoded again by
        // the SDK. Those conversions were half of a plan's protobuf work, a tenth of its time at 100 services.
        try {
            const result = await this.mocks.newResource({
                type: rec.type,
                name: rec.name,
                inputs: rpc.deserializeProperties(decoded(rec.inputs)),
                provider: rec.provider,
                custom: rec.custom,
                id: rec.options.importId,
            });
            const serialized = await rpc.serializeProperties("", result.state);
            this.resources.set(rec.urn, { urn: rec.urn, id: result.id ?? null, state: serialized });
            rec.id = result.id || undefined;
            rec.outputs = serialized;
            const response = new resproto.RegisterResourceResponse();
            response.setUrn(rec.urn);
            response.setId(result.id || "");
            response.setObject(decoded(serialized));
            callback(null, response);
        } catch (err) {
            callback(err);
        }
    }

    override registerResourceOutputs(req: any, callback: (err: any, resp?: any) => void): void {
        const record = this.byUrn.get(req.getUrn());
        if (record && !record.custom) record.outputs = req.getOutputs()?.toJavaScript() ?? {};
        super.registerResourceOutputs(req, callback);
    }
}

/**
 * The monitor features the recording engine supports: what an in-process run sets in the SDK's store and
 * what the CLI-style run (engine/programRun.ts) answers to `SupportsFeature`, so both register alike.
 * `outputValues` is off (as in the SDK's MockMonitor): inputs arrive as plain values, secrets and
 * unknowns, with their dependencies in `propertyDependencies`. Transforms, hooks and parameterised
 * packages are off: the platform uses none of them.
 */
export const ENGINE_FEATURES: ReadonlySet<string> = new Set(["secrets", "resourceReferences", "deletedWith", "aliasSpecs"]);

/** The SDK store flag each feature sets (runtime/settings.js `awaitFeatureSupport`). */
const FEATURE_FLAGS: Record<string, string> = {
    secrets: "supportsSecrets",
    resourceReferences: "supportsResourceReferences",
    outputValues: "supportsOutputValues",
    deletedWith: "supportsDeletedWith",
    replaceWith: "supportsReplaceWith",
    aliasSpecs: "supportsAliasSpecs",
    transforms: "supportsTransforms",
    invokeTransforms: "supportsInvokeTransforms",
    parameterization: "supportsParameterization",
    resourceHooks: "supportsResourceHooks",
    errorHooks: "supportsErrorHooks",
};

/** What to run and as which project and stack. */
export interface RunOptions {
    /** Pulumi project name (from Pulumi.yaml). */
    project: string;
    /** Stack name. */
    stack: string;
    /** Configuration as Pulumi hands it to programs: `ns:key` -> string (objects JSON-encoded). */
    config: Record<string, string>;
    /** Keys of `config` that are secret. */
    secretKeys?: string[];
    /** The program: loads the entry module (whose exports are the stack outputs) or returns outputs. */
    program: () => unknown;
    /** Run as a preview (unknown values stay unknown). Default false. */
    preview?: boolean;
    /** Pulumi organisation. Default "organization". */
    organization?: string;
    /** Account and region that mocked ARNs use. */
    mockContext?: MockContext;
    /** Runs on every registration before the mocks answer (policy analysis). */
    onRegister?: RegisterHook;
}

/** Error raised when the program itself failed; `cause` is what it threw. */
export class ProgramError extends Error {
    constructor(
        message: string,
        override readonly cause: unknown,
        /** What was registered before the failure (the stack resource at least). */
        readonly resources: readonly RecordedResource[] = [],
    ) {
        super(message);
        this.name = "ProgramError";
    }
}

let running = false;

/**
 * Runs a program on the mock runtime and returns everything it registered. Runs are serialised: the
 * Pulumi runtime is process-global.
 */
export async function record(opts: RunOptions): Promise<Recording> {
    if (running) throw new Error("record(): a program is already running in this process");
    running = true;
    const monitor = new RecordingMonitor(opts.onRegister);
    try {
        if (opts.mockContext) setMockContext(opts.mockContext);
        settings.setMockOptions(monitor, opts.project, opts.stack, opts.preview ?? false, opts.organization ?? "organization");
        const store = state.getStore();
        for (const [feature, flag] of Object.entries(FEATURE_FLAGS)) store[flag] = ENGINE_FEATURES.has(feature);
        pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
        const logs = monitor.logs;
        const restore = installRecordingPatches(logs);
        let outputs: Record<string, unknown>;
        // The program's own failure is caught inside the stack's init so that it does not also surface
        // as an unhandled rejection of the stack resource; it is rethrown once the runtime is idle.
        let failure: { error: unknown } | undefined;
        // A rejection nobody handles (e.g. a resource input whose promise rejects) fails the program, as
        // under the Pulumi CLI's language host, instead of crashing the process or leaving it waiting.
        const rejection = ownUnhandledRejections();
        try {
            const run = pulumi.runtime
                .runInPulumiStack(async () => {
                    try {
                        return (await opts.program()) as Record<string, unknown>;
                    } catch (error) {
                        failure = { error };
                        return {};
                    }
                })
                .then(async (r) => {
                    await settings.waitForRPCs();
                    // Node reports unhandled rejections after the microtask queue drains: let it, so a
                    // registration that failed is reported here, not after the recording was returned.
                    await new Promise((resolve) => setImmediate(resolve));
                    await settings.waitForRPCs();
                    return r;
                });
            const result = await Promise.race([run, rejection.failed]);
            if (failure) throw failure.error;
            // The stack's outputs as the engine receives them (RegisterResourceOutputs of the root stack):
            // `result` holds the resolved values, which have lost their secret marks.
            const root = monitor.records.find((r) => r.type === "pulumi:pulumi:Stack" && !r.parent);
            outputs = root ? root.outputs : ((await serializeOutputs(result)) ?? {});
        } catch (err) {
            // What the failed program left pending is not a leak to report when the process exits.
            (state.getStore().leakCandidates as Set<unknown> | undefined)?.clear();
            throw new ProgramError(`the program failed: ${err instanceof Error ? err.message : String(err)}`, err, monitor.records);
        } finally {
            rejection.restore();
            restore();
        }
        return { project: opts.project, stack: opts.stack, resources: monitor.records, outputs, logs };
    } finally {
        running = false;
    }
}

/**
 * While a program runs, unhandled rejections are the program's failures: this takes over the process's
 * `unhandledRejection` listeners (a test runner's too) and hands back a promise that rejects with the
 * first one. `restore` puts the previous listeners back.
 */
function ownUnhandledRejections(): { failed: Promise<never>; restore: () => void } {
    const previous = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    let reject!: (reason: unknown) => void;
    const failed = new Promise<never>((_, r) => {
        reject = r;
    });
    failed.catch(() => undefined); // only raced; never itself unhandled
    const listener = (reason: unknown) => reject(reason);
    process.on("unhandledRejection", listener);
    return {
        failed,
        restore: () => {
            process.removeListener("unhandledRejection", listener);
            for (const l of previous) process.on("unhandledRejection", l);
        },
    };
}

async function serializeOutputs(result: unknown): Promise<Record<string, unknown> | undefined> {
    if (!result || typeof result !== "object") return undefined;
    const serialized = await rpc.serializeProperties("outputs", result as Record<string, unknown>, { keepOutputValues: false });
    return JSON.parse(JSON.stringify(serialized));
}

export { SECRET_SIG, SIG_KEY, UNKNOWN };
