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
            expect(k.description, `${k.path} has no JSDoc in stacks/config/schema.ts`).not.toBe("");
            expect(k.allowed, `${k.path}: no allowed values found`).not.toBe("");
        }
        for (const path of ["aws.accountId", "mlflow.database.multiAz", "teams[].driftChecks[].schedule", "monitoring.prometheus.retentionDays"]) {
            expect(keys.map((k) => k.path)).toContain(path);
        }
    });

    it("has a Required column: yes for what every stack file must give, each item for a list item's must-haves, no for defaults", () => {
        const row = (key: string) =>
            fs
                .readFileSync(OUTPUT, "utf8")
                .split("\n")
                .find((l) => l.startsWith(`| \`${key}\` |`))
                ?.split(" | ")[1];
        expect(row("environment")).toBe("**yes**");
        expect(row("network.vpcId")).toBe("**yes**");
        expect(row("teams[].name")).toBe("each item");
        expect(row("mlflow.replicas")).toBe("no");
        expect(row("mlflow.database.multiAz")).toBe("no");
    });
});

describe("the stack files' references", () => {
    it("every docs link in Pulumi.<stack>.yaml names a file and a heading that exist", async () => {
        const path = await import("path");
        const root = path.resolve(__dirname, "..");
        const slug = (h: string) =>
            h
                .trim()
                .toLowerCase()
                .replace(/[^\w\- ]/g, "")
                .replace(/ /g, "-");
        for (const stack of ["dev", "test", "prod"]) {
            const text = fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8");
            for (const m of text.matchAll(/([\w./-]+\.md)(?:#([\w-]+))?/g)) {
                const file = path.join(root, m[1]);
                expect(fs.existsSync(file), `Pulumi.${stack}.yaml links ${m[1]}`).toBe(true);
                if (m[2]) {
                    const anchors = fs
                        .readFileSync(file, "utf8")
                        .split("\n")
                        .filter((l) => /^#+ /.test(l))
                        .map((l) => slug(l.replace(/^#+ /, "")));
                    expect(anchors, `Pulumi.${stack}.yaml links ${m[1]}#${m[2]}`).toContain(m[2]);
                }
            }
        }
    });
});
