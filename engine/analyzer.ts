/**
 * A client for CrossGuard policy packs that starts and talks to a pack exactly as the Pulumi CLI does for
 * `pulumi preview --policy-pack <dir>` (`NewPolicyAnalyzer` in pulumi/pulumi
 * `sdk/go/common/resource/plugin/analyzer_plugin.go`, and the `pulumi-analyzer-policy` shim):
 *
 * - the pack's `PulumiPolicy.yaml` is read (`runtime: nodejs`, optional `version`);
 * - `@pulumi/pulumi/cmd/run-policy-pack` is resolved from the pack's own directory (its node_modules),
 *   and run with node in the pack's directory with the arguments `<engine address> . [-<option>=<value>]`
 *   (runtime options of PulumiPolicy.yaml) and the environment `PULUMI_CONFIG`, `PULUMI_[NODEJS_]PROJECT`,
 *   `..._STACK`, `..._ORGANIZATION`, `..._DRY_RUN`;
 * - the pack prints the port of its gRPC server on the first line of stdout; the client connects,
 *   waits for the channel, and calls `Handshake` (packs that do not implement it are fine);
 * - then `ConfigureStack`, `GetAnalyzerInfo`, `GetPluginInfo`, `Configure`, and per resource `Remediate`
 *   and `Analyze`, and `AnalyzeStack` at the end (see engine/policies.ts for that flow).
 *
 * The engine address the pack receives is a real, minimal `pulumirpc.Engine` server (Log, root resource)
 * so a pack that logs through the engine works; its messages are collected in {@link PolicyPackProcess.logs}.
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { BinaryWriter } from "google-protobuf";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import YAML from "yaml";
import type { EnforcementLevel, PolicyConfig } from "./policyConfig";

/** The pack could not be started, crashed, timed out or answered with an error. */
export class PolicyPackError extends Error {
    constructor(
        message: string,
        /** What the pack wrote to stderr, if anything. */
        readonly stderr = "",
    ) {
        super(message);
        this.name = "PolicyPackError";
    }
}

/** `PulumiPolicy.yaml`. */
export interface PolicyPackProject {
    dir: string;
    runtime: string;
    runtimeOptions: Record<string, unknown>;
    /** Overrides the version the pack reports, as in the CLI. */
    version?: string;
    description?: string;
}

/** Does `dir` hold a policy pack (a PulumiPolicy.yaml)? */
export function isPolicyPackDir(dir: string): boolean {
    return fs.existsSync(path.join(dir, "PulumiPolicy.yaml"));
}

/** Reads the pack's `PulumiPolicy.yaml`. */
export function readPolicyPackProject(dir: string): PolicyPackProject {
    const file = path.join(dir, "PulumiPolicy.yaml");
    let doc: any;
    try {
        doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no PulumiPolicy.yaml there" : (err as Error).message;
        throw new PolicyPackError(`failed to load Pulumi policy project located at "${dir}": ${reason}`);
    }
    const runtime = typeof doc.runtime === "string" ? doc.runtime : doc.runtime?.name;
    if (typeof runtime !== "string") throw new PolicyPackError(`failed to load Pulumi policy project located at "${dir}": no runtime in ${file}`);
    return {
        dir,
        runtime,
        runtimeOptions: typeof doc.runtime === "object" && doc.runtime?.options ? doc.runtime.options : {},
        version: doc.version === undefined ? undefined : String(doc.version),
        description: typeof doc.description === "string" ? doc.description : undefined,
    };
}

/** Stack information the CLI hands a pack (environment at start, then `ConfigureStack`). */
export interface StackContext {
    project: string;
    stack: string;
    organization: string;
    dryRun: boolean;
    /** Stack config as the program sees it (`ns:key` -> string). */
    config: Record<string, string>;
    configSecretKeys: string[];
    tags?: Record<string, string>;
}

/** The environment the CLI gives a nodejs policy pack (`constructEnv`). */
export function policyPackEnv(base: NodeJS.ProcessEnv, ctx: StackContext): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base };
    const set = (k: string, v: string) => {
        if (v !== "") env[k] = v;
    };
    if (Object.keys(ctx.config).length > 0) set("PULUMI_CONFIG", JSON.stringify(ctx.config));
    for (const prefix of ["PULUMI_NODEJS_", "PULUMI_"]) {
        set(`${prefix}ORGANIZATION`, ctx.organization);
        set(`${prefix}PROJECT`, ctx.project);
        set(`${prefix}STACK`, ctx.stack);
        set(`${prefix}DRY_RUN`, String(ctx.dryRun));
    }
    return env;
}

/** The arguments the `pulumi-analyzer-policy` shim passes on to run-policy-pack. */
export function policyPackArgs(engineAddress: string, runtimeOptions: Record<string, unknown>): string[] {
    const args = [engineAddress, "."];
    for (const [k, v] of Object.entries(runtimeOptions)) {
        const s = v === null || v === undefined ? "" : String(v);
        if (s !== "") args.push(`-${k}=${s}`);
    }
    return args;
}

/** Parses the port line a plugin prints (tolerating whitespace and .NET progress escapes, as the CLI does). */
export function parsePort(line: string): number {
    // eslint-disable-next-line no-control-regex -- the escape sequence .NET plugins print is what it removes
    const s = line.replace(/\x1b\]9;4;[03];\x1b\\/g, "").trim();
    const port = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`could not parse port: ${JSON.stringify(s)}`);
    return port;
}

// ------------------------------------------------------------------------------------------------
// A minimal engine: the address every plugin receives, with the Log RPC.
// ------------------------------------------------------------------------------------------------

export interface EngineLog {
    severity: "debug" | "info" | "warning" | "error";
    message: string;
    urn: string;
}

const SEVERITIES: EngineLog["severity"][] = ["debug", "info", "warning", "error"];

/** A `pulumirpc.Engine` server on 127.0.0.1 that collects `Log` calls. */
export class EngineServer {
    readonly logs: EngineLog[] = [];
    private rootResource = "";

    private constructor(
        private readonly server: grpc.Server,
        readonly address: string,
    ) {}

    static async start(): Promise<EngineServer> {
        const server = new grpc.Server();
        let self: EngineServer | undefined;
        server.addService(engineRpc.EngineService, {
            log: (call: grpc.ServerUnaryCall<enginePb.LogRequest, Empty>, cb: grpc.sendUnaryData<Empty>) => {
                const r = call.request;
                self?.logs.push({ severity: SEVERITIES[r.getSeverity()] ?? "info", message: r.getMessage(), urn: r.getUrn() });
                cb(null, new Empty());
            },
            getRootResource: (_call: unknown, cb: grpc.sendUnaryData<enginePb.GetRootResourceResponse>) => {
                cb(null, new enginePb.GetRootResourceResponse().setUrn(self?.rootResource ?? ""));
            },
            setRootResource: (
                call: grpc.ServerUnaryCall<enginePb.SetRootResourceRequest, unknown>,
                cb: grpc.sendUnaryData<enginePb.SetRootResourceResponse>,
            ) => {
                if (self) self.rootResource = call.request.getUrn();
                cb(null, new enginePb.SetRootResourceResponse());
            },
        } as grpc.UntypedServiceImplementation);
        const port = await new Promise<number>((resolve, reject) =>
            server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
        );
        self = new EngineServer(server, `127.0.0.1:${port}`);
        return self;
    }

    close(): Promise<void> {
        return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
    }
}

// ------------------------------------------------------------------------------------------------
// What the client sends and receives, as plain data.
// ------------------------------------------------------------------------------------------------

/** Resource options as analyzers receive them. */
export interface AnalyzerResourceOptions {
    protect: boolean;
    ignoreChanges: string[];
    /** Present when the program set it. */
    deleteBeforeReplace?: boolean;
    additionalSecretOutputs: string[];
    /** Aliases as URNs. */
    aliases: string[];
    /** Seconds. */
    customTimeouts: { create: number; update: number; delete: number };
    /** Set for `Analyze`, empty for `AnalyzeStack` (as the engine does). */
    parent: string;
}

export interface AnalyzerProvider {
    urn: string;
    type: string;
    name: string;
    properties: Record<string, unknown>;
}

/** One resource for `Analyze`/`Remediate`: properties in wire form (secrets signed, unknowns kept). */
export interface AnalyzerResource {
    urn: string;
    type: string;
    name: string;
    properties: Record<string, unknown>;
    options: AnalyzerResourceOptions;
    provider?: AnalyzerProvider;
}

/** One resource for `AnalyzeStack`. */
export interface AnalyzerStackResource extends AnalyzerResource {
    parent: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
}

export type Severity = "" | "low" | "medium" | "high" | "critical";
const SEVERITY_NAMES: Severity[] = ["", "low", "medium", "high", "critical"];
const LEVEL_NAMES: EnforcementLevel[] = ["advisory", "mandatory", "disabled", "remediate"];
const LEVEL_VALUES: Record<EnforcementLevel, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };

export interface AnalyzeDiagnostic {
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    description: string;
    message: string;
    enforcementLevel: EnforcementLevel;
    urn: string;
    severity: Severity;
}

export interface Remediation {
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    description: string;
    /** The remediated properties (wire form), when the policy changed the resource. */
    properties?: Record<string, unknown>;
    /** A warning instead of a change (e.g. the remediation could not run in preview). */
    diagnostic: string;
}

export interface PolicyInfo {
    name: string;
    displayName: string;
    description: string;
    message: string;
    enforcementLevel: EnforcementLevel;
    type: "resource" | "stack" | "unknown";
    severity: Severity;
    remediationSteps: string;
    url: string;
    tags: string[];
    configSchema?: { properties?: Record<string, Record<string, unknown>>; required?: string[] };
}

export interface AnalyzerInfo {
    name: string;
    displayName: string;
    version: string;
    supportsConfig: boolean;
    policies: PolicyInfo[];
    initialConfig: Record<string, PolicyConfig>;
    description: string;
}

export interface AnalyzeResult {
    diagnostics: AnalyzeDiagnostic[];
    notApplicable: { policyName: string; reason: string }[];
}

// ------------------------------------------------------------------------------------------------
// Conversions to and from the generated protobuf messages.
// ------------------------------------------------------------------------------------------------

/** Top-level keys starting with `__` are engine-internal: the CLI drops them before analysis. */
function withoutInternalKeys(props: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) if (!k.startsWith("__")) out[k] = v;
    return out;
}

function toOptions(o: AnalyzerResourceOptions): analyzerPb.AnalyzerResourceOptions {
    const m = new analyzerPb.AnalyzerResourceOptions();
    m.setProtect(o.protect);
    m.setIgnorechangesList(o.ignoreChanges);
    m.setDeletebeforereplace(o.deleteBeforeReplace ?? false);
    m.setDeletebeforereplacedefined(o.deleteBeforeReplace !== undefined);
    m.setAdditionalsecretoutputsList(o.additionalSecretOutputs);
    m.setAliasesList(o.aliases);
    const t = new analyzerPb.AnalyzerResourceOptions.CustomTimeouts();
    t.setCreate(o.customTimeouts.create);
    t.setUpdate(o.customTimeouts.update);
    t.setDelete(o.customTimeouts.delete);
    m.setCustomtimeouts(t);
    m.setParent(o.parent);
    return m;
}

function toProvider(p: AnalyzerProvider): analyzerPb.AnalyzerProviderResource {
    const m = new analyzerPb.AnalyzerProviderResource();
    m.setUrn(p.urn);
    m.setType(p.type);
    m.setName(p.name);
    m.setProperties(Struct.fromJavaScript(withoutInternalKeys(p.properties) as any));
    return m;
}

/** Provider messages by URN: a provider is sent with each of its resources, built once. */
type ProviderCache = Map<string, analyzerPb.AnalyzerProviderResource>;

/**
 * Builds request messages once for every pack of a run: the same message may be sent to several packs,
 * and is serialised once (see {@link AnalyzerClient}). Messages must not change once sent.
 */
export class AnalyzerRequests {
    private readonly providers: ProviderCache = new Map();

    analyze(r: AnalyzerResource): AnalyzeRequestMessage {
        return toAnalyzeRequest(r, true, this.providers);
    }

    remediate(r: AnalyzerResource): AnalyzeRequestMessage {
        return toAnalyzeRequest(r, false, this.providers);
    }

    analyzeStack(resources: readonly AnalyzerStackResource[]): AnalyzeStackRequestMessage {
        const req = new analyzerPb.AnalyzeStackRequest();
        req.setResourcesList(resources.map((r) => toStackResource(r, this.providers)));
        return req;
    }
}

/** A built Analyze/Remediate request. */
export type AnalyzeRequestMessage = analyzerPb.AnalyzeRequest;
/** A built AnalyzeStack request. */
export type AnalyzeStackRequestMessage = analyzerPb.AnalyzeStackRequest;

const serialized = new WeakMap<object, Buffer>();

/**
 * The `properties` of a request or stack resource, already in wire form (field 2, a Struct), appended to
 * the rest of the message when it is serialised. Building a `Struct` message tree
 * (`Struct.fromJavaScript`) and then serialising it was the plan's largest cost of a policy run; the
 * bytes are the same a `Struct` would give (keys sorted, as jspb's map writes them).
 */
const propertyBytes = new WeakMap<object, Uint8Array>();

// BinaryWriter.writeMessage skips a null or undefined value: values are passed boxed, `[value]`.
const writeValue = (box: [unknown], w: BinaryWriter): void => {
    // The cases and the error of Value.fromJavaScript.
    const v = box[0];
    if (v === null) w.writeEnum(1, 0);
    else if (typeof v === "number") w.writeDouble(2, v);
    else if (typeof v === "string") w.writeString(3, v);
    else if (typeof v === "boolean") w.writeBool(4, v);
    else if (Array.isArray(v)) w.writeMessage(6, v, writeList);
    else if (typeof v === "object") w.writeMessage(5, v, writeStruct);
    else throw new Error("Unexpected struct type.");
};
const writeList = (list: unknown[], w: BinaryWriter): void => {
    for (const item of list) w.writeMessage(1, [item], writeValue);
};
const writeEntry = (entry: [string, unknown], w: BinaryWriter): void => {
    w.writeString(1, entry[0]);
    w.writeMessage(2, [entry[1]], writeValue);
};
const writeStruct = (o: Record<string, unknown>, w: BinaryWriter): void => {
    const keys: string[] = [];
    for (const k in o) keys.push(k);
    keys.sort();
    for (const k of keys) w.writeMessage(1, [k, o[k]], writeEntry);
};

/** `properties` (field 2) of `message`, encoded now (so bad values fail here, as Struct.fromJavaScript did), written with it. */
function setPropertyBytes(message: object, properties: Record<string, unknown>): void {
    const w = new BinaryWriter();
    w.writeMessage(2, properties, writeStruct);
    propertyBytes.set(message, w.getResultBuffer());
}

/** A message's bytes with its properties. */
function messageBytes(message: { serializeBinary(): Uint8Array }): Buffer {
    const extra = propertyBytes.get(message);
    const own = message.serializeBinary();
    return extra ? Buffer.concat([own, extra]) : Buffer.from(own);
}

/** Serialises a request message once, however many packs it goes to. */
function serializeOnce(message: { serializeBinary(): Uint8Array }): Buffer {
    let bytes = serialized.get(message);
    if (!bytes) serialized.set(message, (bytes = messageBytes(message)));
    return bytes;
}

/** Serialises an AnalyzeStack request once: its resources (field 1) with their properties. */
function serializeStackOnce(message: analyzerPb.AnalyzeStackRequest): Buffer {
    let bytes = serialized.get(message);
    if (!bytes) {
        const w = new BinaryWriter();
        for (const r of message.getResourcesList()) w.writeBytes(1, messageBytes(r));
        serialized.set(message, (bytes = Buffer.from(w.getResultBuffer())));
    }
    return bytes;
}

/** The generated Analyzer client, with the requests that carry resources serialised once per message. */
const AnalyzerClient = grpc.makeGenericClientConstructor(
    {
        ...analyzerRpc.AnalyzerService,
        analyze: { ...analyzerRpc.AnalyzerService.analyze, requestSerialize: serializeOnce },
        remediate: { ...analyzerRpc.AnalyzerService.remediate, requestSerialize: serializeOnce },
        analyzeStack: { ...analyzerRpc.AnalyzerService.analyzeStack, requestSerialize: serializeStackOnce },
    } as unknown as grpc.ServiceDefinition,
    "Analyzer",
);

function cachedProvider(p: AnalyzerProvider, cache: ProviderCache): analyzerPb.AnalyzerProviderResource {
    let m = cache.get(p.urn);
    if (!m) cache.set(p.urn, (m = toProvider(p)));
    return m;
}

function toAnalyzeRequest(r: AnalyzerResource, skipInternalKeys: boolean, providers: ProviderCache): analyzerPb.AnalyzeRequest {
    const m = new analyzerPb.AnalyzeRequest();
    m.setUrn(r.urn);
    m.setType(r.type);
    m.setName(r.name);
    setPropertyBytes(m, (skipInternalKeys ? withoutInternalKeys(r.properties) : r.properties) as Record<string, unknown>);
    m.setOptions(toOptions(r.options));
    if (r.provider) m.setProvider(cachedProvider(r.provider, providers));
    return m;
}

function toStackResource(r: AnalyzerStackResource, providers: ProviderCache): analyzerPb.AnalyzerResource {
    const m = new analyzerPb.AnalyzerResource();
    m.setUrn(r.urn);
    m.setType(r.type);
    m.setName(r.name);
    setPropertyBytes(m, withoutInternalKeys(r.properties) as Record<string, unknown>);
    m.setOptions(toOptions(r.options));
    if (r.provider) m.setProvider(cachedProvider(r.provider, providers));
    m.setParent(r.parent);
    m.setDependenciesList(r.dependencies);
    const deps = m.getPropertydependenciesMap();
    for (const [k, urns] of Object.entries(r.propertyDependencies)) {
        if (urns.length === 0) continue; // the CLI skips properties without dependencies
        deps.set(k, new analyzerPb.AnalyzerPropertyDependencies().setUrnsList(urns));
    }
    return m;
}

function level(n: number): EnforcementLevel {
    const l = LEVEL_NAMES[n];
    if (!l) throw new PolicyPackError(`invalid enforcement level ${n}`);
    return l;
}

function fromDiagnostics(list: analyzerPb.AnalyzeDiagnostic[], version: string | undefined): AnalyzeDiagnostic[] {
    return list.map((d) => ({
        policyName: d.getPolicyname(),
        policyPackName: d.getPolicypackname(),
        // The version from PulumiPolicy.yaml, if set, wins (as in the CLI).
        policyPackVersion: version ?? d.getPolicypackversion(),
        description: d.getDescription(),
        message: d.getMessage(),
        enforcementLevel: level(d.getEnforcementlevel()),
        urn: d.getUrn(),
        severity: SEVERITY_NAMES[d.getSeverity()] ?? "",
    }));
}

function fromNotApplicable(list: analyzerPb.PolicyNotApplicable[]): AnalyzeResult["notApplicable"] {
    return list.map((n) => ({ policyName: n.getPolicyName(), reason: n.getReason() }));
}

function structToObject(s: Struct | undefined): Record<string, unknown> | undefined {
    return s ? (s.toJavaScript() as Record<string, unknown>) : undefined;
}

function toPolicyConfigMessage(c: PolicyConfig): analyzerPb.PolicyConfig {
    const m = new analyzerPb.PolicyConfig();
    m.setEnforcementlevel(LEVEL_VALUES[c.enforcementLevel ?? "advisory"]);
    m.setProperties(Struct.fromJavaScript((c.properties ?? {}) as any));
    return m;
}

// ------------------------------------------------------------------------------------------------
// The pack process and its client.
// ------------------------------------------------------------------------------------------------

export interface StartOptions {
    /** Address of the engine the pack is told about. */
    engineAddress: string;
    stack: StackContext;
    /** Budget for the start (port on stdout, channel ready, handshake) and for each RPC. */
    timeoutMs: number;
    /** Base environment; default process.env. */
    env?: NodeJS.ProcessEnv;
}

const MAX_MESSAGE = 400 * 1024 * 1024;

/** Default budget for a pack to start and for each call to it: generous, so a busy machine does not fail a plan. */
export const DEFAULT_POLICY_TIMEOUT_SECONDS = 180;

/** Appended to every timeout message: the flag that sets the budget. */
export const TIMEOUT_HINT = "; on a busy machine allow more time with --policy-timeout <seconds>";

/** Text of the last lines of `s`, for error messages. */
function tail(s: string, lines = 20): string {
    return s.trimEnd().split("\n").slice(-lines).join("\n");
}

/** A running policy pack and a gRPC client connected to it. */
export class PolicyPackProcess {
    /** Lines the pack printed after its port (stdout) and on stderr. */
    readonly output: { stream: "stdout" | "stderr"; line: string }[] = [];
    private stderrText = "";
    private readonly providers: ProviderCache = new Map();
    private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    private readonly exitPromise: Promise<void>;
    private closed = false;

    private constructor(
        readonly project: PolicyPackProject,
        private readonly child: ChildProcess,
        private client: grpc.Client | undefined,
        private readonly timeoutMs: number,
    ) {
        this.exitPromise = new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
                this.exited = { code: child.exitCode, signal: child.signalCode };
                resolve();
            } else {
                child.once("exit", (code, signal) => {
                    this.exited = { code, signal };
                    resolve();
                });
            }
        });
    }

    /** The pack's directory. */
    get dir(): string {
        return this.project.dir;
    }

    /** Everything the pack wrote to stderr so far. */
    get stderr(): string {
        return this.stderrText;
    }

    /** Starts the pack at `dir` as the CLI does and connects to it. */
    static async start(dir: string, opts: StartOptions): Promise<PolicyPackProcess> {
        const project = readPolicyPackProject(dir);
        if (project.runtime !== "nodejs") {
            throw new PolicyPackError(`policy pack "${dir}" has runtime "${project.runtime}"; the offline plan runs nodejs packs only`);
        }
        let script: string;
        try {
            script = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [path.resolve(dir)] });
        } catch {
            throw new PolicyPackError(`it looks like the policy pack's dependencies are not installed; try running npm install or yarn install in "${dir}"`);
        }
        const child = spawn(process.execPath, [script, ...policyPackArgs(opts.engineAddress, project.runtimeOptions)], {
            cwd: dir,
            env: policyPackEnv(opts.env ?? process.env, opts.stack),
            stdio: ["pipe", "pipe", "pipe"],
        });
        const pack = new PolicyPackProcess(project, child, undefined, opts.timeoutMs);
        try {
            const port = await pack.readPort();
            await pack.connect(port, opts.engineAddress);
            return pack;
        } catch (err) {
            await pack.close();
            throw err;
        }
    }

    /** Reads the first stdout line (the port), then keeps collecting output. */
    private readPort(): Promise<number> {
        const child = this.child;
        child.stderr!.setEncoding("utf8");
        let errBuf = "";
        child.stderr!.on("data", (chunk: string) => {
            this.stderrText += chunk;
            errBuf += chunk;
            const lines = errBuf.split("\n");
            errBuf = lines.pop() ?? "";
            for (const line of lines) if (line.trim()) this.output.push({ stream: "stderr", line });
        });
        child.stdout!.setEncoding("utf8");
        return new Promise<number>((resolve, reject) => {
            let portLine: string | undefined;
            let outBuf = "";
            const timer = setTimeout(() => {
                fail(
                    new PolicyPackError(
                        `policy pack "${this.dir}" failed to start: it did not print its port within ${this.timeoutMs / 1000}s${TIMEOUT_HINT}`,
                        this.stderrText,
                    ),
                );
            }, this.timeoutMs);
            const fail = (err: Error) => {
                clearTimeout(timer);
                reject(err);
            };
            child.once("error", (err) => fail(new PolicyPackError(`policy pack "${this.dir}" failed to start: ${err.message}`)));
            child.once("exit", (code, signal) => {
                if (portLine !== undefined) return;
                // Let stderr drain before reporting.
                setImmediate(() => {
                    const status = code !== null ? `exit status ${code}` : `killed by ${signal}`;
                    const moduleMissing = this.stderrText.includes("Cannot find module '@pulumi/pulumi/cmd/run-policy-pack'");
                    const why = moduleMissing
                        ? `it looks like the policy pack's dependencies are not installed; try running npm install or yarn install in "${this.dir}"`
                        : `could not read plugin [${this.dir}]: ${status}`;
                    fail(new PolicyPackError(`policy pack "${this.dir}" failed to start: ${why}`, this.stderrText));
                });
            });
            child.stdout!.on("data", (chunk: string) => {
                outBuf += chunk;
                if (portLine === undefined) {
                    const nl = outBuf.indexOf("\n");
                    if (nl < 0) return;
                    portLine = outBuf.slice(0, nl);
                    outBuf = outBuf.slice(nl + 1);
                    clearTimeout(timer);
                    try {
                        resolve(parsePort(portLine));
                    } catch (err) {
                        reject(
                            new PolicyPackError(
                                `policy pack "${this.dir}" failed to start: it wrote an invalid port to stdout: ${(err as Error).message}`,
                                this.stderrText,
                            ),
                        );
                    }
                }
                const lines = outBuf.split("\n");
                outBuf = lines.pop() ?? "";
                for (const line of lines) if (line.trim()) this.output.push({ stream: "stdout", line });
            });
        });
    }

    private async connect(port: number, engineAddress: string): Promise<void> {
        const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
            "grpc.max_receive_message_length": MAX_MESSAGE,
            "grpc.max_send_message_length": MAX_MESSAGE,
        });
        this.client = client;
        const deadline = Date.now() + this.timeoutMs;
        await new Promise<void>((resolve, reject) =>
            client.waitForReady(deadline, (err) =>
                err
                    ? reject(
                          new PolicyPackError(
                              `policy pack "${this.dir}" failed to start: it did not begin responding to RPC connections within ${this.timeoutMs / 1000}s${TIMEOUT_HINT}`,
                              this.stderrText,
                          ),
                      )
                    : resolve(),
            ),
        );
        const req = new analyzerPb.AnalyzerHandshakeRequest();
        req.setEngineAddress(engineAddress);
        req.setRootDirectory(path.resolve(this.dir));
        req.setProgramDirectory(path.resolve(this.dir));
        try {
            await this.call("handshake", req);
        } catch (err) {
            if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) {
                throw new PolicyPackError(`failed to handshake with "${this.dir}": ${(err as Error).message}`, this.stderrText);
            }
        }
    }

    /** A unary call with the per-call deadline; errors name the RPC. */
    private call<Res>(method: string, request: unknown): Promise<Res> {
        const client = this.client as unknown as Record<string, (...args: unknown[]) => unknown> | undefined;
        if (!client || this.closed) return Promise.reject(new PolicyPackError(`policy pack "${this.dir}" is not running`));
        return new Promise<Res>((resolve, reject) => {
            client[method].call(client, request, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err: grpc.ServiceError | null, res: Res) => {
                if (!err) return resolve(res);
                if (err.code === grpc.status.DEADLINE_EXCEEDED) {
                    reject(
                        Object.assign(
                            new PolicyPackError(
                                `policy pack "${this.dir}" timed out in ${method} after ${this.timeoutMs / 1000}s${TIMEOUT_HINT}`,
                                this.stderrText,
                            ),
                            { code: err.code },
                        ),
                    );
                } else if (err.code === grpc.status.UNAVAILABLE && this.exited) {
                    const status = this.exited.code !== null ? `exit status ${this.exited.code}` : `killed by ${this.exited.signal}`;
                    reject(
                        Object.assign(new PolicyPackError(`policy pack "${this.dir}" exited during ${method} (${status})`, this.stderrText), {
                            code: err.code,
                        }),
                    );
                } else {
                    reject(err);
                }
            });
        });
    }

    async configureStack(ctx: StackContext): Promise<void> {
        const req = new analyzerPb.AnalyzerStackConfigureRequest();
        req.setStack(ctx.stack);
        req.setProject(ctx.project);
        req.setOrganization(ctx.organization);
        req.setDryRun(ctx.dryRun);
        for (const [k, v] of Object.entries(ctx.config)) req.getConfigMap().set(k, v);
        req.setConfigSecretKeysList(ctx.configSecretKeys);
        for (const [k, v] of Object.entries(ctx.tags ?? {})) req.getTagsMap().set(k, v);
        try {
            await this.call("configureStack", req);
        } catch (err) {
            if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw err;
        }
    }

    async getAnalyzerInfo(): Promise<AnalyzerInfo> {
        const res = await this.call<analyzerPb.AnalyzerInfo>("getAnalyzerInfo", new Empty());
        const initialConfig: Record<string, PolicyConfig> = {};
        res.getInitialconfigMap().forEach((v: analyzerPb.PolicyConfig, k: string) => {
            const properties = structToObject(v.getProperties());
            initialConfig[k] = { enforcementLevel: level(v.getEnforcementlevel()), ...(properties && Object.keys(properties).length ? { properties } : {}) };
        });
        const policies = res.getPoliciesList().map((p): PolicyInfo => {
            const schema = p.getConfigschema();
            const types = ["unknown", "resource", "stack"] as const;
            return {
                name: p.getName(),
                displayName: p.getDisplayname(),
                description: p.getDescription(),
                message: p.getMessage(),
                enforcementLevel: level(p.getEnforcementlevel()),
                type: types[p.getPolicyType()] ?? "unknown",
                severity: SEVERITY_NAMES[p.getSeverity()] ?? "",
                remediationSteps: p.getRemediationSteps(),
                url: p.getUrl(),
                tags: p.getTagsList(),
                configSchema: schema
                    ? {
                          properties: structToObject(schema.getProperties()) as Record<string, Record<string, unknown>> | undefined,
                          required: schema.getRequiredList(),
                      }
                    : undefined,
            };
        });
        policies.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return {
            name: res.getName(),
            displayName: res.getDisplayname(),
            version: this.project.version ?? res.getVersion(),
            supportsConfig: res.getSupportsconfig(),
            policies,
            initialConfig,
            description: res.getDescription() || this.project.description || "",
        };
    }

    async getPluginInfo(): Promise<{ version: string }> {
        const res = await this.call<{ getVersion(): string }>("getPluginInfo", new Empty());
        return { version: res.getVersion() };
    }

    /** Sends the reconciled policy config; like the CLI, nothing is sent for an empty config. */
    async configure(config: Record<string, PolicyConfig>): Promise<void> {
        if (Object.keys(config).length === 0) return;
        const req = new analyzerPb.ConfigureAnalyzerRequest();
        const map = req.getPolicyconfigMap();
        for (const [k, v] of Object.entries(config)) map.set(k, toPolicyConfigMessage(v));
        await this.call("configure", req);
    }

    /** Analyze one resource (a prebuilt request may be shared between packs: see AnalyzerRequests). */
    async analyze(r: AnalyzerResource | AnalyzeRequestMessage): Promise<AnalyzeResult> {
        const req = r instanceof analyzerPb.AnalyzeRequest ? r : toAnalyzeRequest(r, true, this.providers);
        const res = await this.call<analyzerPb.AnalyzeResponse>("analyze", req);
        return { diagnostics: fromDiagnostics(res.getDiagnosticsList(), this.project.version), notApplicable: fromNotApplicable(res.getNotApplicableList()) };
    }

    async remediate(r: AnalyzerResource | AnalyzeRequestMessage): Promise<Remediation[]> {
        const req = r instanceof analyzerPb.AnalyzeRequest ? r : toAnalyzeRequest(r, false, this.providers);
        let res: analyzerPb.RemediateResponse;
        try {
            res = await this.call<analyzerPb.RemediateResponse>("remediate", req);
        } catch (err) {
            if ((err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) return [];
            throw err;
        }
        return res.getRemediationsList().map((m) => ({
            policyName: m.getPolicyname(),
            policyPackName: m.getPolicypackname(),
            policyPackVersion: this.project.version ?? m.getPolicypackversion(),
            description: m.getDescription(),
            properties: structToObject(m.getProperties()),
            diagnostic: m.getDiagnostic(),
        }));
    }

    async analyzeStack(resources: AnalyzerStackResource[] | AnalyzeStackRequestMessage): Promise<AnalyzeResult> {
        let req: analyzerPb.AnalyzeStackRequest;
        if (Array.isArray(resources)) {
            req = new analyzerPb.AnalyzeStackRequest();
            req.setResourcesList(resources.map((r) => toStackResource(r, this.providers)));
        } else {
            req = resources;
        }
        let res: analyzerPb.AnalyzeResponse;
        try {
            res = await this.call<analyzerPb.AnalyzeResponse>("analyzeStack", req);
        } catch (err) {
            if ((err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) return { diagnostics: [], notApplicable: [] };
            throw err;
        }
        return { diagnostics: fromDiagnostics(res.getDiagnosticsList(), this.project.version), notApplicable: fromNotApplicable(res.getNotApplicableList()) };
    }

    /** Closes the channel and stops the process (SIGTERM, then SIGKILL after `graceMs`). Idempotent. */
    async close(graceMs = 2000): Promise<void> {
        if (!this.closed) {
            this.closed = true;
            this.client?.close();
        }
        if (!this.exited) {
            this.child.kill("SIGTERM");
            const killer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
            await this.exitPromise;
            clearTimeout(killer);
        }
        this.child.stdout?.destroy();
        this.child.stderr?.destroy();
        this.child.stdin?.destroy();
    }

    /** Exit status when the process has ended. */
    get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
        return this.exited;
    }

    /** The last lines the pack wrote to stderr. */
    stderrTail(lines = 20): string {
        return tail(this.stderrText, lines);
    }
}
