/**
 * The policy packs run compiled (policy/<pack>/bin/index.js, `npm run build:policy`): the committed
 * files are exactly what the sources compile to, each pack's package.json runs them, and a compiled
 * pack starts and answers as the analyzer protocol expects.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { EngineServer, PolicyPackProcess } from "../engine/analyzer";
import { compilePack, PACK_MAIN, packDirs } from "../scripts/build-policy";

const packs = packDirs();

describe("compiled policy packs", () => {
    it("there are the three packs", () => {
        expect(packs.map((p) => path.basename(p))).toEqual(["mlops-governance", "mlops-reliability", "mlops-security"]);
    });

    it.each(packs.map((p) => [path.basename(p), p]))(
        "%s: the committed bin/index.js is what the sources compile to (run npm run build:policy)",
        async (_name, dir) => {
            const committed = fs.readFileSync(path.join(dir, PACK_MAIN), "utf8");
            expect(committed === (await compilePack(dir)), `policy/${path.basename(dir)}/${PACK_MAIN} is stale: run npm run build:policy`).toBe(true);
            expect(JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).main).toBe(PACK_MAIN);
        },
    );

    it("a compiled pack starts without compiling TypeScript and lists its policies", async () => {
        const engine = await EngineServer.start();
        const proc = await PolicyPackProcess.start(packs[2], {
            engineAddress: engine.address,
            stack: { project: "p", stack: "dev", organization: "o", dryRun: true, config: {}, configSecretKeys: [] },
            timeoutMs: 120_000,
        });
        try {
            const info = await proc.getAnalyzerInfo();
            expect(info.name).toBe("mlops-security");
            expect(info.policies.length).toBeGreaterThan(5);
            // The pack's own stderr carries no ts-node compile output; its start is the node process alone.
            expect(proc.stderr).toBe("");
        } finally {
            await proc.close();
            await engine.close();
        }
    }, 150_000);
});
