/**
 * The machine-readable policy catalogue (policy/reports/catalogue.ts): every policy of every pack with its
 * metadata, controls, config, level per stack and how the cluster enforces it, as docs/policy-catalogue.json
 * holds it (`npm run policy:catalogue`), agreeing with docs/policies.md.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { policyCatalogue, policyCatalogueJson } from "../policy/reports/catalogue";
import { PACKS } from "../policy/packs";
import { ROOT } from "./harness";

describe("docs/policy-catalogue.json", () => {
    it("is up to date (npm run policy:catalogue)", () => {
        expect(fs.readFileSync(path.join(ROOT, "docs", "policy-catalogue.json"), "utf8")).toBe(policyCatalogueJson());
    });
    it("has every policy with its controls, levels and cluster enforcement, as docs/policies.md shows them", () => {
        const c = policyCatalogue();
        expect(c.policies.map((p) => p.name)).toEqual(PACKS.flatMap((p) => p.policies.map((f) => f.meta.name)));
        const docs = fs.readFileSync(path.join(ROOT, "docs", "policies.md"), "utf8");
        for (const p of c.policies) {
            expect(docs, p.name).toContain(`### ${p.name}`);
            expect(docs, p.name).toContain(`**${p.title}.**`);
            expect(Object.keys(p.levels)).toEqual(["dev", "test", "prod"]);
            expect(p.controls.length, p.name).toBeGreaterThan(0);
        }
        expect(c.policies.find((p) => p.name === "model-approval-record")).toMatchObject({ levels: { prod: "mandatory" }, inCluster: { admission: true } });
        expect(c.policies.find((p) => p.name === "pod-run-as-non-root")?.inCluster).toEqual({
            admission: false,
            note: "Pod Security admission: restricted (runAsNonRoot)",
        });
        expect(c.policies.find((p) => p.name === "ecr-repository-hardened")?.controls.map((x) => `${x.framework}:${x.control}`)).toContain("AWS-FSBP:ECR.1");
    });
});
