/**
 * The library package team projects install (scripts/build-lib.ts): its manifest declares every module
 * the components import, at the versions this repository tests with, the Pulumi SDK and providers as
 * peers; the build compiles exactly components/ to the package's root; the team guide's install line is
 * the package's own. (`npm run build:lib`, run by CI, builds it and checks that the packed package, loaded
 * by plain node, registers what the sources register.)
 */
import { builtinModules } from "module";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { LIBRARY_MODULES, libraryManifest, libraryReadme, PACK_MODULES, type PackageJson, PEER_MODULES, PLAN_BIN, PLAN_MODULES } from "../scripts/build-lib";
import { PACK_EXTERNALS } from "../scripts/build-policy";
import { ROOT } from "./harness";

const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
const manifest = libraryManifest(rootPackage);

/** The package a module specifier names: `@scope/name` or `name`, without a subpath. */
const packageOf = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

/** Every package the components import (import/export ... from, require), Node's own modules aside. */
function importedPackages(): Set<string> {
    const dir = path.join(ROOT, "components");
    const found = new Set<string>();
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
        // Comments aside (the index's JSDoc shows `from "mlops-platform"`).
        const text = fs.readFileSync(path.join(dir, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
        for (const m of text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*)["']([^"']+)["']/g)) {
            const spec = m[1];
            if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
            found.add(packageOf(spec));
        }
    }
    return found;
}

describe("the library's package.json", () => {
    it("depends on what the shipped policy packs load (their bundles' externals other than the SDK peer)", () => {
        const packExternals = new Set(PACK_EXTERNALS.map(packageOf));
        packExternals.delete("@pulumi/pulumi");
        expect([...packExternals].sort()).toEqual([...PACK_MODULES].sort());
        expect(manifest.files).toContain("policy/**");
        expect(manifest.bin).toEqual({ "mlops-plan": PLAN_BIN });
    });

    it("declares exactly the packages the components import: the Pulumi SDK and providers as peers, the rest as dependencies", () => {
        const declared = [...Object.keys(manifest.peerDependencies ?? {}), ...Object.keys(manifest.dependencies ?? {})].sort();
        expect(declared).toEqual([...new Set([...importedPackages(), ...PACK_MODULES, ...PLAN_MODULES])].sort());
        expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual([...PEER_MODULES].sort());
        expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([...new Set([...LIBRARY_MODULES, ...PACK_MODULES, ...PLAN_MODULES])].sort());
    });

    it("pins dependencies to the tested versions and allows peers within the tested major", () => {
        for (const m of [...LIBRARY_MODULES, ...PACK_MODULES, ...PLAN_MODULES]) expect(manifest.dependencies?.[m]).toBe(rootPackage.dependencies?.[m]);
        for (const m of PEER_MODULES) expect(manifest.peerDependencies?.[m]).toBe(`^${rootPackage.dependencies?.[m]}`);
        expect(manifest).toMatchObject({ name: "mlops-platform", version: rootPackage.version, license: rootPackage.license, engines: rootPackage.engines });
        expect(manifest.private).toBeUndefined();
    });

    it("points at what the build emits: components/index.ts compiled to the package's root", () => {
        const tsconfig = fs.readFileSync(path.join(ROOT, "tsconfig.lib.json"), "utf8").replace(/^\s*\/\/.*$/gm, "");
        const lib = JSON.parse(tsconfig) as { compilerOptions: Record<string, unknown>; include: string[] };
        expect(lib.compilerOptions).toMatchObject({ rootDir: "components", outDir: "dist/lib", declaration: true });
        expect(lib.include).toEqual(["components/**/*.ts"]);
        expect(manifest).toMatchObject({ main: "index.js", types: "index.d.ts", exports: { ".": { types: "./index.d.ts", default: "./index.js" } } });
        expect(fs.existsSync(path.join(ROOT, "components", "index.ts"))).toBe(true);
    });

    it("names the package.json key that is missing", () => {
        const { dependencies, ...rest } = rootPackage;
        const { zod: _zod, ...withoutZod } = dependencies ?? {};
        expect(() => libraryManifest({ ...rest, dependencies: withoutZod })).toThrow("zod is imported by components/ but is not a dependency in package.json");
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
