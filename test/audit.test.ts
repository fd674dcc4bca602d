/**
 * The plan's audit exports (engine/audit.ts): every policy's result per resource (violation, pass, not
 * applicable with its reason, accepted exception with its reason) with its controls, and SARIF 2.1.0
 * that validates against the OASIS schema. test/planCli.test.ts checks the files a real `plan --sarif
 * --results` run writes.
 */
import { describe, expect, it } from "vitest";
import { planResults, sarifLog } from "../engine/audit";
import type { PolicyReport } from "../engine/policies";
import type { RecordedResource } from "../engine/recorder";
import { policyCatalogue } from "../policy/reports/catalogue";
import { parsePolicyExceptions } from "../policy/reports/exceptions";
import { validateSarif } from "./sarifSchema";

const urn = (type: string, name: string) => `urn:pulumi:dev::mlops::${type}::${name}`;
const resource = (type: string, name: string): RecordedResource => ({ urn: urn(type, name), type, name, inputs: {} }) as unknown as RecordedResource;
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const BUCKET = "aws:s3/bucket:Bucket";
const catalogue = policyCatalogue();
const pack = (name: string) => ({
    dir: `policy/${name}`,
    name,
    version: "0.1.0",
    pluginVersion: "1.21.0",
    config: { "pod-no-host-path": { enforcementLevel: "disabled" } } as any,
    policies: catalogue.policies.filter((p) => p.pack === name).map((p) => ({ name: p.name, enforcementLevel: "mandatory" })) as any,
    output: [],
});
const report = {
    packs: [pack("mlops-security"), pack("mlops-governance")],
    violations: [
        {
            policyPackName: "mlops-security",
            policyPackVersion: "0.1.0",
            policyName: "pod-run-as-non-root",
            message: "runs as root",
            enforcementLevel: "mandatory",
            urn: urn(DEPLOYMENT, "scorer"),
            stage: "resource",
            remediationSteps: "",
        },
        {
            policyPackName: "mlops-governance",
            policyPackVersion: "0.1.0",
            policyName: "image-registry-allowed",
            message: "from Docker Hub",
            enforcementLevel: "advisory",
            urn: urn(DEPLOYMENT, "mlflow-postgres-statefulset"),
            stage: "resource",
            remediationSteps: "",
        },
        {
            policyPackName: "mlops-security",
            policyPackVersion: "0.1.0",
            policyName: "s3-bucket-tls-only",
            message: "no TLS-only policy",
            enforcementLevel: "mandatory",
            urn: urn(BUCKET, "artifacts"),
            stage: "stack",
            remediationSteps: "",
        },
    ],
    notApplicable: [
        { urn: urn(DEPLOYMENT, "scorer"), policyPackName: "mlops-governance", policyName: "model-approval-record", reason: "applies in prod only, not in dev" },
    ],
    remediations: [],
} as unknown as PolicyReport;
const exceptions = parsePolicyExceptions(
    "| Stack | Policy | Resource | Reason | Revisit when |\n|---|---|---|---|---|\n| dev | image-registry-allowed | mlflow-postgres-statefulset | dev-only Postgres from Docker Hub | mirrored |\n",
);
const results = planResults({
    project: "mlops",
    exceptionStack: "dev",
    stack: "dev",
    report,
    resources: [
        resource(DEPLOYMENT, "scorer"),
        resource(DEPLOYMENT, "mlflow-postgres-statefulset"),
        resource(BUCKET, "artifacts"),
        resource("pulumi:pulumi:Stack", "mlops-dev"),
    ],
    catalogue,
    exceptions,
    now: new Date("2026-12-01T10:00:00Z"),
});
const of = (name: string, policy: string) => results.resources.find((r) => r.name === name)!.results.filter((x) => x.policy === policy);

describe("the results file", () => {
    it("has every policy of every pack that ran for every resource, and leaves the stack and components out", () => {
        expect(results.resources.map((r) => r.name)).toEqual(["scorer", "mlflow-postgres-statefulset", "artifacts"]);
        const resourcePolicies = catalogue.policies.filter((p) => ["mlops-security", "mlops-governance"].includes(p.pack) && p.kind === "resource").length;
        expect(results.resources.find((r) => r.name === "scorer")!.results.length).toBe(resourcePolicies);
    });
    it("says violation, accepted exception (with the documented reason), not applicable (with the policy's reason, the type, or disabled) and pass", () => {
        expect(of("scorer", "pod-run-as-non-root")).toEqual([
            {
                pack: "mlops-security",
                policy: "pod-run-as-non-root",
                status: "violation",
                level: "mandatory",
                message: "runs as root",
                controls: expect.arrayContaining(["PSS:restricted"]),
            },
        ]);
        expect(of("mlflow-postgres-statefulset", "image-registry-allowed")[0]).toMatchObject({
            status: "accepted-exception",
            level: "advisory",
            reason: "dev-only Postgres from Docker Hub",
        });
        expect(of("scorer", "model-approval-record")[0]).toMatchObject({ status: "not-applicable", reason: "applies in prod only, not in dev" });
        expect(of("scorer", "rds-multi-az")[0]).toMatchObject({ status: "not-applicable", reason: `does not look at ${DEPLOYMENT}` });
        expect(of("scorer", "pod-no-host-path")[0]).toMatchObject({ status: "not-applicable", reason: "disabled in this stack's policy config" });
        expect(of("scorer", "pod-no-privileged")[0]).toMatchObject({ status: "pass", controls: expect.arrayContaining(["PSS:baseline"]) });
        expect(of("artifacts", "s3-bucket-tls-only")[0]).toMatchObject({ status: "violation" });
        expect(results.stackPolicies.find((p) => p.policy === "s3-bucket-tls-only")).toMatchObject({ status: "violation", violations: 1 });
        expect(results.stackPolicies.find((p) => p.policy === "s3-bucket-versioning-enabled")).toMatchObject({ status: "pass", violations: 0 });
        expect(results.summary.violation).toBe(2);
        expect(results.summary["accepted-exception"]).toBe(1);
    });
});

describe("the SARIF log", () => {
    const log = sarifLog({
        tool: { name: "mlops-plan", version: "0.1.0" },
        catalogue,
        runs: [{ results, stackFile: "Pulumi.dev.yaml", commit: "0".repeat(40) }],
    });
    it("validates against the SARIF 2.1.0 schema", () => {
        expect(validateSarif(log)).toEqual([]);
    });
    it("the schema check can fail", () => {
        const bad = JSON.parse(JSON.stringify(log));
        bad.runs[0].results[0].level = "fatal";
        expect(validateSarif(bad).length).toBeGreaterThan(0);
        expect(validateSarif({ version: "2.0.0", runs: [] }).length).toBeGreaterThan(0);
    });
    it("has the policies of the packs that ran as rules, findings as results, the exception suppressed with its reason", () => {
        const run = (log.runs as any[])[0];
        expect(run.tool.driver.rules.length).toBe(catalogue.policies.filter((p) => ["mlops-security", "mlops-governance"].includes(p.pack)).length);
        expect(
            run.results.map((r: any) => [r.ruleId, r.level, r.locations[0].logicalLocations[0].fullyQualifiedName, r.suppressions?.[0]?.justification]),
        ).toEqual([
            ["pod-run-as-non-root", "error", urn(DEPLOYMENT, "scorer"), undefined],
            ["image-registry-allowed", "warning", urn(DEPLOYMENT, "mlflow-postgres-statefulset"), "dev-only Postgres from Docker Hub"],
            ["s3-bucket-tls-only", "error", urn(BUCKET, "artifacts"), undefined],
        ]);
        const rule = run.tool.driver.rules[run.results[0].ruleIndex];
        expect(rule).toMatchObject({
            id: "pod-run-as-non-root",
            properties: { severity: expect.any(String), controls: expect.arrayContaining(["PSS:restricted"]) },
        });
        expect(run.properties).toMatchObject({ project: "mlops", stack: "dev", commit: "0".repeat(40) });
    });
});
