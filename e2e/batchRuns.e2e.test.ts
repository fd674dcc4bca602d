/**
 * Batch at scale on the real API server of the tier: a BatchInference with `parallelism` 4 and
 * `trigger: "orchestrator"`, as the mocks render it, stored as a suspended CronJob; an orchestrator's
 * service account bound to the batch-run-starter Role (batchRunStarterRules) starts a run the way every
 * orchestrator snippet of docs/team-guide.md does (`kubectl create job --from=cronjob/...`), and the
 * stored Job is an Indexed Job of 4 completions whose pod template gives each pod its shard index. The account cannot
 * change the template nor start runs elsewhere. No controller runs: the Job's pods are not created here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchInference } from "../components/team/batchInference";
import { batchRunStarterRules } from "../components/team/batchOrchestration";
import { BATCH_RUN_STARTER_ROLE } from "../components/contract";
import { runProgram } from "../test/harness";
import { platformRefs } from "../test/modelServiceFixtures";
import { type ApiServer, type KubeObject, startApiServer } from "./lib/apiserver";

const ORCHESTRATOR = {
    as: "system:serviceaccount:airflow:airflow-worker",
    asGroups: ["system:serviceaccounts", "system:serviceaccounts:airflow", "system:authenticated"],
};

describe("an orchestrated, sharded batch job on a real API server", () => {
    let api: ApiServer;
    beforeAll(async () => {
        api = await startApiServer({ prometheusOperatorCrds: ["prometheusrules"] });
        const admin = async (o: KubeObject) => {
            const r = await api.apply(o, { fieldManager: "e2e-fixture" });
            if (r.status >= 300) throw new Error(`${o.kind}: ${JSON.stringify(r.body)}`);
        };
        for (const ns of ["ml-fraud", "ml-recsys", "airflow"]) await admin({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
        await admin({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: BATCH_RUN_STARTER_ROLE, namespace: "ml-fraud" },
            rules: batchRunStarterRules() as any,
        });
        await admin({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: BATCH_RUN_STARTER_ROLE, namespace: "ml-fraud" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: BATCH_RUN_STARTER_ROLE },
            subjects: [{ kind: "ServiceAccount", name: "airflow-worker", namespace: "airflow" }],
        } as any);
        const run = await runProgram(
            () =>
                new BatchInference("nightly", {
                    team: "fraud",
                    owners: ["fraud-ml@acme.io"],
                    platform: platformRefs("dev"),
                    jobName: "fraud-nightly-scoring",
                    modelUri: "models:/fraud-scorer/12",
                    image: { reference: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-batch-scorer:0.9.2" },
                    schedule: "30 2 * * *",
                    input: { prefix: "batch-inputs/fraud/transactions" },
                    resources: { cpuRequest: "1", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "2Gi" },
                    parallelism: 4,
                    trigger: "orchestrator",
                }),
        );
        for (const o of run.k8s().map((x) => x.object as KubeObject)) await admin(o);
    });
    afterAll(async () => {
        await api?.stop();
    });

    it("stores the run template suspended", async () => {
        const r = await api.request("GET", "/apis/batch/v1/namespaces/ml-fraud/cronjobs/fraud-nightly-scoring");
        expect(r.status).toBe(200);
        expect(r.body.spec.suspend).toBe(true);
    });

    it("lets the orchestrator start a run: an Indexed Job of one completion per shard", async () => {
        const created = await api.kubectl(
            ["-n", "ml-fraud", "create", "job", "fraud-nightly-scoring-run-1", "--from=cronjob/fraud-nightly-scoring"],
            ORCHESTRATOR,
        );
        expect(created.code, created.stderr).toBe(0);
        const job = (await api.request("GET", "/apis/batch/v1/namespaces/ml-fraud/jobs/fraud-nightly-scoring-run-1")).body;
        expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 4, parallelism: 4, backoffLimit: 2 });
        const env = job.spec.template.spec.containers[0].env;
        expect(env).toContainEqual({
            name: "MLOPS_SHARD_INDEX",
            valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
        });
        expect(env).toContainEqual({ name: "MLOPS_SHARD_COUNT", value: "4" });
        // It can follow the run.
        const get = await api.kubectl(["-n", "ml-fraud", "get", "job", "fraud-nightly-scoring-run-1", "-o", "name"], ORCHESTRATOR);
        expect(get.stdout.trim()).toBe("job.batch/fraud-nightly-scoring-run-1");
    });

    it("does not let the orchestrator change the template or start runs in another team's namespace", async () => {
        const patch = await api.kubectl(["-n", "ml-fraud", "patch", "cronjob", "fraud-nightly-scoring", "-p", '{"spec":{"suspend":false}}'], ORCHESTRATOR);
        expect(patch.code).not.toBe(0);
        expect(patch.stderr).toContain("forbidden");
        const elsewhere = await api.kubectl(["-n", "ml-recsys", "create", "job", "x", "--image=busybox"], ORCHESTRATOR);
        expect(elsewhere.code).not.toBe(0);
        expect(elsewhere.stderr).toContain("forbidden");
    });
});
