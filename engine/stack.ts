/**
 * Records a stack of a Pulumi project: reads Pulumi.yaml and Pulumi.<stack>.yaml as the CLI does, then
 * runs the project's entry point on the recording engine under the real project and stack names.
 */
import * as path from "path";
import { type ProjectInfo, readProject, readStackConfig, type StackConfig } from "./project";
import type { MockContext } from "./mockState";
import { record, type Recording, type RegisterHook } from "./recorder";
import { type ProgramRunTimes, recordCliRun } from "./programRun";

/** Loads the entry module fresh and returns its exports (the stack outputs). */
export type ModuleLoader = (entry: string) => unknown;

/** Default loader: CommonJS require, with the project's own modules evicted from the cache first. */
export function requireFresh(root: string): ModuleLoader {
    return (entry: string) => {
        const nodeModules = `${path.sep}node_modules${path.sep}`;
        for (const key of Object.keys(require.cache)) {
            if (key.startsWith(root) && !key.includes(nodeModules)) delete require.cache[key];
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the program entry afresh, synchronously, by its path
        return require(entry);
    };
}

/** Account and region for mocked ARNs, from the stack's config (`aws:region`, or any `*:aws` object). */
export function mockContextFrom(config: Record<string, string>): MockContext | undefined {
    let region = config["aws:region"];
    let accountId: string | undefined;
    for (const [key, value] of Object.entries(config)) {
        if (!key.endsWith(":aws") || !value.startsWith("{")) continue;
        try {
            const obj = JSON.parse(value);
            region ??= obj.region;
            accountId ??= obj.accountId;
        } catch {
            /* not JSON: ignore */
        }
    }
    return region ? { region, accountId: accountId ?? "123456789012" } : undefined;
}

export interface StackRecording extends Recording {
    project: string;
    stackConfig: StackConfig;
    info: ProjectInfo;
    /** CLI-style runs: the program process's start-up (compile included) and run, seconds. */
    times?: ProgramRunTimes;
}

/**
 * How the program runs: `cli` - in its own process through the SDK's `cmd/run`, as `pulumi preview`
 * runs it (engine/programRun.ts); `in-process` - imported into this process on the SDK's mock runtime
 * (the unit tests' harness: no start-up per run).
 */
export type ProgramRunner = "cli" | "in-process";

export interface RecordStackOptions {
    /** Directory with Pulumi.yaml. */
    root: string;
    stack: string;
    /** How to load the entry module; default {@link requireFresh}. */
    load?: ModuleLoader;
    /** Extra or replacement config values (`ns:key` -> string), e.g. to try a broken config. */
    configOverrides?: Record<string, string | undefined>;
    preview?: boolean;
    /** Runs on every registration before the mocks answer (policy analysis); see RegisterHook. */
    onRegister?: RegisterHook;
    /** Default `in-process`; `load` applies to in-process runs only. */
    runner?: ProgramRunner;
    organization?: string;
    /** CLI-style runs: the program's output as it arrives. */
    onOutput?: (text: string) => void;
}

/** The project and the stack's config as the program will see it (overrides applied). */
export function resolveStack(
    root: string,
    stack: string,
    configOverrides?: Record<string, string | undefined>,
): { info: ProjectInfo; stackConfig: StackConfig } {
    const info = readProject(root);
    const stackConfig = readStackConfig(info, stack);
    const config = { ...stackConfig.config };
    for (const [k, v] of Object.entries(configOverrides ?? {})) {
        if (v === undefined) delete config[k];
        else config[k] = v;
    }
    return { info, stackConfig: { ...stackConfig, config } };
}

export async function recordStack(opts: RecordStackOptions): Promise<StackRecording> {
    const { info, stackConfig } = resolveStack(opts.root, opts.stack, opts.configOverrides);
    const config = stackConfig.config;
    if (opts.runner === "cli") {
        const recording = await recordCliRun({
            info,
            project: info.name,
            stack: opts.stack,
            config,
            secretKeys: stackConfig.secretKeys,
            preview: opts.preview,
            organization: opts.organization,
            mockContext: mockContextFrom(config),
            onRegister: opts.onRegister,
            onOutput: opts.onOutput,
        });
        return { ...recording, stackConfig, info };
    }
    const load = opts.load ?? requireFresh(opts.root);
    // cmd/run changes to the program directory (`--pwd`) before it loads the program: paths a program
    // makes relative to process.cwd() (a Docker build context) are relative to it under the CLI.
    const cwd = process.cwd();
    process.chdir(info.program.directory);
    const recording = await record({
        project: info.name,
        stack: opts.stack,
        config,
        secretKeys: stackConfig.secretKeys,
        program: () => load(info.entry),
        preview: opts.preview,
        organization: opts.organization,
        mockContext: mockContextFrom(config),
        onRegister: opts.onRegister,
    }).finally(() => process.chdir(cwd));
    return { ...recording, stackConfig, info };
}
