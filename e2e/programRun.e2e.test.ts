/**
 * The programs run as the Pulumi CLI runs them (engine/programRun.ts: the SDK's cmd/run in its own
 * process, ts-node compiling with the project's tsconfig, the recording engine answering over gRPC)
 * register exactly what the in-process test harness registers - so every unit test's assertion holds for
 * what `pulumi preview` would register:
 * - the platform's dev stack and the example team's dev stack (its StackReference answered with the
 *   platform's outputs);
 * - a team project made as docs/team-guide.md says (its Pulumi.yaml and tsconfig.json blocks, the
 *   library installed from the tarball `npm run build:lib` packs, the example's program and stack file);
 * - invalid config fails through cmd/run's error log with the ConfigError's message alone.
 * A cold TypeScript compile of the platform takes tens of seconds: that is why this is not in npm test.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeFailure, EXIT } from "../engine/plan";
import { setStackReferenceOutputs } from "../engine/mockState";
import type { RecordedResource } from "../engine/recorder";
import { recordStack, type StackRecording } from "../engine/stack";
import { ROOT, runProject, runStack, type StackRun, stackReferenceOutputs } from "../test/harness";

const EXAMPLE = path.join(ROOT, "examples", "team-fraud");

/** Everything the engine receives about a resource, but the mocked outputs. */
function registration(r: RecordedResource): unknown {
    return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        custom: r.custom,
        parent: r.parent,
        provider: r.provider,
        providers: r.providers,
        inputs: r.inputs,
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
        options: r.options,
    };
}

/**
 * The same registrations, by URN. Not in the same order: over gRPC the SDK's concurrent registrations
 * reach the engine interleaved differently than through in-process calls (the engine orders nothing by
 * arrival; dependencies are explicit).
 */
function expectSameRegistrations(cli: StackRecording, harness: StackRun): void {
    const byUrn = (rs: readonly RecordedResource[]) => [...rs].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    expect(cli.resources.length).toBeGreaterThan(1);
    expect(byUrn(cli.resources).map((r) => r.urn)).toEqual(byUrn(harness.resources).map((r) => r.urn));
    expect(byUrn(cli.resources).map(registration)).toEqual(byUrn(harness.resources).map(registration));
    expect(cli.outputs).toEqual(harness.recording.outputs);
    // The same warnings (the CLI-style run also has the URN of the resource a warning is about).
    const warnings = (logs: StackRecording["logs"]) => logs.map((l) => `${l.severity}: ${l.message}`).sort();
    expect(warnings(cli.logs)).toEqual(warnings(harness.recording.logs));
}

let platform: StackRun;
let platformCli: StackRecording;
const scratch: string[] = [];

beforeAll(async () => {
    platform = await runStack("dev");
    platformCli = await recordStack({ root: ROOT, stack: "dev", runner: "cli" });
});

afterAll(() => {
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

describe("run as the Pulumi CLI runs them, the programs register what the harness registers", () => {
    it("the platform's dev stack (stacks/index.ts, compiled with tsconfig.json)", () => {
        expect(platformCli.info.program.entryPoint).toBe("index.ts");
        expectSameRegistrations(platformCli, platform);
        console.log(
            `platform dev: ${platformCli.resources.length} resources; start-up ${platformCli.times?.startup.toFixed(1)} s, registrations ${platformCli.times?.program.toFixed(1)} s`,
        );
    });

    it("the example team's dev stack", async () => {
        const refs = { "acme/mlops/dev": stackReferenceOutputs(platform) };
        const harness = await runProject(EXAMPLE, "dev", { stackReferences: refs });
        setStackReferenceOutputs(refs);
        try {
            const cli = await recordStack({ root: EXAMPLE, stack: "dev", runner: "cli" });
            expectSameRegistrations(cli, harness);
        } finally {
            setStackReferenceOutputs({});
        }
    });

    it("a team project as the team guide makes it, with the packed library", async () => {
        execFileSync(process.execPath, ["--import", "tsx", "scripts/build-lib.ts"], { cwd: ROOT, stdio: "inherit" });
        const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "dist", "lib", "package.json"), "utf8"));
        const tarball = path.join(ROOT, "dist", `${manifest.name}-${manifest.version}.tgz`);
        const project = fs.mkdtempSync(path.join(os.tmpdir(), "team-project-"));
        scratch.push(project);
        // The guide's files: Pulumi.yaml and tsconfig.json as its code blocks give them.
        const guide = fs.readFileSync(path.join(ROOT, "docs", "team-guide.md"), "utf8");
        const pulumiYaml = /```yaml\n(# Pulumi\.yaml\n[\s\S]*?)```/.exec(guide)?.[1];
        const tsconfig = /The project's other files:[\s\S]*?```json\n([\s\S]*?)```/.exec(guide)?.[1];
        expect(pulumiYaml).toBeDefined();
        expect(tsconfig).toBeDefined();
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), pulumiYaml!);
        fs.writeFileSync(path.join(project, "tsconfig.json"), tsconfig!);
        // The example's program and stack file, as a team would have them.
        for (const f of ["index.ts", "Pulumi.dev.yaml", "model-server", "schemas"])
            fs.cpSync(path.join(EXAMPLE, f), path.join(project, f), { recursive: true });
        // npm install <tarball> + peers + typescript and @types/node: the package unpacked, the rest linked
        // from this repository's node_modules (the versions the guide's install line names).
        const modules = path.join(project, "node_modules");
        fs.mkdirSync(modules, { recursive: true });
        execFileSync("tar", ["xzf", tarball, "-C", modules]);
        fs.renameSync(path.join(modules, "package"), path.join(modules, manifest.name));
        const deps = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), "typescript", "@types/node"];
        for (const dep of deps) {
            fs.mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true }); // the scope folder (@pulumi, @grpc, ...)
            fs.symlinkSync(path.join(ROOT, "node_modules", dep), path.join(modules, dep));
        }
        fs.writeFileSync(
            path.join(project, "package.json"),
            JSON.stringify(
                {
                    name: "team-fraud",
                    private: true,
                    dependencies: { [manifest.name]: manifest.version, ...manifest.peerDependencies },
                    devDependencies: { typescript: "5.9.3", "@types/node": "20.19.25" },
                },
                null,
                2,
            ),
        );

        const refs = { "acme/mlops/dev": stackReferenceOutputs(platform) };
        const harness = await runProject(EXAMPLE, "dev", { stackReferences: refs });
        setStackReferenceOutputs(refs);
        try {
            const cli = await recordStack({ root: project, stack: "dev", runner: "cli" });
            expect(cli.info.program).toEqual({ directory: project, entryPoint: "index.ts" });
            expectSameRegistrations(cli, harness);
        } finally {
            setStackReferenceOutputs({});
        }
    });

    it("invalid config: cmd/run's error log gives the ConfigError's message alone", async () => {
        const err = await recordStack({ root: ROOT, stack: "dev", runner: "cli", configOverrides: { "mlops:environment": "qa" } }).catch((e: unknown) => e);
        const { exitCode, message } = describeFailure(err, ROOT);
        expect(exitCode).toBe(EXIT.PROGRAM_ERROR);
        expect(message).toBe('Invalid configuration for stack "dev" (1 problem):\n  - mlops:environment: got "qa"; expected one of dev, test, prod.');
    });
});
