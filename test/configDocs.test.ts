import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { OUTPUT, render, schemaKeys } from "../scripts/config-docs";

describe("docs/configuration.md", () => {
    it("is generated from the current schema (npm run config:docs)", () => {
        expect(fs.readFileSync(OUTPUT, "utf8")).toBe(render());
    });

    it("documents every key with a description and what is allowed", () => {
        const keys = schemaKeys();
        expect(keys.length).toBeGreaterThan(100);
        for (const k of keys) {
            expect(k.description, `${k.path} has no JSDoc in components/config.ts`).not.toBe("");
            expect(k.allowed, `${k.path}: no allowed values found`).not.toBe("");
        }
        for (const path of ["aws.accountId", "mlflow.database.multiAz", "teams[].driftChecks[].schedule", "monitoring.prometheus.retentionDays"]) {
            expect(keys.map((k) => k.path)).toContain(path);
        }
    });
});
