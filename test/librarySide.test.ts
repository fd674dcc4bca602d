/**
 * The team library (components/team/index.ts, what `mlops-platform` exports) stands on its own: walking
 * its import graph (every import, export-from, type-only import and dynamic import) from the entry
 * reaches only components/team, components/shared and components/contract, never a platform component
 * (components/platform) or the stack configuration (stacks/config). The same holds for every file the
 * library build compiles (tsconfig.lib.json), so the package builds without the platform side.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { describe, expect, it } from "vitest";
import { LIBRARY_DIRS } from "../scripts/build-lib";
import { ROOT } from "./harness";

const COMPONENTS = path.join(ROOT, "components");

/** The repository files `file` imports (relative specifiers resolved as node16 does for .ts sources). */
function localImports(file: string): string[] {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    return info.importedFiles
        .map((f) => f.fileName)
        .filter((spec) => spec.startsWith("."))
        .map((spec) => {
            const base = path.resolve(path.dirname(file), spec);
            const found = [base, `${base}.ts`, path.join(base, "index.ts")].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
            if (!found) throw new Error(`${path.relative(ROOT, file)}: cannot resolve ${spec}`);
            return found;
        });
}

/** Every repository file reachable from `entry`, with the import chain that first reached it. */
function importGraph(entry: string): Map<string, string[]> {
    const chains = new Map<string, string[]>([[entry, [entry]]]);
    const queue = [entry];
    while (queue.length > 0) {
        const file = queue.shift()!;
        for (const dep of localImports(file)) {
            if (chains.has(dep)) continue;
            chains.set(dep, [...chains.get(file)!, dep]);
            queue.push(dep);
        }
    }
    return chains;
}

const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join("/");
const onTeamSide = (f: string) => LIBRARY_DIRS.some((d) => rel(f).startsWith(`components/${d}/`));

describe("the team library's import graph", () => {
    const graph = importGraph(path.join(COMPONENTS, "team", "index.ts"));

    it("reaches ModelService, BatchInference, ModelRoute, readPlatform and the contract", () => {
        const reached = [...graph.keys()].map(rel);
        for (const f of [
            "components/team/modelService.ts",
            "components/team/batchInference.ts",
            "components/team/modelRoute.ts",
            "components/team/platformReference.ts",
            "components/contract/index.ts",
        ]) {
            expect(reached).toContain(f);
        }
    });

    it("reaches no platform component and not the stack configuration schema", () => {
        const outside = [...graph.entries()].filter(([f]) => !onTeamSide(f)).map(([, chain]) => chain.map(rel).join(" -> "));
        expect(outside).toEqual([]);
        expect([...graph.keys()].map(rel).filter((f) => f.startsWith("components/platform/") || f.startsWith("stacks/"))).toEqual([]);
    });

    it("modelWorkload does not import the stack configuration", () => {
        const deps = [...importGraph(path.join(COMPONENTS, "team", "modelWorkload.ts")).keys()].map(rel);
        expect(deps.filter((f) => f.startsWith("stacks/"))).toEqual([]);
    });

    it("every file the library build compiles imports only the team side", () => {
        const files = LIBRARY_DIRS.flatMap((d) =>
            (fs.readdirSync(path.join(COMPONENTS, d), { recursive: true }) as string[]).map((f) => path.join(COMPONENTS, d, f)),
        ).filter((f) => f.endsWith(".ts"));
        expect(files.length).toBeGreaterThan(30);
        const crossing = files.flatMap((f) =>
            localImports(f)
                .filter((dep) => !onTeamSide(dep))
                .map((dep) => `${rel(f)} imports ${rel(dep)}`),
        );
        expect(crossing).toEqual([]);
    });

    it("would name a platform import (the walk sees type-only and dynamic imports too)", () => {
        const src =
            'import type { PlatformConfig } from "../../stacks/config/schema";\nconst m = import("../platform/iam");\nexport { x } from "./kubeconfig";';
        expect(ts.preProcessFile(src, true, true).importedFiles.map((f) => f.fileName)).toEqual([
            "../../stacks/config/schema",
            "../platform/iam",
            "./kubeconfig",
        ]);
    });
});
