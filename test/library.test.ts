/**
 * The library package team projects install (scripts/build-lib.ts): its manifest declares every module
 * the components import, at the versions this repository tests with, the Pulumi SDK and providers as
 * peers; the build compiles exactly the team side of components/ (team/, shared/, contract/), never
 * the platform's components or the stack config; the team guide's install line is
 * the package's own. (`npm run build:lib`, run by CI, builds it and checks that the packed package, loaded
 * by plain node, registers what the sources register.)
 */
import { builtinModules } from "module";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import {
    expectedLibraryFiles,
    LIBRARY_DIRS,
    LIBRARY_ENTRY,
    LIBRARY_MODULES,
    libraryManifest,
    loadedModuleProblems,
    packageContentProblems,
    libraryReadme,
    type PackageJson,
    PEER_MODULES,
} from "../scripts/build-lib";
import { ROOT } from "./harness";

const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
const manifest = libraryManifest(rootPackage);

/** The package a module specifier names: `@scope/name` or `name`, without a subpath. */
const packageOf = (specifier: string) =>
    specifier
        .split("/")
        .slice(0, specifier.startsWith("@") ? 2 : 1)
        .join("/");

/** Every package the library's sources import (import/export ... from, require), Node's own modules aside. */
function importedPackages(): Set<string> {
    const dir = path.join(ROOT, "components");
    const found = new Set<string>();
    const files = LIBRARY_DIRS.flatMap((d) => (fs.readdirSync(path.join(dir, d), { recursive: true }) as string[]).map((f) => path.join(d, f))).filter((f) =>
        f.endsWith(".ts"),
    );
    for (const file of files) {
        // Comments aside (the index's JSDoc shows `from "mlops-platform"`).
        const text = fs
            .readFileSync(path.join(dir, file), "utf8")
            .replace(/\/\*[\s\S]*?\*\//g, "")
            .replace(/^\s*\/\/.*$/gm, "");
        for (const m of text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*)["']([^"']+)["']/g)) {
            const spec = m[1];
            if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
            found.add(packageOf(spec));
        }
    }
    return found;
}

describe("the library's package.json", () => {
    it("is the library alone: no command, no policy packs (the plan and the packs are the mlops-plan package, test/planPackage.test.ts)", () => {
        expect(manifest.bin).toBeUndefined();
        expect(manifest.files).not.toContain("policy/**");
    });

    it("declares exactly the packages the components import: the Pulumi SDK and providers as peers, the rest as dependencies", () => {
        const declared = [...Object.keys(manifest.peerDependencies ?? {}), ...Object.keys(manifest.dependencies ?? {})].sort();
        expect(declared).toEqual([...importedPackages()].sort());
        expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual([...PEER_MODULES].sort());
        expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([...LIBRARY_MODULES].sort());
    });

    it("pins dependencies to the tested versions and allows peers within the tested major", () => {
        for (const m of LIBRARY_MODULES) expect(manifest.dependencies?.[m]).toBe(rootPackage.dependencies?.[m]);
        for (const m of PEER_MODULES) expect(manifest.peerDependencies?.[m]).toBe(`^${rootPackage.dependencies?.[m]}`);
        expect(manifest).toMatchObject({ name: "mlops-platform", version: rootPackage.version, license: rootPackage.license, engines: rootPackage.engines });
        expect(manifest.private).toBeUndefined();
    });

    it("points at what the build emits: components/team/index.ts compiled to team/index.js, the team side only", () => {
        const tsconfig = fs.readFileSync(path.join(ROOT, "tsconfig.lib.json"), "utf8").replace(/^\s*\/\/.*$/gm, "");
        const lib = JSON.parse(tsconfig) as { compilerOptions: Record<string, unknown>; include: string[] };
        expect(lib.compilerOptions).toMatchObject({ rootDir: "components", outDir: "dist/lib", declaration: true });
        expect(lib.include).toEqual(LIBRARY_DIRS.map((d) => `components/${d}/**/*.ts`));
        expect(LIBRARY_ENTRY).toBe("team/index.js");
        expect(manifest).toMatchObject({
            main: "team/index.js",
            types: "team/index.d.ts",
            exports: { ".": { types: "./team/index.d.ts", default: "./team/index.js" } },
        });
        expect(fs.existsSync(path.join(ROOT, "components", "team", "index.ts"))).toBe(true);
        expect(rootPackage).toMatchObject({
            main: "components/team/index.ts",
            exports: { ".": { types: "./components/team/index.ts", default: "./components/team/index.ts" } },
        });
    });

    it("names the package.json key that is missing", () => {
        const { dependencies, ...rest } = rootPackage;
        const { ajv: _ajv, ...withoutAjv } = dependencies ?? {};
        expect(() => libraryManifest({ ...rest, dependencies: withoutAjv })).toThrow("ajv is imported by components/ but is not a dependency in package.json");
    });
});

describe("what the package holds and loads (checked on the packed tarball by npm run build:lib)", () => {
    const expected = expectedLibraryFiles();
    const packed = ["package.json", "README.md", ...expected];

    it("expects each source of team/, shared/ and contract/ compiled, and nothing of platform/", () => {
        expect(expected).toContain("team/index.js");
        expect(expected).toContain("team/index.d.ts");
        expect(expected).toContain("contract/index.js");
        expect(expected).toContain("team/runtimes/index.js.map");
        expect(expected.filter((f) => !/^(team|shared|contract)\//.test(f))).toEqual([]);
        expect(expected.some((f) => /(^|\/)(platform|stacks)\/|\/config\.js$/.test(f))).toBe(false);
    });

    it("accepts the team side, and names a platform component, the plan's files or a missing file", () => {
        expect(packageContentProblems(packed, expected)).toEqual([]);
        expect(packageContentProblems([...packed, "bin/plan.js"], expected)).toEqual([
            "bin/plan.js: in the package, but not a compiled file of components/team, components/shared, components/contract",
        ]);
        expect(packageContentProblems([...packed, "platform/mlflowTracking.js"], expected)).toEqual([
            "platform/mlflowTracking.js: in the package, but not a compiled file of components/team, components/shared, components/contract",
        ]);
        expect(
            packageContentProblems(
                packed.filter((f) => f !== "team/modelService.js"),
                expected,
            ),
        ).toEqual(["team/modelService.js: missing from the package"]);
    });

    it("accepts loading the team side, and names a platform module, the config schema's zod or a file outside the team side", () => {
        const pkg = path.join("/p", "node_modules", "mlops-platform");
        const sdk = path.join(ROOT, "node_modules", "@pulumi", "pulumi", "index.js");
        const ok = [path.join(pkg, "team", "index.js"), path.join(pkg, "contract", "index.js"), path.join(pkg, "shared", "naming.js"), sdk];
        expect(loadedModuleProblems(ok, pkg)).toEqual([]);
        expect(loadedModuleProblems(ok.slice(1), pkg)).toEqual([`team/index.js: not loaded by require("mlops-platform")`]);
        expect(loadedModuleProblems([...ok, path.join(pkg, "platform", "servingNamespace.js")], pkg)).toEqual([
            "platform/servingNamespace.js: loaded from the package, outside team, shared, contract",
        ]);
        const zod = path.join(ROOT, "node_modules", "zod", "index.cjs");
        expect(loadedModuleProblems([...ok, zod], pkg)).toEqual([`${zod}: loaded by the team library (node_modules/zod/ is the platform's side)`]);
    });
});

describe("installing it", () => {
    it("the package's README and the team guide give the same install command, with every peer", () => {
        const readme = libraryReadme(manifest);
        const install = readme.split("\n").find((l) => l.startsWith("npm install "))!;
        for (const m of PEER_MODULES) expect(install).toContain(`${m}@${rootPackage.dependencies?.[m]}`);
        expect(install.startsWith(`npm install mlops-platform-${rootPackage.version}.tgz `)).toBe(true);
        expect(fs.readFileSync(path.join(ROOT, "docs", "team-guide.md"), "utf8")).toContain(`\n${install}\n`);
    });
});
