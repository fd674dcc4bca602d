/**
 * BatchInference: every argument rule with its exact error (and that misuse registers nothing), the
 * CronJob and rules it renders, defaults derived from the schedule, and the image build path. Its
 * failure and staleness alerts under promtool: e2e/alertRules.e2e.test.ts.
 */
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { BatchInference, type BatchInferenceArgs, batchRuleGroups, validateBatchInferenceArgs } from "../components/team/batchInference";
import type { Environment } from "../stacks/config";
import { parseCron } from "../components/team/cron";
import { selectorLabels } from "../components/shared/naming";
import { validateObjects } from "../engine/kubernetes";
import { ProgramError } from "../engine/recorder";
import { runProgram, type StackRun } from "./harness";
import { approvalsRecordedIn } from "../components/contract";
import { APPROVAL_12, platformRefs, RUNBOOKS } from "./modelServiceFixtures";

const NOW = new Date("2026-11-22T12:00:00Z");

const DIGEST_REF = `410987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-batch-scorer:0.9.2@sha256:${"b".repeat(64)}`;
const TAG_REF = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-batch-scorer:0.9.2";

function prodArgs(change: Partial<BatchInferenceArgs> = {}): BatchInferenceArgs {
    return {
        team: "fraud",
        owners: ["fraud-ml@acme.io"],
        platform: platformRefs("prod"),
        jobName: "fraud-nightly-scoring",
        modelUri: "models:/fraud-scorer/12",
        alias: "champion",
        previousVersion: 11,
        image: { reference: DIGEST_REF },
        schedule: "30 2 * * *",
        timeZone: "Europe/Berlin",
        input: { prefix: "batch-inputs/fraud/transactions" },
        output: { prefix: "batch-outputs/fraud/nightly-scoring" },
        resources: { cpuRequest: "2", memoryRequest: "4Gi", cpuLimit: "4", memoryLimit: "8Gi" },
        retries: 2,
        deadlineSeconds: 10800,
        ...change,
    };
}

const inEnv = (env: Environment, change: Partial<BatchInferenceArgs> = {}) =>
    prodArgs({
        platform: platformRefs(env),
        ...(env === "prod" ? {} : { approval: undefined }),
        ...(env === "dev" ? { image: { reference: TAG_REF } } : {}),
        ...change,
    });

function errorOf(args: BatchInferenceArgs): string | undefined {
    try {
        validateBatchInferenceArgs("nightly", args, NOW);
    } catch (e) {
        return (e as Error).message;
    }
    return undefined;
}

describe("BatchInference arguments", () => {
    it("accept the nightly scoring in every environment", () => {
        for (const env of ["dev", "test", "prod"] as const) expect(errorOf(inEnv(env))).toBeUndefined();
        expect(
            errorOf(
                inEnv("dev", {
                    modelUri: "models:/fraud-scorer@champion",
                    schedule: "@hourly",
                    deadlineSeconds: undefined,
                    timeZone: undefined,
                    output: undefined,
                }),
            ),
        ).toBeUndefined();
    });

    const cases: [string, Environment, Partial<BatchInferenceArgs>, string][] = [
        [
            "a schedule with a bad minute",
            "prod",
            { schedule: "61 2 * * *" },
            'schedule "61 2 * * *" is not a valid cron expression: minute "61" is out of range 0-59',
        ],
        [
            "a six-field schedule",
            "prod",
            { schedule: "0 30 2 * * *" },
            'schedule "0 30 2 * * *" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6',
        ],
        [
            "a schedule that never runs",
            "prod",
            { schedule: "0 0 31 2 *" },
            'schedule "0 0 31 2 *" is not a valid cron expression: it never runs: no day is both in months 2 and on days-of-month 31',
        ],
        [
            "Sunday as 7",
            "prod",
            { schedule: "0 3 * * 7" },
            'schedule "0 3 * * 7" is not a valid cron expression: day-of-week "7" is out of range 0-6 or SUN-SAT, 0 is Sunday',
        ],
        [
            "a time zone in the schedule",
            "prod",
            { schedule: "CRON_TZ=Europe/Berlin 30 2 * * *" },
            'schedule "CRON_TZ=Europe/Berlin 30 2 * * *" is not a valid cron expression: a time zone inside the schedule (TZ= or CRON_TZ=) is refused by Kubernetes: set timeZone instead',
        ],
        [
            "an unknown time zone",
            "prod",
            { timeZone: "Europe/Atlantis" },
            'timeZone "Europe/Atlantis" is not an IANA time zone name (like Etc/UTC or Europe/Berlin)',
        ],
        ["an offset as time zone", "prod", { timeZone: "+01:00" }, 'timeZone "+01:00" is not an IANA time zone name (like Etc/UTC or Europe/Berlin)'],
        ["five retries", "prod", { retries: 5 }, "retries must be an integer from 0 to 3 (the Job's backoffLimit), got 5"],
        ["negative retries", "prod", { retries: -1 }, "retries must be an integer from 0 to 3 (the Job's backoffLimit), got -1"],
        [
            "a deadline longer than the gap between runs",
            "prod",
            { schedule: "0 * * * *", deadlineSeconds: 7200 },
            "deadlineSeconds (7200) must not exceed the shortest time between two runs (3600 s, 1h): runs never overlap, so a longer run would skip the next",
        ],
        ["a 30 s deadline", "prod", { deadlineSeconds: 30 }, "deadlineSeconds must be an integer from 60 to 86400, got 30"],
        [
            "inputs the role cannot read",
            "prod",
            { input: { prefix: "raw/transactions" } },
            'input.prefix "raw/transactions" must be under batch-inputs/fraud/ or models/fraud/ (the prefixes the team\'s batch role may read)',
        ],
        [
            "inputs of another team",
            "prod",
            { input: { prefix: "batch-inputs/recsys/features" } },
            'input.prefix "batch-inputs/recsys/features" must be under batch-inputs/fraud/ or models/fraud/ (the prefixes the team\'s batch role may read)',
        ],
        [
            "outputs the role cannot write",
            "prod",
            { output: { prefix: "models/fraud/scores" } },
            'output.prefix "models/fraud/scores" must be under batch-outputs/fraud/ (the only prefix the team\'s batch role may write)',
        ],
        [
            "outputs of another team",
            "prod",
            { output: { prefix: "batch-outputs/recsys/scores" } },
            'output.prefix "batch-outputs/recsys/scores" must be under batch-outputs/fraud/ (the only prefix the team\'s batch role may write)',
        ],
        [
            "outputs among the online request logs",
            "prod",
            { output: { prefix: "prediction-logs/fraud/fraud-scorer/batch" } },
            'output.prefix "prediction-logs/fraud/fraud-scorer/batch" must be under batch-outputs/fraud/ (the only prefix the team\'s batch role may write)',
        ],
        ["an unpinned image in test", "test", { image: { reference: TAG_REF } }, `image "${TAG_REF}" must be pinned by digest (repo@sha256:...) in test`],
        ["an unpinned image in prod", "prod", { image: { reference: "x:latest" } }, 'image "x:latest" must be pinned by digest (repo@sha256:...) in prod'],
        [
            "a team-supplied approval in prod",
            "prod",
            { approval: { approvedBy: "jane.doe", ticket: "CHG-10423", date: "2026-11-02" } },
            `approval is no longer taken from the team's stack: ${approvalsRecordedIn("prod")}; remove approval from this workload`,
        ],
        [
            "a version compliance has not approved",
            "prod",
            { modelUri: "models:/fraud-scorer/9", previousVersion: undefined },
            `fraud/fraud-scorer version 9 has no approval: ${approvalsRecordedIn("prod")}`,
        ],
        [
            "an approval dated in the future",
            "prod",
            { platform: { ...platformRefs("prod"), approvals: [{ ...APPROVAL_12, date: "2026-12-24", expires: "2027-01-31" }] } },
            `the approval of fraud/fraud-scorer version 12 (CHG-10423) is dated 2026-12-24, in the future; ${approvalsRecordedIn("prod")}`,
        ],
        [
            "an alias in prod",
            "prod",
            { modelUri: "models:/fraud-scorer@champion" },
            'model URI "models:/fraud-scorer@champion" names the alias "champion"; in prod pin a version (models:/fraud-scorer/<version>): resolve the alias when you deploy',
        ],
        [
            "a malformed model URI",
            "test",
            { modelUri: "models:/fraud-scorer/v12" },
            'model URI "models:/fraud-scorer/v12" has version "v12"; a version is a positive integer',
        ],
        [
            "a job name too long",
            "prod",
            { jobName: `fraud-${"n".repeat(47)}` },
            `jobName "fraud-${"n".repeat(47)}" must be lower-case letters, digits and -, starting with a letter, at most 52 characters`,
        ],
        [
            "a job name with capitals",
            "prod",
            { jobName: "Nightly" },
            'jobName "Nightly" must be lower-case letters, digits and -, starting with a letter, at most 52 characters',
        ],
        ["args that are not strings", "prod", { args: ["score", 3 as unknown as string] }, "args must be a list of strings, got 3 (a number) at args[1]"],
        [
            "an env var the component sets",
            "prod",
            { env: { MLOPS_OUTPUT_URI: "s3://elsewhere/" } },
            'env "MLOPS_OUTPUT_URI" is set by the component; remove it',
        ],
        [
            "requests above limits",
            "prod",
            { resources: { cpuRequest: "2", memoryRequest: "16Gi", cpuLimit: "4", memoryLimit: "8Gi" } },
            "resources.memoryRequest (16Gi) must not exceed resources.memoryLimit (8Gi)",
        ],
        ["no owners", "prod", { owners: [""] }, "owners must name at least one person or group accountable for the model"],
    ];

    it.each(cases)("refuse %s", (_what, env, change, problem) => {
        expect(errorOf(inEnv(env, change))).toBe(`BatchInference "nightly": ${problem}.`);
    });

    it("register nothing when misused", async () => {
        const error = await runProgram(() => {
            new BatchInference("nightly", prodArgs({ schedule: "every night" }));
        }).catch((e) => e);
        expect(error).toBeInstanceOf(ProgramError);
        expect((error as ProgramError).message).toBe(
            'the program failed: BatchInference "nightly": schedule "every night" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 2.',
        );
        expect((error as ProgramError).resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});

const one = (run: StackRun, kind: string) => {
    const found = run.k8sOfKind(kind, "ml-fraud");
    expect(found, kind).toHaveLength(1);
    return found[0] as any;
};

describe("BatchInference in prod", () => {
    let run: StackRun;
    let job: BatchInference;
    beforeAll(async () => {
        run = await runProgram(() => {
            job = new BatchInference("nightly", prodArgs());
        });
    });
    const cronJob = () => one(run, "CronJob");
    const pod = () => cronJob().spec.jobTemplate.spec.template;
    const container = () => pod().spec.containers[0];

    it("renders a valid CronJob, its rules and its operating note, in the team's namespace", async () => {
        const objects = run.k8s().map((o) => o.object);
        expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
            "ConfigMap/fraud-nightly-scoring-operating-note",
            "CronJob/fraud-nightly-scoring",
            "PrometheusRule/fraud-nightly-scoring-alerts",
        ]);
        expect(await validateObjects(objects)).toEqual([]);
        for (const o of objects)
            expect(o.metadata.labels).toMatchObject({ "mlops.acme.io/team": "fraud", "mlops.acme.io/owner": "fraud", "mlops.acme.io/model": "fraud-scorer" });
        expect(
            run
                .children(run.one("mlops:index:BatchInference"))
                .map((c) => c.name)
                .sort(),
        ).toEqual(["nightly-alerts", "nightly-cronjob", "nightly-operating-note"]);
    });

    it("runs on its schedule and time zone, never overlapping, with deadlines, bounded retries and history", () => {
        const spec = cronJob().spec;
        expect(spec).toMatchObject({
            schedule: "30 2 * * *",
            timeZone: "Europe/Berlin",
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 3600,
            suspend: false,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
        });
        expect(spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 10800, ttlSecondsAfterFinished: 604800 });
    });

    it("runs restricted pods as the team's batch identity", () => {
        const p = pod().spec;
        expect(p.restartPolicy).toBe("Never");
        expect(p.serviceAccountName).toBe("batch");
        expect(p.automountServiceAccountToken).toBe(false);
        expect(p.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(container().securityContext).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            runAsNonRoot: true,
        });
        // Ephemeral storage: 1Gi reserved, the limit covers the 4Gi /tmp plus 256Mi of logs and writable layer.
        expect(container().resources).toEqual({
            requests: { cpu: "2", memory: "4Gi", "ephemeral-storage": "1Gi" },
            limits: { cpu: "4", memory: "8Gi", "ephemeral-storage": "4352Mi" },
        });
        expect(p.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "4Gi" } }]);
        expect(pod().metadata.labels).toMatchObject(selectorLabels({ name: "fraud-scorer", instance: "fraud-nightly-scoring", component: "batch-inference" }));
    });

    it("scores the pinned model on its inputs into a partition per run, and pushes its run metrics", () => {
        expect(container().image).toBe(DIGEST_REF);
        expect(container().args).toEqual([
            "score",
            "--model-uri",
            "models:/fraud-scorer/12",
            "--input-uri",
            "$(MLOPS_INPUT_URI)",
            "--output-uri",
            "$(MLOPS_OUTPUT_URI)",
            "--partition",
            "run_date=%Y-%m-%d",
        ]);
        const env = Object.fromEntries(
            container()
                .env.filter((e: any) => e.value !== undefined)
                .map((e: any) => [e.name, e.value]),
        );
        expect(env).toEqual({
            MODEL_URI: "models:/fraud-scorer/12",
            MODEL_NAME: "fraud-scorer",
            MODEL_VERSION: "12",
            MODEL_ALIAS: "champion",
            MLOPS_TEAM: "fraud",
            MLOPS_JOB: "fraud-nightly-scoring",
            MLFLOW_TRACKING_URI: "http://mlflow.mlflow.svc.cluster.local",
            MLOPS_INPUT_URI: "s3://acme-mlops-prod-artifacts/batch-inputs/fraud/transactions/",
            MLOPS_OUTPUT_URI: "s3://acme-mlops-prod-artifacts/batch-outputs/fraud/nightly-scoring/",
            MLOPS_OUTPUT_PARTITION: "run_date=%Y-%m-%d",
            MLOPS_SCHEDULE: "30 2 * * *",
            MLOPS_TIME_ZONE: "Europe/Berlin",
            MLOPS_PUSHGATEWAY_URL: "http://pushgateway.monitoring.svc.cluster.local:9091",
            MLOPS_PUSH_JOB: "fraud-nightly-scoring",
            MLOPS_PUSH_NAMESPACE: "ml-fraud",
            MLOPS_EXPECTED_INTERVAL_SECONDS: "86400",
            HOME: "/tmp",
            TMPDIR: "/tmp",
        });
        expect(job.outputPartition).toBe("run_date=%Y-%m-%d");
    });

    it("labels and annotates the approved model version", () => {
        const cj = cronJob();
        expect(cj.metadata.labels).toMatchObject({
            "mlops.acme.io/model-version": "12",
            "mlops.acme.io/stage": "champion",
            "mlops.acme.io/approval-ticket": "CHG-10423",
        });
        expect(pod().metadata.labels).toMatchObject({ "mlops.acme.io/model-version": "12", "mlops.acme.io/approved-by": "jane.doe" });
        expect(cj.metadata.annotations).toMatchObject({
            "mlops.acme.io/approved-by": "jane.doe",
            "mlops.acme.io/approval-date": "2026-11-02",
            "mlops.acme.io/previous-version": "11",
        });
    });

    it("alerts on its failed runs and when no run succeeded for 1.5 times the longest gap", () => {
        const rule = one(run, "PrometheusRule");
        expect(rule.spec.groups).toEqual(
            batchRuleGroups({
                team: "fraud",
                jobName: "fraud-nightly-scoring",
                schedule: parseCron("30 2 * * *"),
                timeZone: "Europe/Berlin",
                runbookBaseUrl: RUNBOOKS,
            }),
        );
        const stale = rule.spec.groups[0].rules.find((r: any) => r.alert === "BatchJobStale");
        expect(stale.expr).toBe(
            'time() - max by (namespace, job) (mlops_batch_job_last_success_timestamp_seconds{namespace="ml-fraud", job="fraud-nightly-scoring"}) > 129600',
        );
        expect(job.staleAfterSeconds).toBe(129600);
    });

    it("ships its operating note with schedule, partitions, alerts, rollback and backfill", () => {
        const note = run.k8sOfKind("ConfigMap", "ml-fraud")[0] as any;
        expect(note.data["README.md"]).toBe(job.operatingNote);
        const md = job.operatingNote;
        expect(md).toContain("| Schedule | 30 2 * * * (Europe/Berlin); a run every 1d |");
        expect(md).toContain(
            "| Output | s3://<artifact bucket>/batch-outputs/fraud/nightly-scoring/run_date=%Y-%m-%d/ (strftime of the scheduled time, Europe/Berlin) |",
        );
        expect(md).toContain(`| BatchJobStale | warning | no successful run for 1d 12h, for 10m | [batch-job-stale](${RUNBOOKS}/batch-job-stale.md) |`);
        expect(md).toContain(
            "set this job's `modelUri` to `models:/fraud-scorer/11` and `previousVersion` to `12` (version 11 and its image must still be approved in approvals/prod.yaml of the platform)",
        );
        expect(md).toContain("kubectl -n ml-fraud create job fraud-nightly-scoring-manual-$(date +%s) --from=cronjob/fraud-nightly-scoring");
    });
});

describe("BatchInference defaults", () => {
    it("derive the job name, output prefix, deadline and partition from the model and schedule", async () => {
        let job!: BatchInference;
        const run = await runProgram(() => {
            job = new BatchInference("hourly", {
                ...prodArgs({
                    schedule: "15 */2 * * *",
                    timeZone: undefined,
                    jobName: undefined,
                    output: undefined,
                    deadlineSeconds: undefined,
                    retries: undefined,
                }),
            });
        });
        const cj = one(run, "CronJob");
        expect(cj.metadata.name).toBe("fraud-scorer-batch");
        expect(cj.spec.timeZone).toBe("Etc/UTC");
        expect(cj.spec.startingDeadlineSeconds).toBe(3600);
        expect(cj.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 7200 });
        expect(job.outputPartition).toBe("run_date=%Y-%m-%d/run_time=%H%M");
        const env = cj.spec.jobTemplate.spec.template.spec.containers[0].env;
        expect(env.find((e: any) => e.name === "MLOPS_OUTPUT_URI").value).toBe("s3://acme-mlops-prod-artifacts/batch-outputs/fraud/fraud-scorer-batch/");
        expect(env.find((e: any) => e.name === "MLOPS_EXPECTED_INTERVAL_SECONDS").value).toBe("7200");
    });

    it("build and push their image, and run the pushed digest", async () => {
        const make = (platform: BatchInferenceArgs["platform"]) =>
            new BatchInference(
                "nightly",
                prodArgs({ image: { build: { context: path.join("examples", "team-fraud", "model-server") } }, args: ["python", "/app/score.py"], platform }),
            );
        // The build is pushed first (in test, where nothing is looked up); compliance then approves its digest.
        const pushed = await runProgram(() => make(platformRefs("test")));
        const built = String(pushed.one("docker:index/image:Image").outputs.repoDigest).split("@")[1];
        const run = await runProgram(() =>
            make({ ...platformRefs("prod"), approvals: [{ ...APPROVAL_12, imageDigests: [...APPROVAL_12.imageDigests, built] }] }),
        );
        expect(run.inputs(run.one("aws:ecr/repository:Repository")).name).toBe("ml-fraud/fraud-nightly-scoring");
        const digest = run.one("docker:index/image:Image").outputs.repoDigest as string;
        const c = one(run, "CronJob").spec.jobTemplate.spec.template.spec.containers[0];
        expect(c.image).toBe(digest);
        expect(digest).toMatch(/@sha256:[a-f0-9]{64}$/);
        expect(c.args).toEqual(["python", "/app/score.py"]);
    });
});
