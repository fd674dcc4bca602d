/**
 * Orchestrated batch runs: the team's orchestrators (mlops:teams[].orchestrators) get the
 * batch-run-starter Role in its namespace (start and follow runs, nothing else), and a BatchInference
 * with `trigger: "orchestrator"` keeps its CronJob suspended as the run template.
 */
import { describe, expect, it } from "vitest";
import { BatchInference, validateBatchInferenceArgs } from "../components/team/batchInference";
import { batchRunStarterRules } from "../components/team/batchOrchestration";
import { readProject, readStackConfig } from "../engine/project";
import { ROOT, runProgram, runStack } from "./harness";
import { platformRefs } from "./modelServiceFixtures";

const NOW = new Date("2026-11-22T12:00:00Z");

describe("the team's orchestrators", () => {
    it("get a Role to start and follow runs in the team's namespace only, from the platform configuration", async () => {
        const teams = JSON.parse(readStackConfig(readProject(ROOT), "dev").config["mlops:teams"]);
        teams[0].orchestrators = [
            { namespace: "airflow", serviceAccount: "airflow-worker" },
            { namespace: "kubeflow", serviceAccount: "pipeline-runner" },
        ];
        const run = await runStack("dev", { "mlops:teams": JSON.stringify(teams) });
        const role = run.k8sObject("Role", "batch-run-starter") as any;
        expect(role.metadata.namespace).toBe(`ml-${teams[0].name}`);
        expect(role.rules).toEqual(batchRunStarterRules());
        // No write to CronJobs (the template), nothing outside batch runs.
        expect(role.rules.find((r: any) => r.resources.includes("cronjobs")).verbs).toEqual(["get", "list", "watch"]);
        const binding = run.k8sObject("RoleBinding", "batch-run-starter") as any;
        expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "batch-run-starter" });
        expect(binding.subjects).toEqual([
            { kind: "ServiceAccount", name: "airflow-worker", namespace: "airflow" },
            { kind: "ServiceAccount", name: "pipeline-runner", namespace: "kubeflow" },
        ]);
    });

    it("get nothing when the configuration names none", async () => {
        const run = await runStack("dev");
        expect(run.k8sOfKind("Role").map((r) => r.metadata.name)).not.toContain("batch-run-starter");
    });
});

describe("trigger: orchestrator", () => {
    const args = {
        team: "fraud",
        owners: ["fraud-ml@acme.io"],
        platform: platformRefs("dev"),
        jobName: "fraud-nightly-scoring",
        modelUri: "models:/fraud-scorer/12",
        image: { reference: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-batch-scorer:0.9.2" },
        schedule: "30 2 * * *",
        input: { prefix: "batch-inputs/fraud/transactions" },
        resources: { cpuRequest: "1", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "2Gi" },
        trigger: "orchestrator" as const,
    };

    it("keeps the CronJob suspended as the run template", async () => {
        const run = await runProgram(() => new BatchInference("nightly", args));
        expect((run.k8sObject("CronJob", "fraud-nightly-scoring") as any).spec.suspend).toBe(true);
    });

    it("refuses suspend: false and an unknown trigger", () => {
        expect(() => validateBatchInferenceArgs("n", { ...args, suspend: false }, NOW)).toThrow("suspend: false contradicts trigger orchestrator");
        expect(() => validateBatchInferenceArgs("n", { ...args, trigger: "webhook" as never }, NOW)).toThrow(
            'trigger "webhook" must be schedule or orchestrator',
        );
    });
});
