/**
 * docs/policies.md is what compliance reviews: it must say what the packs and config files do. The
 * test regenerates it in memory and fails when the committed file differs (run `npm run policy:docs`).
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { PACKS, policyDocs } from "../policy/packs";
import { ROOT } from "./harness";

describe("docs/policies.md", () => {
    const generated = policyDocs();

    it("is up to date with the packs' metadata and config files (run: npm run policy:docs)", () => {
        const committed = fs.readFileSync(path.join(ROOT, "docs", "policies.md"), "utf8");
        expect(committed === generated, "docs/policies.md is out of date: run npm run policy:docs").toBe(true);
    });
    it("documents every policy with severity, per-stack enforcement and remediation", () => {
        for (const factory of PACKS.flatMap((p) => p.policies)) {
            const section = generated.split(`### ${factory.meta.name}\n`)[1]?.split("\n### ")[0] ?? "";
            expect(section, factory.meta.name).toContain(`**Severity:** ${factory.meta.severity}`);
            expect(section).toMatch(/\*\*Enforcement:\*\* dev: \*\*[a-z ]+\*\* · test: \*\*[a-z ]+\*\* · prod: \*\*mandatory\*\*/);
            expect(section).toContain(`**Remediation:** ${factory.meta.remediation}`);
        }
    });
    it("explains what the packs cannot inspect (Helm releases)", () => {
        expect(generated).toContain("**Helm releases** (`kubernetes:helm.sh/v3:Release`");
    });
});
