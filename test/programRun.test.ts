/**
 * The offline plan runs a program as the Pulumi CLI does (engine/programRun.ts): the SDK's cmd/run in its
 * own process, with the language host's arguments, environment and working directory, the recording
 * engine answering over gRPC. Here: where and how the platform and the example team project are run
 * (their layout, guarded), and a small fixture with the platform's layout in small
 * (test/fixtures/layout: a package.json that points at a library needing lib ES2021, a program in
 * prog/) run for real - it registers what the in-process harness registers, and each way to break the
 * layout fails with a message that says what to fix. The platform's own stacks run this way in
 * `npm run plan:all` and e2e/programRun.e2e.test.ts (a cold compile of the platform takes tens of seconds).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { describeFailure, EXIT } from "../engine/plan";
import { cmdRunProgram, cmdRunTsconfig, ProjectError, readProject } from "../engine/project";
import { errorFromLog, languageHostConfig, programCommand, splitNodeArgs } from "../engine/programRun";
import { ProgramError } from "../engine/recorder";
import { recordStack, type StackRecording } from "../engine/stack";
import { ROOT, vitestLoader } from "./harness";

const FIXTURE = path.join(ROOT, "test", "fixtures", "layout");
const EXAMPLE = path.join(ROOT, "examples", "team-fraud");

describe("where the Pulumi CLI runs this repository's programs", () => {
    it("the platform: stacks/index.ts, in stacks/, compiled with the repository's tsconfig.json", () => {
        const info = readProject(ROOT);
        expect(info.program).toEqual({ directory: path.join(ROOT, "stacks"), entryPoint: "index.ts" });
        expect(cmdRunProgram(info.program.directory, info.program.entryPoint)).toBe(path.join(ROOT, "stacks", "index.ts"));
        expect(info.entry).toBe(path.join(ROOT, "stacks", "index.ts"));
        expect(cmdRunTsconfig(info)).toBe(path.join(ROOT, "tsconfig.json"));
        expect(info.runtimeOptions).toMatchObject({ typescript: true, tsconfig: "../tsconfig.json" });
        // What `main: stacks/` would run instead: the library the package.json exports.
        expect(cmdRunProgram(path.join(ROOT, "stacks"), ".")).toBe(path.join(ROOT, "components", "team", "index.ts"));
    });

    it("the example team project: index.ts in its directory, compiled with the repository's tsconfig.json", () => {
        const info = readProject(EXAMPLE);
        expect(info.program).toEqual({ directory: EXAMPLE, entryPoint: "index.ts" });
        expect(info.entry).toBe(path.join(EXAMPLE, "index.ts"));
        expect(cmdRunTsconfig(info)).toBe(path.join(ROOT, "tsconfig.json"));
    });

    it("the repository's tsconfig.json gives what components/ need (lib ES2021 or later: String.prototype.replaceAll)", () => {
        const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"));
        expect(tsconfig.compilerOptions.lib.map((l: string) => l.toLowerCase())).toContain("es2022");
        expect(tsconfig.extends).toBeUndefined(); // cmd/run reads compilerOptions from the file itself, not from what it extends
    });

    it("the command the language host runs for the dev stack: arguments, environment, working directory", () => {
        const info = readProject(ROOT);
        const cmd = programCommand(info, {
            stack: "dev",
            organization: "acme",
            config: { "mlops:environment": "dev", "aws:region": "eu-west-1" },
            secretKeys: ["mlops:dbPassword"],
            dryRun: true,
            monitorAddress: "127.0.0.1:1",
            engineAddress: "127.0.0.1:2",
            syncDirectory: "/tmp/pipes",
            parallel: 16,
        });
        expect(cmd.command).toBe(process.execPath);
        expect(cmd.cwd).toBe(path.join(ROOT, "stacks"));
        expect(cmd.args).toEqual([
            path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "run", "index.js"),
            "--monitor",
            "127.0.0.1:1",
            "--engine",
            "127.0.0.1:2",
            "--sync",
            "/tmp/pipes",
            "--organization",
            "acme",
            "--project",
            "mlops",
            "--root-directory",
            ROOT,
            "--stack",
            "dev",
            "--pwd",
            path.join(ROOT, "stacks"),
            "--dry-run",
            "--parallel",
            "16",
            "index.ts",
        ]);
        expect(cmd.env).toEqual({
            PULUMI_CONFIG: JSON.stringify({ "mlops:config:environment": "dev", "aws:config:region": "eu-west-1" }),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(["mlops:dbPassword"]),
            PULUMI_NODEJS_TYPESCRIPT: "true",
            PULUMI_NODEJS_TSCONFIG_PATH: "../tsconfig.json",
        });
    });

    it("language host details: config keys, nodeargs, typescript: false", () => {
        expect(JSON.parse(languageHostConfig({ "a:b": "1", "ns:key:with:colons": "x" }))).toEqual({ "a:config:b": "1", "ns:config:key:with:colons": "x" });
        expect(splitNodeArgs(`--max-old-space-size=4096 --title "a b" 'c d'`)).toEqual(["--max-old-space-size=4096", "--title", "a b", "c d"]);
        const info = { ...readProject(ROOT), runtimeOptions: { typescript: false, nodeargs: "--no-warnings" } };
        const cmd = programCommand(info, {
            stack: "s",
            organization: "o",
            config: {},
            secretKeys: [],
            dryRun: false,
            monitorAddress: "m",
            engineAddress: "e",
            syncDirectory: "d",
            parallel: 1,
        });
        expect(cmd.env).toEqual({ PULUMI_CONFIG: "{}", PULUMI_CONFIG_SECRET_KEYS: "[]" });
        expect(cmd.args[0]).toBe("--no-warnings");
        expect(cmd.args).not.toContain("--dry-run");
    });

    it("an error cmd/run logged is rebuilt with its name and message (a ConfigError is shown alone)", () => {
        const e = errorFromLog(
            "Running program '/x/stacks/index.ts' failed with an unhandled exception:\n\x1b[31mConfigError: Invalid configuration (1 problem):\n  - a: b\x1b[39m\n    at f (/x/stacks/config.ts:1:1)\n    at g {\n  problems: []\n}",
        );
        expect([e.name, e.message]).toEqual(["ConfigError", "Invalid configuration (1 problem):\n  - a: b"]);
    });
});

// ------------------------------------------------------------------------------------------------
// The layout fixture, run for real.
// ------------------------------------------------------------------------------------------------

const scratch: string[] = [];
afterAll(() => {
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of the fixture with this Pulumi.yaml `main` and `runtime.options.tsconfig` (node_modules linked from the repository). */
function fixtureProject(main: string, tsconfig?: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-layout-"));
    scratch.push(dir);
    fs.cpSync(FIXTURE, dir, { recursive: true });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const options = tsconfig ? `\n    tsconfig: ${tsconfig}` : "";
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: layout\nruntime:\n  name: nodejs\n  options:\n    typescript: true${options}\nmain: ${main}\n`);
    return dir;
}

const shape = (r: StackRecording) => r.resources.map((x) => ({ urn: x.urn, type: x.type, parent: x.parent, inputs: x.inputs }));

describe("a project with the platform's layout, run as the CLI runs it", () => {
    it("main names the program file, tsconfig points at the repository's: it runs, and registers what the in-process harness registers", async () => {
        const root = fixtureProject("prog/index.ts", "../tsconfig.json");
        const cli = await recordStack({ root, stack: "dev", runner: "cli" });
        const inProcess = await recordStack({ root, stack: "dev", load: vitestLoader });
        expect(shape(cli)).toEqual([
            { urn: "urn:pulumi:dev::layout::pulumi:pulumi:Stack::layout-dev", type: "pulumi:pulumi:Stack", parent: "", inputs: {} },
            {
                urn: "urn:pulumi:dev::layout::fixture:index:Thing::bAnAnA",
                type: "fixture:index:Thing",
                parent: "urn:pulumi:dev::layout::pulumi:pulumi:Stack::layout-dev",
                inputs: {},
            },
        ]);
        expect(shape(cli)).toEqual(shape(inProcess));
        expect(cli.outputs).toEqual({ name: "urn:pulumi:dev::layout::fixture:index:Thing::bAnAnA" });
        expect(cli.outputs).toEqual(inProcess.outputs);
        expect(cli.times?.startup).toBeGreaterThan(0);
    }, 90_000);

    it("no tsconfig where cmd/run looks (the program directory): the program fails to compile, and the plan says why", async () => {
        const root = fixtureProject("prog/index.ts");
        const err = await recordStack({ root, stack: "dev", runner: "cli" }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ProgramError);
        const { exitCode, message } = describeFailure(err, root);
        expect(exitCode).toBe(EXIT.PROGRAM_ERROR);
        expect(message).toContain("error TS2550: Property 'replaceAll' does not exist on type 'string'");
        expect(message).toContain(
            "(cmd/run compiled prog/index.ts with its default compiler options: there is no tsconfig.json in prog/, the program directory, and Pulumi.yaml sets no runtime.options.tsconfig",
        );
    }, 90_000);

    it("main names the directory: the CLI would run the library package.json exports - the plan refuses, naming the fix", () => {
        const root = fixtureProject("prog/", "../tsconfig.json");
        expect(() => readProject(root)).toThrow(ProjectError);
        expect(() => readProject(root)).toThrow(
            `main "prog/" is a directory, so the Pulumi CLI runs the module the nearest package.json names for it: lib/index.ts, outside the program directory prog/. Name the program's file in main (e.g. main: prog/index.ts)`,
        );
    });

    it("main names nothing that exists: refused as `pulumi preview` refuses it", () => {
        const root = fixtureProject("prog/main.ts", "../tsconfig.json");
        expect(() => readProject(root)).toThrow(/project 'main' could not be read: prog\/main\.ts .* does not exist/);
    });
});
