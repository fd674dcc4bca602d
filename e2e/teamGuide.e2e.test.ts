/**
 * docs/team-guide.md: every TypeScript snippet compiles, with the TypeScript compiler, in the team
 * repository the scaffold writes (its tsconfig, the library and its peers): no snippet uses a name it
 * does not define or declare. Here rather than in `npm test` because type-checking against the
 * providers' declarations takes about 40 s on two busy cores.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { PEER_MODULES, type PackageJson } from "../scripts/build-lib";
import { defaultTeamOptions, writeTeamRepository } from "../scripts/new-team";

const ROOT = path.resolve(__dirname, "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "team-guide-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("docs/team-guide.md", () => {
    it("every TypeScript snippet compiles in the scaffold's repository", () => {
        const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
        const repo = path.join(dir, "team-fraud");
        writeTeamRepository(repo, defaultTeamOptions("fraud", rootPackage), rootPackage);
        const modules = path.join(repo, "node_modules");
        fs.mkdirSync(path.join(modules, "@pulumi"), { recursive: true });
        fs.symlinkSync(ROOT, path.join(modules, "mlops-platform"));
        for (const m of [...PEER_MODULES, "@types/node"]) {
            fs.mkdirSync(path.dirname(path.join(modules, m)), { recursive: true });
            fs.symlinkSync(path.join(ROOT, "node_modules", m), path.join(modules, m));
        }
        const guide = fs.readFileSync(path.join(ROOT, "docs", "team-guide.md"), "utf8");
        const snippets = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
        expect(snippets.length).toBeGreaterThanOrEqual(3);
        // Each snippet is its own module, as a file of the team's project would be.
        const files = snippets.map((code, i) => {
            const file = path.join(repo, `snippet-${i + 1}.ts`);
            fs.writeFileSync(file, `${code}\nexport {};\n`);
            return file;
        });
        const config = ts.getParsedCommandLineOfConfigFile(
            path.join(repo, "tsconfig.json"),
            { noEmit: true },
            { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
        )!;
        const program = ts.createProgram([path.join(repo, "index.ts"), ...files], config.options);
        const errors = ts
            .getPreEmitDiagnostics(program)
            .map((d) => `${d.file ? path.basename(d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
        expect(errors).toEqual([]);
    }, 300_000);
});
