/**
 * The baseline coverage matrix (policy/reports/coverage.ts): every resource type the platform and example
 * team stacks create has a row for each control that applies (FSBP, Pod Security Standards, CIS
 * Kubernetes, NSA/CISA), mapped to an existing policy with its levels or to an exception with its reason;
 * docs/coverage.md and docs/coverage.json are what `npm run policy:coverage` writes.
 */
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { BASELINE, coverageJson, coverageMarkdown, coverageRows, isCoveredType } from "../policy/reports/coverage";
import { PACKS } from "../policy/packs";
import { ROOT, runProject, runStack, stackReferenceOutputs, STACKS } from "./harness";

let types: string[] = [];
beforeAll(async () => {
    const all = new Set<string>();
    for (const stack of STACKS) {
        const platform = await runStack(stack);
        platform.resources.forEach((r) => all.add(r.type));
        const team = await runProject(path.join(ROOT, "examples", "team-fraud"), stack, {
            stackReferences: { [`acme/mlops/${stack}`]: stackReferenceOutputs(platform) },
        });
        team.resources.forEach((r) => all.add(r.type));
    }
    types = [...all].sort();
}, 120_000);

describe("the baseline coverage matrix", () => {
    it("has no unmapped row: every created type has its controls' policies or exceptions, or a reason no control applies", () => {
        const rows = coverageRows(types);
        expect(rows.filter((r) => r.unmapped).map((r) => `${r.type} ${r.control ?? ""}: ${r.unmapped}`)).toEqual([]);
        const covered = new Set(rows.map((r) => r.type));
        expect(types.filter(isCoveredType).filter((t) => !covered.has(t))).toEqual([]);
        expect(rows.length).toBeGreaterThan(80);
    });

    it("reports a type nothing accounts for, and a control whose policy does not exist", () => {
        expect(coverageRows(["aws:sqs/queue:Queue"])).toEqual([
            { type: "aws:sqs/queue:Queue", unmapped: "no control of the baselines is mapped to this type and NO_CONTROL gives no reason" },
        ]);
        const names = new Set(PACKS.flatMap((p) => p.policies.map((f) => f.meta.name)));
        for (const c of BASELINE) for (const p of c.policies ?? []) expect(names.has(p), `${c.framework} ${c.control}: ${p}`).toBe(true);
        for (const c of BASELINE)
            expect(Boolean(c.policies?.length) !== Boolean(c.exception), `${c.framework} ${c.control}: a policy or an exception, not both`).toBe(true);
    });

    it("covers the services the issue names: S3, KMS, IAM, RDS, ECR, security groups, EKS access entries, and the Kubernetes hardening areas", () => {
        const rows = coverageRows(types);
        for (const prefix of [
            "aws:s3/",
            "aws:kms/",
            "aws:iam/",
            "aws:rds/",
            "aws:ecr/",
            "aws:ec2/securityGroup",
            "aws:vpc/securityGroupIngressRule",
            "aws:eks/accessEntry",
        ]) {
            expect(
                rows.some((r) => r.type.startsWith(prefix) && r.control),
                prefix,
            ).toBe(true);
        }
        for (const area of ["restricted: runAsNonRoot", "5.1.6", "Network separation", "Jobs: bounded runs", "5.1.3"])
            expect(
                rows.some((r) => r.control === area),
                area,
            ).toBe(true);
    });

    it("is what docs/coverage.md and docs/coverage.json hold (npm run policy:coverage)", () => {
        expect(fs.readFileSync(path.join(ROOT, "docs", "coverage.md"), "utf8")).toBe(coverageMarkdown(types));
        expect(fs.readFileSync(path.join(ROOT, "docs", "coverage.json"), "utf8")).toBe(coverageJson(types));
    });
});
