/**
 * Runs a project's program the way `pulumi preview` runs it: a separate Node.js process started through
 * the SDK's own entry (`@pulumi/pulumi/cmd/run`) with the arguments, environment and working directory
 * `pulumi-language-nodejs` gives it, talking gRPC to a resource monitor and an engine - here the
 * recording engine's (engine/recorder.ts), served on 127.0.0.1 by this process. docs/plan.md
 * ("Execution model") describes it.
 *
 * What this reproduces of the language host (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs,
 * `Run`/`execRuntime`/`constructArguments`/`constructConfig`):
 * - `node [nodeargs] <require.resolve("@pulumi/pulumi/cmd/run") from the program directory>
 *   --monitor <addr> --engine <addr> --sync <dir> --organization <org> --project <name>
 *   --root-directory <dir of Pulumi.yaml> --stack <stack> --pwd <program directory> [--dry-run]
 *   --parallel <n> <entry point>`;
 * - the environment of the caller plus `PULUMI_CONFIG` (keys as `<namespace>:config:<name>`),
 *   `PULUMI_CONFIG_SECRET_KEYS`, `PULUMI_NODEJS_TYPESCRIPT=true` (unless `typescript: false`) and
 *   `PULUMI_NODEJS_TSCONFIG_PATH` when Pulumi.yaml sets `runtime.options.tsconfig`;
 * - the working directory: the program directory (the language host is started there).
 * cmd/run then does the rest as under the CLI: chdir to `--pwd`, the tsconfig lookup (`tsconfig.json`
 * there, or `PULUMI_NODEJS_TSCONFIG_PATH`), ts-node registration with those compiler options, the
 * entry point (`.` resolved through the nearest package.json's `exports`/`main`), the stack resource.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import { createRequire } from "module";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import * as resourceRpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourcePb from "@pulumi/pulumi/proto/resource_pb";
import { cmdRunProgram, cmdRunTsconfig, type ProjectInfo } from "./project";
import { ENGINE_FEATURES, ProgramError, type Recording, RecordingMonitor, type RunOptions } from "./recorder";
import { setMockContext } from "./mockState";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
    setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean, organization: string): void;
};

/** The process the language host starts for a program. */
export interface ProgramCommand {
    /** The node binary. */
    command: string;
    args: string[];
    /** Variables added to the caller's environment. */
    env: Record<string, string>;
    cwd: string;
}

export interface ProgramCommandOptions {
    stack: string;
    organization: string;
    /** `ns:key` -> string, as the program receives it. */
    config: Record<string, string>;
    secretKeys: string[];
    dryRun: boolean;
    monitorAddress: string;
    engineAddress: string;
    /** Directory of the synchronous-invoke pipes (`--sync`). */
    syncDirectory: string;
    /** `--parallel`: the SDK only tells 1 (serial) from any other value. */
    parallel: number;
}

/** `PULUMI_CONFIG` as the language host writes it: every `ns:key` as `ns:config:key` (constructConfig). */
export function languageHostConfig(config: Record<string, string>): string {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        const i = key.indexOf(":");
        out[i < 0 ? key : `${key.slice(0, i)}:config:${key.slice(i + 1)}`] = value;
    }
    return JSON.stringify(out);
}

/** Splits `nodeargs` as the language host does (shell-like words, quotes respected). */
export function splitNodeArgs(text: string): string[] {
    const words: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
    for (const m of text.matchAll(re)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3]));
    return words;
}

/**
 * The command `pulumi-language-nodejs` runs for this project and stack: resolves the SDK's `cmd/run`
 * from the program directory as the language host does (an SDK not installed there fails here, as it
 * fails `pulumi preview`).
 */
export function programCommand(info: ProjectInfo, o: ProgramCommandOptions): ProgramCommand {
    const { directory, entryPoint } = info.program;
    let runPath: string;
    try {
        runPath = createRequire(path.join(directory, "noop.js")).resolve("@pulumi/pulumi/cmd/run");
    } catch {
        throw new ProgramError(`It looks like the Pulumi SDK has not been installed: @pulumi/pulumi/cmd/run cannot be resolved from ${directory}`, undefined);
    }
    const opts = info.runtimeOptions;
    const env: Record<string, string> = {
        PULUMI_CONFIG: languageHostConfig(o.config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(o.secretKeys),
    };
    if (opts.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    if (typeof opts.tsconfig === "string" && opts.tsconfig !== "") env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfig;
    const args = typeof opts.nodeargs === "string" ? splitNodeArgs(opts.nodeargs) : [];
    args.push(runPath);
    const flag = (k: string, v: string) => {
        if (v !== "") args.push(`--${k}`, v);
    };
    flag("monitor", o.monitorAddress);
    flag("engine", o.engineAddress);
    flag("sync", o.syncDirectory);
    flag("organization", o.organization);
    flag("project", info.name);
    flag("root-directory", info.root);
    flag("stack", o.stack);
    flag("pwd", directory);
    if (o.dryRun) args.push("--dry-run");
    flag("parallel", String(o.parallel));
    args.push(entryPoint);
    return { command: process.execPath, args, env, cwd: directory };
}

/** A log line the program sent through `Engine.Log`. */
export interface ProgramLog {
    severity: "debug" | "info" | "warning" | "error";
    message: string;
    urn: string;
}

const SEVERITIES: ProgramLog["severity"][] = ["debug", "info", "warning", "error"];

type Callback = (err: unknown, resp?: unknown) => void;
type Handler = (call: { request: unknown }, cb: Callback) => void;

/**
 * The ResourceMonitor and Engine services on 127.0.0.1, answered by a RecordingMonitor: every call the
 * SDK makes (SupportsFeature, RegisterResource, RegisterResourceOutputs, ReadResource, Invoke,
 * RegisterPackage, SignalAndWaitForShutdown; Log, GetRootResource, SetRootResource). Calls the
 * recording engine does not support (Call, transforms, hooks) are UNIMPLEMENTED, as the features that
 * lead to them are not announced.
 */
export class MonitorServer {
    readonly logs: ProgramLog[] = [];
    /** The first error a call failed with (the cause, when the program then fails). */
    firstError: unknown;
    /** When the program's first resource (after the stack's) arrived: its start-up ends there. */
    firstRegistrationAt: number | undefined;
    private rootResource = "";

    private constructor(
        private readonly server: grpc.Server,
        readonly address: string,
    ) {}

    static async start(monitor: RecordingMonitor): Promise<MonitorServer> {
        const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024, "grpc.max_send_message_length": 400 * 1024 * 1024 });
        let self!: MonitorServer;
        const m = monitor as unknown as Record<string, (req: unknown, cb: Callback) => unknown>;
        /** Calls the monitor's method; `wire` turns its answer into the message gRPC serialises. */
        const forward =
            (method: string, wire: (resp: any) => unknown = (r) => r): Handler =>
            (call, cb) => {
                try {
                    void m[method].call(monitor, call.request, (err: unknown, resp?: unknown) => {
                        if (err) {
                            self.firstError ??= err;
                            cb({ code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) });
                            return;
                        }
                        try {
                            cb(null, wire(resp));
                        } catch (e) {
                            cb({ code: grpc.status.INTERNAL, details: String(e) });
                        }
                    });
                } catch (err) {
                    self.firstError ??= err;
                    cb({ code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) });
                }
            };
        // The recorder answers with a Struct that stands for its already-decoded value (no protobuf
        // round trip in process); on the wire it must be a real Struct.
        const realStruct = (s: { toJavaScript(): Record<string, unknown> } | undefined) => (s ? Struct.fromJavaScript(s.toJavaScript() as never) : undefined);
        const unimplemented: Handler = (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: "not supported by the offline plan's engine" });
        const register = forward("registerResource", (r: resourcePb.RegisterResourceResponse) => {
            const object = realStruct(r.getObject() as never);
            if (object) r.setObject(object);
            return r;
        });
        server.addService(resourceRpc.ResourceMonitorService, {
            supportsFeature: (call: { request: resourcePb.SupportsFeatureRequest }, cb: Callback) =>
                cb(null, new resourcePb.SupportsFeatureResponse().setHassupport(ENGINE_FEATURES.has(call.request.getId()))),
            registerResource: (call: { request: resourcePb.RegisterResourceRequest }, cb: Callback) => {
                // cmd/run registers the stack before it loads the program: the program's own first resource ends the start-up.
                if (call.request.getType() !== "pulumi:pulumi:Stack") self.firstRegistrationAt ??= Date.now();
                register(call, cb);
            },
            registerResourceOutputs: forward("registerResourceOutputs", () => new Empty()),
            readResource: forward("readResource"),
            invoke: forward("invoke"),
            registerPackage: forward("registerPackage"),
            signalAndWaitForShutdown: (_call: unknown, cb: Callback) => cb(null, new Empty()),
            getDeploymentInfo: unimplemented,
            call: unimplemented,
            registerStackTransform: unimplemented,
            registerStackInvokeTransform: unimplemented,
            registerResourceHook: unimplemented,
            registerErrorHook: unimplemented,
        } as unknown as grpc.UntypedServiceImplementation);
        server.addService(engineRpc.EngineService, {
            log: (call: { request: enginePb.LogRequest }, cb: Callback) => {
                const r = call.request;
                self.logs.push({ severity: SEVERITIES[r.getSeverity()] ?? "info", message: r.getMessage(), urn: r.getUrn() });
                cb(null, new Empty());
            },
            getRootResource: (_call: unknown, cb: Callback) => cb(null, new enginePb.GetRootResourceResponse().setUrn(self.rootResource)),
            setRootResource: (call: { request: enginePb.SetRootResourceRequest }, cb: Callback) => {
                self.rootResource = call.request.getUrn();
                cb(null, new enginePb.SetRootResourceResponse());
            },
            startDebugging: unimplemented,
            requirePulumiVersion: (_call: unknown, cb: Callback) => cb(null, new Empty()),
        } as unknown as grpc.UntypedServiceImplementation);
        const port = await new Promise<number>((resolve, reject) =>
            server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
        );
        self = new MonitorServer(server, `127.0.0.1:${port}`);
        return self;
    }

    close(): Promise<void> {
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                this.server.forceShutdown();
                resolve();
            }, 2000);
            this.server.tryShutdown(() => {
                clearTimeout(timer);
                resolve();
            });
        });
    }
}

/**
 * The directory of the synchronous-invoke pipes the language host passes as `--sync`: `invoke_req`
 * and `invoke_res`, named pipes. The SDK 3.248 opens them only for a synchronous invoke, which no
 * program here makes; nothing reads them.
 */
function syncDirectory(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-node-pipes"));
    try {
        execFileSync("mkfifo", [path.join(dir, "invoke_req"), path.join(dir, "invoke_res")], { stdio: "ignore" });
    } catch {
        /* no mkfifo: the directory alone (never opened by the SDK's programs here) */
    }
    return dir;
}

/** Timings of a CLI-style run, seconds. */
export interface ProgramRunTimes {
    /** Process start to the first registration: node, ts-node and compiling/type-checking the program, the modules it loads. */
    startup: number;
    /** First registration to the process's exit. */
    program: number;
}

export interface CliRunOptions extends Omit<RunOptions, "program"> {
    info: ProjectInfo;
    /** Called with the program's stdout/stderr as it arrives (default: kept, shown when it fails). */
    onOutput?: (text: string) => void;
}

/** Which compiler options ts-node used, for a compile error: the tsconfig.json cmd/run found, or none. */
export function compiledWith(info: ProjectInfo): string {
    const { directory, entryPoint } = info.program;
    const program = path.relative(info.root, cmdRunProgram(directory, entryPoint)) || ".";
    const tsconfig = cmdRunTsconfig(info);
    return tsconfig
        ? `(cmd/run compiled ${program} with the compiler options of ${path.relative(info.root, tsconfig)})`
        : `(cmd/run compiled ${program} with its default compiler options: there is no tsconfig.json in ${path.relative(info.root, directory) || "."}/, the program directory, ` +
              `and Pulumi.yaml sets no runtime.options.tsconfig - add one of them; docs/plan.md, "Execution model")`;
}

/** The error text of cmd/run's log (ANSI colours stripped). */
function plain(text: string): string {
    // eslint-disable-next-line no-control-regex
    return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * What the program threw, rebuilt from cmd/run's error log (`Running program '<path>' failed with an
 * unhandled exception:` and the error as `util.inspect` prints it): its name, message and stack, so the
 * plan reports it as it reports an in-process failure (a ConfigError's message alone).
 */
export function errorFromLog(message: string): Error {
    const text = plain(message);
    const body = text.replace(/^Running program '[^']*' failed with an unhandled exception:\n/, "");
    const err = new Error(body);
    const m = /^([A-Za-z_$][\w$]*): ([\s\S]*?)(?=\n\s+at |\n\s*\{|$)/.exec(body);
    if (m && body !== text) {
        err.name = m[1];
        err.message = m[2];
    } else {
        err.message = body;
    }
    err.stack = body;
    return err;
}

/**
 * Runs the project's program as the CLI does and records it on the recording engine. The run is
 * serialised with in-process runs (one program per process at a time: the mock state is global).
 */
export async function recordCliRun(opts: CliRunOptions): Promise<Recording & { times: ProgramRunTimes; output: string }> {
    const monitor = new RecordingMonitor(opts.onRegister);
    if (opts.mockContext) setMockContext(opts.mockContext);
    // URNs are made in this process (urnOf reads the project and stack from the SDK's settings).
    settings.setMockOptions(monitor, opts.project, opts.stack, opts.preview ?? false, opts.organization ?? "organization");
    const server = await MonitorServer.start(monitor);
    const sync = syncDirectory();
    let output = "";
    const started = Date.now();
    try {
        const cmd = programCommand(opts.info, {
            stack: opts.stack,
            organization: opts.organization ?? "organization",
            config: opts.config,
            secretKeys: opts.secretKeys ?? [],
            dryRun: opts.preview ?? false,
            monitorAddress: server.address,
            engineAddress: server.address,
            syncDirectory: sync,
            parallel: Math.max(2, os.availableParallelism() * 4),
        });
        const code = await new Promise<number | null>((resolve, reject) => {
            const child = spawn(cmd.command, cmd.args, { cwd: cmd.cwd, env: { ...process.env, ...cmd.env }, stdio: ["ignore", "pipe", "pipe"] });
            const take = (d: Buffer) => {
                const s = d.toString();
                output += s;
                opts.onOutput?.(s);
            };
            child.stdout.on("data", take);
            child.stderr.on("data", take);
            child.on("error", reject);
            child.on("close", (c, signal) => resolve(signal ? 128 + (os.constants.signals[signal] ?? 0) : c));
        });
        const ended = Date.now();
        const times = { startup: ((server.firstRegistrationAt ?? ended) - started) / 1000, program: (ended - (server.firstRegistrationAt ?? ended)) / 1000 };
        const errors = server.logs.filter((l) => l.severity === "error");
        // A registration the engine refused is the cause when the program then failed (not when it handled the error).
        if (code !== 0 || errors.length > 0) {
            const cause =
                server.firstError ??
                (errors.length > 0
                    ? errorFromLog(errors[0].message)
                    : new Error(
                          `Program exited with non-zero exit code: ${code}${output.trim() ? `\n${plain(output).trimEnd().split("\n").slice(-20).join("\n")}` : ""}`,
                      ));
            let message = cause instanceof Error ? cause.message : String(cause);
            if (/Unable to compile TypeScript/.test(message)) message += `\n${compiledWith(opts.info)}`;
            throw new ProgramError(`the program failed: ${message}`, cause, monitor.records);
        }
        const logs = server.logs
            .filter((l) => l.severity === "warning")
            .map((l) => ({ severity: l.severity, message: l.message, ...(l.urn ? { urn: l.urn } : {}) }));
        const root = monitor.records.find((r) => r.type === "pulumi:pulumi:Stack" && !r.parent);
        return { project: opts.project, stack: opts.stack, resources: monitor.records, outputs: root?.outputs ?? {}, logs, times, output };
    } finally {
        await server.close();
        fs.rmSync(sync, { recursive: true, force: true });
    }
}
