/**
 * `npm run build:plan`: the platform's offline plan as product teams install it, a development tool of
 * its own (`mlops-plan`), apart from the library their programs import.
 *
 * The plan is the engine/ workspace package (engine/package.json: its dependencies, the Pulumi SDK as a
 * peer). This bundles its CLI (engine/cli/plan.ts) and the engine into one file, `bin/plan.js`, adds the
 * platform's policy packs, compiled, with their per-environment config (`policy/`: a team project's plan
 * runs them by default, engine/plan.ts `shippedPolicyPacks`, and `pulumi up --policy-pack
 * node_modules/mlops-plan/policy/<pack>` runs them with the CLI), writes the package's package.json and
 * README to `dist/plan`, and packs it: `dist/mlops-plan-<version>.tgz`, a devDependency of a team project.
 * `npm run build:lib` builds it too and checks it together with the library (scripts/build-lib.ts).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { PackageJson } from "./build-lib";
import { PACK_MAIN, packDirs, POLICY_DIR } from "./build-policy";

const ROOT = path.resolve(__dirname, "..");
/** The workspace package of the engine and the plan CLI. */
export const ENGINE_DIR = path.join(ROOT, "engine");
export const PLAN_DIR = path.join(ROOT, "dist", "plan");
/** The CLI's source, bundled into {@link PLAN_BIN}. */
export const PLAN_ENTRY = path.join(ENGINE_DIR, "cli", "plan.ts");
/** The plan's command in the package. */
export const PLAN_BIN = "bin/plan.js";
/** What the compiled policy packs load from where they are installed (scripts/build-policy.ts): dependencies of the plan package. */
export const PACK_MODULES = ["@pulumi/policy", "google-protobuf"] as const;

/** The engine workspace's package.json. */
export function enginePackage(): PackageJson {
    return JSON.parse(fs.readFileSync(path.join(ENGINE_DIR, "package.json"), "utf8")) as PackageJson;
}

/**
 * The packed package's package.json, from the workspace's: same name, version, dependencies (exact, the
 * tested versions) and peers; the `mlops-plan` command; the bundle and the packs as its files.
 */
export function planManifest(engine: PackageJson): PackageJson {
    const { private: _private, devDependencies: _dev, ...rest } = engine;
    return {
        ...rest,
        bin: { "mlops-plan": PLAN_BIN },
        files: ["bin/**", "policy/**", "README.md"],
    };
}

/** The package's README: what it is, how a team installs it, where the guide is. */
export function planReadme(manifest: PackageJson): string {
    return [
        `# ${manifest.name}`,
        "",
        `${manifest.description}`,
        "",
        "A development tool of a team project, next to the TypeScript toolchain:",
        "",
        "```sh",
        planInstallCommand(manifest),
        "```",
        "",
        "`npm run plan` (`mlops-plan`) plans a stack offline with the platform's policy packs (`policy/`, with their",
        "config per environment). The team guide (docs/team-guide.md of the platform repository) shows it on a",
        "complete team project; docs/plan.md lists its flags and exit codes.",
        "",
    ].join("\n");
}

/** The install line of the README and the team guide. */
export function planInstallCommand(manifest: PackageJson): string {
    return `npm install --save-dev ${manifest.name}-${manifest.version}.tgz`;
}

/**
 * engine/cli/plan.ts and the engine as one CommonJS file (`<dir>/bin/plan.js`); packages stay external
 * (the package's dependencies and peers). Returns the bare modules the bundle loads.
 */
export async function bundlePlan(dir: string | undefined): Promise<string[]> {
    const { build } = await import("esbuild");
    const result = await build({
        entryPoints: [PLAN_ENTRY],
        ...(dir ? { outfile: path.join(dir, PLAN_BIN) } : { outfile: "plan.js", write: false }),
        absWorkingDir: ROOT,
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        packages: "external",
        keepNames: true,
        metafile: true,
        logLevel: "warning",
        // A team's program is TypeScript: load it as tsx does for `npm run plan` in the platform repository.
        banner: {
            js: '#!/usr/bin/env node\n// The offline plan of the MLOps platform (engine/cli/plan.ts bundled by npm run build:plan).\nrequire("tsx/cjs/api").register();',
        },
    });
    if (dir) fs.chmodSync(path.join(dir, PLAN_BIN), 0o755);
    const imports = Object.values(result.metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external).map((x) => x.path));
    return [...new Set(["tsx/cjs/api", ...imports])].sort();
}

/** The platform's policy packs, compiled, with their per-environment config, under `<dir>/policy/`. */
export function copyPolicyPacks(dir: string): string[] {
    const out = path.join(dir, "policy");
    const packs = packDirs();
    for (const pack of packs) {
        const target = path.join(out, path.basename(pack));
        fs.mkdirSync(path.join(target, "bin"), { recursive: true });
        fs.copyFileSync(path.join(pack, "PulumiPolicy.yaml"), path.join(target, "PulumiPolicy.yaml"));
        fs.copyFileSync(path.join(pack, PACK_MAIN), path.join(target, PACK_MAIN));
        // The pack's dependencies are the plan package's (PACK_MODULES), installed beside it.
        const { dependencies: _deps, ...manifest } = JSON.parse(fs.readFileSync(path.join(pack, "package.json"), "utf8"));
        fs.writeFileSync(path.join(target, "package.json"), `${JSON.stringify(manifest, null, 4)}\n`);
    }
    fs.cpSync(path.join(POLICY_DIR, "config"), path.join(out, "config"), { recursive: true });
    return packs.map((d) => path.basename(d));
}

/** Builds `dist/plan` and packs it; returns the tarball and the manifest. */
export async function buildPlanPackage(): Promise<{ tarball: string; manifest: PackageJson }> {
    fs.rmSync(PLAN_DIR, { recursive: true, force: true });
    fs.mkdirSync(PLAN_DIR, { recursive: true });
    await bundlePlan(PLAN_DIR);
    copyPolicyPacks(PLAN_DIR);
    const manifest = planManifest(enginePackage());
    fs.writeFileSync(path.join(PLAN_DIR, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    fs.writeFileSync(path.join(PLAN_DIR, "README.md"), planReadme(manifest));
    const name =
        execFileSync("npm", ["pack", "--silent", "--pack-destination", path.dirname(PLAN_DIR)], { cwd: PLAN_DIR, encoding: "utf8" })
            .trim()
            .split("\n")
            .pop() ?? "";
    return { tarball: path.join(path.dirname(PLAN_DIR), name), manifest };
}

if (require.main === module) {
    buildPlanPackage().then(
        ({ tarball }) =>
            console.log(`Built ${path.relative(ROOT, PLAN_DIR)} and ${path.relative(ROOT, tarball)} (checked with the library by npm run build:lib).`),
        (err) => {
            console.error(err);
            process.exit(1);
        },
    );
}
