/**
 * Bounded Jobs and CronJobs beyond overlap, deadlines and retries: job-runs-bounded (a Job's deadline and
 * retries) and cronjob-history-bounded (finished runs kept few and deleted after a TTL), each on a
 * compliant object and on one defect at a time, with the policy's message; and their admission rules.
 */
import { describe, expect, it } from "vitest";
import { admissionRules } from "../policy/framework/admission";
import { readPackConfig } from "../policy/framework/configFiles";
import { PACKS } from "../policy/packs";
import { cronjobHistoryBounded } from "../policy/rules/reliability/cronjobHistoryBounded";
import { JOB_TYPES, jobRunsBounded } from "../policy/rules/reliability/jobRunsBounded";
import * as f from "./policies/fixtures";
import {
    assertHasResourceViolation,
    assertNoResourceViolations,
    createResourceValidationArgs,
    resourcePolicy,
    runResourcePolicy,
    variant,
} from "./policies/util";

/** A Job as MlflowTeamAccess renders one: deadline, retries, no TTL (the stack owns it). */
function job(): Record<string, any> {
    const template = f.modelCronJob().spec.jobTemplate.spec.template;
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "users", namespace: "mlflow", labels: { ...f.OWNERSHIP } },
        spec: { backoffLimit: 3, activeDeadlineSeconds: 900, template },
    };
}

describe("job-runs-bounded", () => {
    const policy = resourcePolicy(jobRunsBounded);
    const args = (mutate: (j: Record<string, any>) => void = () => {}) =>
        createResourceValidationArgs(JOB_TYPES[0], variant(job(), mutate), { factory: jobRunsBounded });

    it("passes a Job with a deadline and at most 3 retries, without a TTL", async () => {
        await assertNoResourceViolations(policy, args());
    });
    it("reports a missing deadline", async () => {
        await assertHasResourceViolation(
            policy,
            args((j) => delete j.spec.activeDeadlineSeconds),
            "Job mlflow/users does not set spec.activeDeadlineSeconds.",
        );
    });
    it("reports unset or too many retries", async () => {
        await assertHasResourceViolation(
            policy,
            args((j) => delete j.spec.backoffLimit),
            "Job mlflow/users does not set spec.backoffLimit (the default is 6); set it to at most 3.",
        );
        await assertHasResourceViolation(
            policy,
            args((j) => (j.spec.backoffLimit = 4)),
            "Job mlflow/users retries 4 times; expected a backoffLimit of at most 3.",
        );
    });
    it("reports one message per defect, nothing else", async () => {
        const run = await runResourcePolicy(
            policy,
            args((j) => (j.spec.backoffLimit = 4)),
        );
        expect(run.violations.map((v) => v.message)).toEqual(["Job mlflow/users retries 4 times; expected a backoffLimit of at most 3."]);
    });
});

describe("cronjob-history-bounded", () => {
    const policy = resourcePolicy(cronjobHistoryBounded);
    const args = (mutate: (c: Record<string, any>) => void = () => {}) =>
        createResourceValidationArgs(f.CRONJOB, variant(f.modelCronJob(), mutate), { factory: cronjobHistoryBounded });
    const REF = "CronJob team-fraud/fraud-batch";

    it("passes a CronJob with small history limits (or Kubernetes' defaults) and a TTL", async () => {
        await assertNoResourceViolations(policy, args());
        await assertNoResourceViolations(
            policy,
            args((c) => (delete c.spec.successfulJobsHistoryLimit, delete c.spec.failedJobsHistoryLimit)),
        );
    });
    it("reports a large history of either outcome", async () => {
        await assertHasResourceViolation(
            policy,
            args((c) => (c.spec.successfulJobsHistoryLimit = 10)),
            `${REF} keeps 10 finished jobs (spec.successfulJobsHistoryLimit); expected at most 3.`,
        );
        await assertHasResourceViolation(
            policy,
            args((c) => (c.spec.failedJobsHistoryLimit = 5)),
            `${REF} keeps 5 finished jobs (spec.failedJobsHistoryLimit); expected at most 3.`,
        );
    });
    it("reports a job template without ttlSecondsAfterFinished", async () => {
        await assertHasResourceViolation(
            policy,
            args((c) => delete c.spec.jobTemplate.spec.ttlSecondsAfterFinished),
            `${REF} does not set spec.jobTemplate.spec.ttlSecondsAfterFinished.`,
        );
    });
});

describe("their admission rules", () => {
    const rules = (environment: "dev" | "prod") =>
        admissionRules({ packs: PACKS, environment, labelDomain: "acme.io", config: (pack) => readPackConfig(environment, pack) });

    it("judge Jobs (a team's, its CronJobs' and its orchestrators') and CronJobs, denying in prod and auditing in dev", () => {
        const prod = rules("prod");
        const jobs = prod.find((r) => r.policy === "job-runs-bounded")!;
        expect(jobs.spec.matchConstraints.resourceRules).toEqual([
            { apiGroups: ["batch"], apiVersions: ["v1"], resources: ["jobs"], operations: ["CREATE", "UPDATE"] },
        ]);
        expect(jobs.spec.validations.map((v) => v.expression)).toEqual([
            "has(object.spec.activeDeadlineSeconds)",
            "has(object.spec.backoffLimit) && object.spec.backoffLimit <= 3",
        ]);
        expect(jobs.validationActions).toEqual(["Deny"]);
        const history = prod.find((r) => r.policy === "cronjob-history-bounded")!;
        expect(history.spec.validations.map((v) => v.expression)).toEqual([
            "(has(object.spec.successfulJobsHistoryLimit) ? object.spec.successfulJobsHistoryLimit : 3) <= 3",
            "(has(object.spec.failedJobsHistoryLimit) ? object.spec.failedJobsHistoryLimit : 1) <= 3",
            "has(object.spec.jobTemplate.spec.ttlSecondsAfterFinished)",
        ]);
        expect(rules("dev").find((r) => r.policy === "job-runs-bounded")!.validationActions).toEqual(["Audit"]);
    });
});
