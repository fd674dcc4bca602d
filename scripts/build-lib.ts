/**
 * `npm run build:lib`: the platform's library as product teams install it.
 *
 * A team's own Pulumi project imports `mlops-platform` (components/team/index.ts). Inside this repository the
 * TypeScript sources are used directly, but a package installed under node_modules must be JavaScript:
 * the Pulumi CLI's TypeScript support (ts-node) does not compile files under node_modules, and a
 * JavaScript project cannot load TypeScript at all. This compiles the team side of components/ (team/,
 * with the contract/ and shared/ helpers it imports; tsconfig.lib.json) to `dist/lib` with declarations
 * and source maps, writes the package's own package.json and README, and
 * packs it: `dist/mlops-platform-<version>.tgz`, for `npm install <tarball>` or `npm publish dist/lib`.
 * It also builds the plan package team projects install as a devDependency (scripts/build-plan.ts,
 * `dist/mlops-plan-<version>.tgz`) and checks the two together in a scratch team project.
 *
 * The Pulumi SDK and providers are peer dependencies: a Pulumi program must load one copy of
 * @pulumi/pulumi (resources, outputs and the runtime's settings are module state), and a team that uses
 * @pulumi/aws or @pulumi/kubernetes itself should share the platform's. Everything else the components
 * import is a dependency, at the exact version this repository tests with.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packDirs } from "./build-policy";
import { buildPlanPackage, PLAN_BIN } from "./build-plan";

const ROOT = path.resolve(__dirname, "..");
export const LIB_DIR = path.join(ROOT, "dist", "lib");

export interface PackageJson {
    name: string;
    version: string;
    description?: string;
    license?: string;
    engines?: Record<string, string>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    [key: string]: unknown;
}

/** Modules a component imports that are shared with the team's program: peer dependencies. */
export const PEER_MODULES = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/kubernetes", "@pulumi/docker"] as const;
/** The other modules components import: dependencies of the library. */
export const LIBRARY_MODULES = ["ajv", "js-yaml"] as const;
/** The library's entry in the package: components/team/index.ts compiled (tsconfig.lib.json's rootDir is components/). */
export const LIBRARY_ENTRY = "team/index.js";
/**
 * The folders of components/ the package holds: the team side, the contract and the helpers both sides
 * share. The platform's components (components/platform) and the stack config (stacks/config) stay out.
 */
export const LIBRARY_DIRS = ["team", "shared", "contract"] as const;

/**
 * The library's package.json, from the repository's: same name, version and licence; peers at `^` the
 * tested version (a team may be ahead within the major), dependencies at the tested version exactly.
 */
export function libraryManifest(root: PackageJson): PackageJson {
    const version = (dep: string): string => {
        const v = root.dependencies?.[dep];
        if (!v) throw new Error(`build-lib: ${dep} is imported by components/ but is not a dependency in package.json`);
        return v;
    };
    return {
        name: root.name,
        version: root.version,
        description: "MLOps platform library for product teams: ModelService, BatchInference and readPlatform for Pulumi programs.",
        license: root.license,
        main: LIBRARY_ENTRY,
        types: LIBRARY_ENTRY.replace(/\.js$/, ".d.ts"),
        exports: { ".": { types: `./${LIBRARY_ENTRY.replace(/\.js$/, ".d.ts")}`, default: `./${LIBRARY_ENTRY}` }, "./package.json": "./package.json" },
        files: ["**/*.js", "**/*.js.map", "**/*.d.ts", "**/*.d.ts.map", "README.md"],
        ...(root.engines ? { engines: root.engines } : {}),
        dependencies: Object.fromEntries([...LIBRARY_MODULES].sort().map((m) => [m, version(m)])),
        peerDependencies: Object.fromEntries(PEER_MODULES.map((m) => [m, `^${version(m)}`])),
    };
}

/** The package's README: what it is and where the guide is. */
export function libraryReadme(manifest: PackageJson): string {
    return [
        `# ${manifest.name}`,
        "",
        `${manifest.description}`,
        "",
        "```ts",
        'import { ModelService, readPlatform } from "mlops-platform";',
        "```",
        "",
        "Install it with its peers, the Pulumi SDK and providers your program shares with it:",
        "",
        "```sh",
        `npm install ${manifest.name}-${manifest.version}.tgz ${Object.entries(manifest.peerDependencies ?? {})
            .map(([m, v]) => `${m}@${v.replace(/^\^/, "")}`)
            .join(" ")}`,
        "```",
        "",
        "The team guide (docs/team-guide.md of the platform repository) walks through a complete team project,",
        "examples/team-fraud.",
        "",
    ].join("\n");
}

/**
 * The check a built package must pass: a Pulumi program on the SDK's mocks, run by plain node (no
 * TypeScript), that creates the fraud scorer's prod ModelService and prints every registration (type,
 * name, inputs). `MLOPS_LIB` names the module to load it from.
 */
const SMOKE_PROGRAM = `
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks({
    newResource: (a) => { registered.push({ type: a.type, name: a.name, inputs: a.inputs }); return { id: a.name + "-id", state: a.inputs }; },
    call: (a) => a.inputs,
}, "team-fraud", "prod", false);
const { ModelService } = require(process.env.MLOPS_LIB);
new ModelService("fraud-scorer", JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
process.once("beforeExit", () => process.stdout.write(JSON.stringify(registered)));
`;

/** A packed package: its tarball and manifest. */
export interface Packed {
    tarball: string;
    manifest: PackageJson;
}

/**
 * The files the compiled library part of the package must be, exactly: each TypeScript source under
 * {@link LIBRARY_DIRS} as `.js`, `.d.ts` and their maps, by path inside the package.
 */
export function expectedLibraryFiles(componentsDir = path.join(ROOT, "components")): string[] {
    return LIBRARY_DIRS.flatMap((dir) =>
        (fs.readdirSync(path.join(componentsDir, dir), { recursive: true }) as string[])
            .map((f) => path.posix.join(dir, f.split(path.sep).join("/")))
            .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
            .flatMap((f) => [".js", ".js.map", ".d.ts", ".d.ts.map"].map((ext) => f.replace(/\.ts$/, ext))),
    ).sort();
}

/**
 * What is wrong with the package's file list (`tar tzf`, without the `package/` prefix): its compiled
 * library is exactly {@link expectedLibraryFiles}; besides it only the manifest and the README (the
 * policy packs and the plan are the plan package's, scripts/build-plan.ts). A platform component or the
 * stack config in the package is a problem.
 */
export function packageContentProblems(files: readonly string[], expected: readonly string[]): string[] {
    const other = (f: string) => f === "package.json" || f === "README.md";
    const library = files.filter((f) => !other(f));
    const problems = library
        .filter((f) => !expected.includes(f))
        .map((f) => `${f}: in the package, but not a compiled file of ${LIBRARY_DIRS.map((d) => `components/${d}`).join(", ")}`);
    problems.push(...expected.filter((f) => !files.includes(f)).map((f) => `${f}: missing from the package`));
    return problems;
}

/** Modules the team library must not load: the platform's components and the stack config's schema library. */
export const NOT_LOADED = ["components/platform/", "stacks/config/", "node_modules/zod/", "node_modules/@pulumi/random/"] as const;

/**
 * What is wrong with the modules plain node loaded for `require(<package>)` (`Object.keys(require.cache)`):
 * every file of the package it loads is under {@link LIBRARY_DIRS}, the entry among them, and nothing
 * of {@link NOT_LOADED} is loaded.
 */
export function loadedModuleProblems(loaded: readonly string[], packageDir: string): string[] {
    const problems: string[] = [];
    const inPackage = loaded.filter((f) => f.startsWith(packageDir + path.sep)).map((f) => path.relative(packageDir, f).split(path.sep).join("/"));
    if (!inPackage.includes(LIBRARY_ENTRY)) problems.push(`${LIBRARY_ENTRY}: not loaded by require("${path.basename(packageDir)}")`);
    for (const f of inPackage)
        if (!LIBRARY_DIRS.some((d) => f.startsWith(`${d}/`))) problems.push(`${f}: loaded from the package, outside ${LIBRARY_DIRS.join(", ")}`);
    for (const f of loaded) {
        const unwanted = NOT_LOADED.find((n) => f.split(path.sep).join("/").includes(`/${n}`));
        if (unwanted) problems.push(`${f}: loaded by the team library (${unwanted} is the platform's side)`);
    }
    return problems;
}

/** Requires the library by its package name with plain node and prints the modules that loaded. */
const LOAD_PROGRAM = `require(process.env.MLOPS_LIB); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;

/**
 * Installs the packed library and plan in a scratch team project (their peers and dependencies linked
 * from this repository's node_modules, so one copy of each is loaded) and runs {@link SMOKE_PROGRAM} with
 * plain node against the library and, under tsx, against components/: the package must register exactly
 * what the sources do. Then the plan's packs must start and its `mlops-plan` must plan the scaffold green
 * ({@link verifyTeamPlan}). Throws when any of it fails.
 */
export async function verifyPackage(library: Packed, plan: Packed): Promise<number> {
    const { manifest } = library;
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-lib-check-"));
    try {
        const modules = path.join(project, "node_modules");
        fs.mkdirSync(path.join(modules, "@pulumi"), { recursive: true });
        const linked = new Set<string>();
        for (const { tarball, manifest: m } of [library, plan]) {
            execFileSync("tar", ["xzf", tarball, "-C", modules]);
            fs.renameSync(path.join(modules, "package"), path.join(modules, m.name));
            linked.add(m.name);
        }
        // The scaffold's devDependencies too (scripts/new-team.ts): the plan runs its program as the Pulumi
        // CLI does, type-checked by ts-node with the project's tsconfig ("types": ["node"]).
        const deps = [library, plan].flatMap(({ manifest: m }) => [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
        for (const dep of new Set([...deps, "typescript", "@types/node"])) {
            if (linked.has(dep)) continue;
            fs.mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
            fs.symlinkSync(path.join(ROOT, "node_modules", dep), path.join(modules, dep));
        }
        const { prodArgs } = require("../test/modelServiceFixtures") as typeof import("../test/modelServiceFixtures");
        fs.writeFileSync(path.join(project, "args.json"), JSON.stringify(prodArgs()));
        fs.writeFileSync(path.join(project, "smoke.js"), SMOKE_PROGRAM);
        const run = (execArgv: string[], lib: string) =>
            execFileSync(process.execPath, [...execArgv, "smoke.js", "args.json"], {
                cwd: project,
                encoding: "utf8",
                env: { ...process.env, MLOPS_LIB: lib, NODE_OPTIONS: "" },
            });
        // What the package holds, and what loading it loads: the team side and the contract, no platform component.
        const files = execFileSync("tar", ["tzf", library.tarball], { encoding: "utf8" })
            .split("\n")
            .filter((f) => f && !f.endsWith("/"))
            .map((f) => f.replace(/^package\//, ""));
        const contents = packageContentProblems(files, expectedLibraryFiles());
        if (contents.length > 0) throw new Error(`build-lib: the package holds the wrong files:\n  ${contents.join("\n  ")}`);
        fs.writeFileSync(path.join(project, "load.js"), LOAD_PROGRAM);
        const loaded = JSON.parse(
            execFileSync(process.execPath, ["load.js"], {
                cwd: project,
                encoding: "utf8",
                env: { ...process.env, MLOPS_LIB: manifest.name, NODE_OPTIONS: "" },
            }),
        ) as string[];
        const loadProblems = loadedModuleProblems(loaded, fs.realpathSync(path.join(modules, manifest.name)));
        if (loadProblems.length > 0) throw new Error(`build-lib: loading the package loads what it must not:\n  ${loadProblems.join("\n  ")}`);
        const packaged = JSON.parse(run([], manifest.name)) as { type: string; name: string }[];
        const sources = JSON.parse(run(["--import", require.resolve("tsx")], path.join(ROOT, "components", "team", "index.ts"))) as unknown[];
        if (packaged.length === 0) throw new Error("build-lib: the packaged ModelService registered nothing");
        if (JSON.stringify(packaged) !== JSON.stringify(sources)) {
            throw new Error(
                `build-lib: the package registers something other than the sources:\n  package: ${packaged.map((r) => `${r.type}::${r.name}`).join(", ")}`,
            );
        }
        // The shipped packs: found by a team project's plan, and each loads from the installed plan package.
        const { shippedPolicyPacks } = require("../engine/plan") as typeof import("../engine/plan");
        const packs = shippedPolicyPacks(project);
        if (
            packs.map((p) => path.basename(p)).join(",") !==
            packDirs()
                .map((p) => path.basename(p))
                .join(",")
        ) {
            throw new Error(`build-lib: a team project finds the packs ${packs.join(", ") || "(none)"} in the plan package`);
        }
        const { EngineServer, PolicyPackProcess } = require("../engine/analyzer") as typeof import("../engine/analyzer");
        const engine = await EngineServer.start();
        try {
            for (const pack of packs) {
                const proc = await PolicyPackProcess.start(pack, {
                    engineAddress: engine.address,
                    stack: { project: "team-fraud", stack: "prod", organization: "acme", dryRun: true, config: {}, configSecretKeys: [] },
                    timeoutMs: 180_000,
                });
                try {
                    const info = await proc.getAnalyzerInfo();
                    if (info.policies.length === 0) throw new Error(`build-lib: the packaged pack ${pack} lists no policies`);
                } finally {
                    await proc.close();
                }
            }
        } finally {
            await engine.close();
        }
        verifyTeamPlan(project, plan.manifest);
        return packaged.length;
    } finally {
        fs.rmSync(project, { recursive: true, force: true });
    }
}

/**
 * The scaffold's team repository (scripts/new-team.ts) in the scratch project, planned by the packed
 * `mlops-plan` with plain node against the prod platform plan's outputs: it must pass with the shipped
 * packs, found without --policy-pack. Throws when it does not.
 */
function verifyTeamPlan(project: string, plan: PackageJson): void {
    const { defaultTeamOptions, teamFiles } = require("./new-team") as typeof import("./new-team");
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
    const options = {
        ...defaultTeamOptions("fraud", root),
        registries: {
            dev: "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
            test: "310987654321.dkr.ecr.eu-west-1.amazonaws.com",
            prod: "410987654321.dkr.ecr.eu-west-1.amazonaws.com",
        },
    };
    for (const [rel, content] of teamFiles(options, root)) {
        if (rel === "package.json" || rel.startsWith(".github/")) continue;
        fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
        fs.writeFileSync(path.join(project, rel), content);
    }
    const platform = execFileSync(
        process.execPath,
        ["--import", require.resolve("tsx"), path.join(ROOT, "engine", "cli", "plan.ts"), "prod", "--no-policy", "--quiet", "--json"],
        { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 28 },
    );
    // Compliance approves the scaffold's model version and image, as it would in approvals/prod.yaml.
    const doc = JSON.parse(platform) as { outputs: Record<string, unknown> };
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const approval = {
        team: "fraud",
        model: "fraud-scorer",
        version: 1,
        imageDigests: [`sha256:${"0".repeat(64)}`],
        approvedBy: "jane.doe",
        ticket: "CHG-1",
        date: day(0),
        expires: day(30),
    };
    doc.outputs.modelApprovals = [...((doc.outputs.modelApprovals as unknown[]) ?? []), approval];
    fs.writeFileSync(path.join(project, "platform-prod.json"), JSON.stringify(doc));
    const bin = path.join(project, "node_modules", plan.name, PLAN_BIN);
    const out = execFileSync(process.execPath, [bin, "prod", "--quiet", "--stack-reference", "acme/mlops/prod=platform-prod.json"], {
        cwd: project,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
    });
    if (!/mlops-security\s/.test(out) || !out.includes("exit 0: ok"))
        throw new Error(`build-lib: the packaged mlops-plan did not plan the scaffold green with the packs:\n${out.slice(-2000)}`);
}

async function main(): Promise<void> {
    fs.rmSync(LIB_DIR, { recursive: true, force: true });
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.lib.json")], { cwd: ROOT, stdio: "inherit" });
    const manifest = libraryManifest(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson);
    fs.writeFileSync(path.join(LIB_DIR, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    fs.writeFileSync(path.join(LIB_DIR, "README.md"), libraryReadme(manifest));
    const name =
        execFileSync("npm", ["pack", "--silent", "--pack-destination", path.dirname(LIB_DIR)], { cwd: LIB_DIR, encoding: "utf8" })
            .trim()
            .split("\n")
            .pop() ?? "";
    const tarball = path.join(path.dirname(LIB_DIR), name);
    const plan = await buildPlanPackage();
    const registrations = await verifyPackage({ tarball, manifest }, plan);
    console.log(
        `Built ${path.relative(ROOT, LIB_DIR)}, ${path.relative(ROOT, tarball)} and ${path.relative(ROOT, plan.tarball)}; checked: the library holds only ${LIBRARY_DIRS.join(", ")} and loading it loads no platform component; the packed ModelService, loaded by plain node, registers the same ${registrations} resources as the sources; the plan package's policy packs start; its mlops-plan plans the team scaffold green with them.`,
    );
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err);
        process.exit(1);
    });
}
