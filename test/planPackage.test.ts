/**
 * The plan as its own package (engine/, the `mlops-plan` npm workspace; scripts/build-plan.ts packs it):
 * the workspace declares every package the engine and the CLI import, shares the root's versions (one copy
 * installed), and the root no longer carries the plan's own dependencies; the packed manifest has the
 * `mlops-plan` command, the bundle loads nothing it does not declare, and the shipped packs' modules are
 * its dependencies; the team guide's install line is the package's own. (`npm run build:lib`, run by CI,
 * builds it and plans the team scaffold with it.)
 */
import { builtinModules } from "module";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import type { PackageJson } from "../scripts/build-lib";
import { bundlePlan, ENGINE_DIR, enginePackage, PACK_MODULES, PLAN_BIN, planInstallCommand, planManifest, planReadme } from "../scripts/build-plan";
import { PACK_EXTERNALS } from "../scripts/build-policy";
import { ROOT } from "./harness";

const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson & {
    workspaces?: string[];
    devDependencies?: Record<string, string>;
};
const engine = enginePackage() as PackageJson & { devDependencies?: Record<string, string> };
const manifest = planManifest(engine);

const packageOf = (specifier: string) =>
    specifier
        .split("/")
        .slice(0, specifier.startsWith("@") ? 2 : 1)
        .join("/");
const isBuiltin = (spec: string) => spec.startsWith("node:") || builtinModules.includes(spec);
const isInstalled = (pkg: string) => fs.existsSync(path.join(ROOT, "node_modules", pkg, "package.json"));

/** Every package imported by the .ts files under `dir` (recursively), Node's own modules aside. */
function importedPackages(dir: string): Set<string> {
    const found = new Set<string>();
    for (const file of fs
        .readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith(".ts"))) {
        const text = fs
            .readFileSync(path.join(dir, file), "utf8")
            .replace(/\/\*[\s\S]*?\*\//g, "")
            .replace(/^\s*\/\/.*$/gm, "");
        // Static specifiers, and module paths built from a template that names a package (`kubernetes-models/${version}`).
        const specifiers = [
            ...text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|\brequire\.resolve\(\s*)["'`]([^"'`$]+)/g),
            ...[...text.matchAll(/`((?:@[\w.-]+\/)?[\w.-]+)\/\$\{/g)].filter((m) => isInstalled(m[1])),
        ];
        for (const m of specifiers) {
            const spec = m[1];
            if (spec.startsWith(".") || isBuiltin(spec)) continue;
            found.add(packageOf(spec));
        }
    }
    return found;
}

describe("the engine workspace (engine/package.json)", () => {
    it("is the root's only workspace, installed by the root's npm ci from the one lock file", () => {
        expect(rootPackage.workspaces).toEqual(["engine"]);
        expect(fs.existsSync(path.join(ENGINE_DIR, "package-lock.json"))).toBe(false);
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
            packages: Record<string, { name?: string; version?: string; link?: boolean; resolved?: string }>;
        };
        expect(lock.packages.engine).toMatchObject({ name: "mlops-plan", version: engine.version });
        expect(lock.packages["node_modules/mlops-plan"]).toEqual({ resolved: "engine", link: true });
    });

    it("declares every package the engine and the plan CLI import: dependencies, the SDK as a peer", () => {
        const declared = new Set([...Object.keys(engine.dependencies ?? {}), ...Object.keys(engine.peerDependencies ?? {})]);
        const imported = importedPackages(ENGINE_DIR);
        expect([...imported].filter((m) => !declared.has(m))).toEqual([]);
        expect(Object.keys(engine.peerDependencies ?? {})).toEqual(["@pulumi/pulumi"]);
        // Every dependency is used: by the engine, by the packs shipped with it, or (tsx) by the packed
        // command, which registers tsx to load a team's TypeScript program.
        const used = new Set([...imported, ...PACK_MODULES, "tsx"]);
        expect([...declared].filter((m) => !used.has(m))).toEqual([]);
    });

    it("reaches outside engine/ only for the policy packs and the contract (never a component, a stack or a script)", () => {
        // Every source file the engine's relative imports reach, transitively; these are what the bundle inlines.
        const reached = new Set<string>();
        const visit = (file: string) => {
            if (reached.has(file)) return;
            reached.add(file);
            const text = fs
                .readFileSync(file, "utf8")
                .replace(/\/\*[\s\S]*?\*\//g, "")
                .replace(/^\s*\/\/.*$/gm, "");
            for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire\(\s*|\bimport\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
                const base = path.resolve(path.dirname(file), m[1]);
                const target = [`${base}.ts`, path.join(base, "index.ts"), base].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
                if (target === undefined) throw new Error(`${path.relative(ROOT, file)}: cannot resolve ${m[1]}`);
                if (target.endsWith(".ts")) visit(target);
            }
        };
        for (const f of fs.readdirSync(ENGINE_DIR, { recursive: true }).map(String))
            if (f.endsWith(".ts") && !f.includes("node_modules")) visit(path.join(ENGINE_DIR, f));
        const outside = [...reached].map((f) => path.relative(ROOT, f)).filter((f) => !f.startsWith("engine/"));
        expect(outside.length).toBeGreaterThan(0);
        const allowed = /^(policy\/|components\/contract\/|components\/shared\/yaml\.ts$)/;
        expect(outside.filter((f) => !allowed.test(f))).toEqual([]);
    });

    it("shares the root's version of every package both declare (npm installs one copy), and the root leaves the plan's own to it", () => {
        const rootDeps = { ...rootPackage.dependencies, ...rootPackage.devDependencies };
        for (const [m, v] of Object.entries({ ...engine.dependencies, ...engine.devDependencies }))
            if (rootDeps[m] !== undefined) expect(`${m}@${rootDeps[m]}`).toBe(`${m}@${v}`);
        expect(engine.peerDependencies?.["@pulumi/pulumi"]).toBe(`^${rootPackage.dependencies?.["@pulumi/pulumi"]}`);
        for (const m of ["@grpc/grpc-js", "kubernetes-models", "@kubernetes-models/prometheus-operator", "@types/google-protobuf"])
            expect(rootDeps[m], m).toBeUndefined();
        expect(engine).toMatchObject({
            name: "mlops-plan",
            version: rootPackage.version,
            license: rootPackage.license,
            engines: rootPackage.engines,
            private: true,
        });
    });
});

describe("the packed mlops-plan package", () => {
    it("has the mlops-plan command, the bundle and the packs as files, and the workspace's dependencies and peers", () => {
        expect(manifest.bin).toEqual({ "mlops-plan": PLAN_BIN });
        expect(manifest.files).toEqual(["bin/**", "policy/**", "README.md"]);
        expect(manifest.dependencies).toEqual(engine.dependencies);
        expect(manifest.peerDependencies).toEqual(engine.peerDependencies);
        expect(manifest.private).toBeUndefined();
        expect(manifest.devDependencies).toBeUndefined();
    });

    it("depends on what the shipped policy packs load (their bundles' externals other than the SDK peer)", () => {
        const packExternals = new Set(PACK_EXTERNALS.map(packageOf));
        packExternals.delete("@pulumi/pulumi");
        expect([...packExternals].sort()).toEqual([...PACK_MODULES].sort());
        for (const m of PACK_MODULES) expect(manifest.dependencies?.[m]).toBeDefined();
    });

    it("bundles the CLI so that it loads only its dependencies and peers", async () => {
        const externals = await bundlePlan(undefined);
        const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
        // (`<runtime>` is esbuild's own helper module, inlined.)
        expect(externals.filter((spec) => !isBuiltin(spec) && spec !== "<runtime>" && !declared.has(packageOf(spec)))).toEqual([]);
        expect(externals).toContain("tsx/cjs/api");
    }, 60_000);

    it("the package's README and the team guide give the same install command", () => {
        const install = planInstallCommand(manifest);
        expect(install).toBe(`npm install --save-dev mlops-plan-${engine.version}.tgz`);
        expect(planReadme(manifest)).toContain(`\n${install}\n`);
        expect(fs.readFileSync(path.join(ROOT, "docs", "team-guide.md"), "utf8")).toContain(`\n${install} `);
    });
});
