/**
 * Scheduled scoring with one registered model version: a CronJob in the owning team's serving
 * namespace that reads inputs from the artifact bucket and writes predictions to a new partition per
 * run, so history is kept.
 *
 * Runs never overlap (`concurrencyPolicy: Forbid`), must start soon after their scheduled time and
 * finish within a deadline, retry a bounded number of times, and run as the team's batch identity (the
 * `batch` service account: it reads the team's models and batch inputs, writes only its batch outputs)
 * with the restricted security context. A PrometheusRule narrows the platform's batch alerts to this
 * job: BatchJobFailed for its failed runs, and BatchJobStale with a window derived from the schedule
 * (the longest gap between two runs times STALE_FACTOR). Its operating note is a ConfigMap and the
 * {@link BatchInference.operatingNote} output.
 *
 * The job contract (docs/team-guide.md): the image scores `MODEL_URI` on the objects under
 * `MLOPS_INPUT_URI`, writes to `MLOPS_OUTPUT_URI` + the partition `MLOPS_OUTPUT_PARTITION` (a strftime
 * template) of the run's scheduled time in `MLOPS_TIME_ZONE` (the latest time of `MLOPS_SCHEDULE` at or
 * before the start, or `MLOPS_SCHEDULED_TIME` when set for a backfill), overwriting that partition on a
 * retry, and on success pushes the `mlops_batch_job_*` metrics to the Pushgateway.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { approvalsFile } from "../contract";
import { type AlertName, alertSignals, type RuleGroup, STALE_FACTOR, type StaleWindow, workloadAlertGroups } from "../shared/alertRules";
import { opt, req, type Shape, type ShapeOf } from "./argShape";
import type { ResourceSettings } from "../shared/resources";
import {
    CronError,
    type CronSchedule,
    formatDuration,
    isIanaTimeZone,
    parseCron,
    partitionTemplate,
    runGaps,
    runMinutesOfDay,
    stalenessWindowSeconds,
} from "./cron";
import { containerResources, ephemeralStorage, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../shared/k8sHelpers";
import {
    checkWorkloadArgs,
    commonProblems,
    DEFAULT_BATCH_SERVICE_ACCOUNT,
    DEFAULT_WORKLOAD_UID,
    defaultRepositoryName,
    deployedImage,
    extraEnvProblems,
    imageDescription,
    type ImageSource,
    imageProblems,
    mlflowEnv,
    modelEnv,
    modelWorkloadAnnotations,
    modelWorkloadLabels,
    type PlatformRefs,
    prometheusRuleSpec,
    stampedMetadata,
    teamLabelContext,
    workloadNoteFacts,
    type WorkloadNoteInput,
    workloadApproval,
    workloadNoteInput,
    WORKLOAD_COMMON_SHAPE,
} from "./modelWorkload";
import { indexedJobFields, parallelismProblems, SHARD_ENV, shardEnv } from "./batchSharding";
import { type BatchTrigger, triggerProblems } from "./batchOrchestration";
import { type ApprovalRecord, isUnderPrefix, modelVersionUri, parseModelUri } from "./modelUri";
import { selectorLabels } from "../shared/naming";
import { type OperatingNote, renderOperatingNote } from "./operatingNote";
import { batchInputPrefix, batchOutputPrefix, modelPrefix, ORG_LABELS, orgKey, servingNamespaceName } from "../contract";

/** CronJob names are limited to 52 characters (the controller appends an 11-character suffix to Job names). */
export const JOB_NAME_MAX = 52;
/** Largest retry count (backoffLimit): a failing run should alert, not retry for hours. */
export const MAX_RETRIES = 3;
/** Longest run deadline accepted. */
export const MAX_DEADLINE_SECONDS = 24 * 3600;
/** Default run deadline, when the schedule leaves more time. */
export const DEFAULT_DEADLINE_SECONDS = 6 * 3600;
/** Finished Jobs (and their pods' logs) are kept this long; deleting a failed one resolves BatchJobFailed. */
export const JOB_TTL_SECONDS = 7 * 24 * 3600;

/** Environment variables the component sets (a team's `env` may not override them). */
export const BATCH_ENV = [
    "MODEL_URI",
    "MODEL_NAME",
    "MODEL_VERSION",
    "MODEL_ALIAS",
    "MLOPS_TEAM",
    "MLOPS_JOB",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLOPS_INPUT_URI",
    "MLOPS_OUTPUT_URI",
    "MLOPS_OUTPUT_PARTITION",
    "MLOPS_SCHEDULE",
    "MLOPS_TIME_ZONE",
    "MLOPS_PUSHGATEWAY_URL",
    "MLOPS_PUSH_JOB",
    "MLOPS_PUSH_NAMESPACE",
    "MLOPS_EXPECTED_INTERVAL_SECONDS",
    "HOME",
    "TMPDIR",
] as const;

// ---------------------------------------------------------------------------------------------
// Pure helpers: timing, rules, the operating note.
// ---------------------------------------------------------------------------------------------

/** When a run must start and how long it may take, from the schedule. */
export interface BatchTiming {
    readonly minGapSeconds: number;
    readonly maxGapSeconds: number;
    /** A run that could not start within this long after its time is skipped (half the shortest gap, at most an hour). */
    readonly startingDeadlineSeconds: number;
    /** Time since the last success after which the job is stale. */
    readonly staleAfterSeconds: number;
    /** The default run deadline: the shortest gap, at most 6 hours. */
    readonly defaultDeadlineSeconds: number;
}

/** The timing of a schedule's runs. */
export function batchTiming(schedule: CronSchedule): BatchTiming {
    const { minGapSeconds, maxGapSeconds } = runGaps(schedule);
    return {
        minGapSeconds,
        maxGapSeconds,
        startingDeadlineSeconds: Math.min(Math.floor(minGapSeconds / 2), 3600),
        staleAfterSeconds: stalenessWindowSeconds(schedule),
        defaultDeadlineSeconds: Math.min(minGapSeconds, DEFAULT_DEADLINE_SECONDS),
    };
}

/** Default output prefix of a job: its own folder of the team's batch outputs. */
export function defaultOutputPrefix(team: string, jobName: string): string {
    return `${batchOutputPrefix(team)}/${jobName}`;
}

/** The alerts of a batch job, in the order the operating note lists them. */
export const BATCH_ALERTS: readonly AlertName[] = ["BatchJobFailed", "BatchJobStale"];

/** When a job is stale: 1.5 times the longest gap between two runs of its schedule, with the words of its alert. */
export function staleWindow(schedule: CronSchedule, timeZone: string): StaleWindow {
    const seconds = stalenessWindowSeconds(schedule);
    return { seconds, schedule: schedule.expression, timeZone, maxGap: formatDuration(runGaps(schedule).maxGapSeconds), window: formatDuration(seconds) };
}

/** Alert rules of one job: its failed runs, and staleness with the window its schedule implies. */
export function batchRuleGroups(o: { team: string; jobName: string; schedule: CronSchedule; timeZone: string; runbookBaseUrl: string }): RuleGroup[] {
    return workloadAlertGroups({
        team: o.team,
        namespace: servingNamespaceName(o.team),
        instance: o.jobName,
        alerts: BATCH_ALERTS,
        scope: [
            ["kube_job_", `job_name=~"${o.jobName}-[0-9]+"`],
            ["mlops_batch_job_", `job="${o.jobName}"`],
        ],
        stale: staleWindow(o.schedule, o.timeZone),
        runbookBaseUrl: o.runbookBaseUrl,
    });
}

/** What the operating note of a batch job says. */
export interface BatchNoteInput extends WorkloadNoteInput {
    readonly jobName: string;
    readonly schedule: CronSchedule;
    readonly timeZone: string;
    readonly timing: BatchTiming;
    readonly deadlineSeconds: number;
    readonly retries: number;
    readonly inputPrefix: string;
    readonly outputPrefix: string;
    readonly partition: string;
    readonly runbookBaseUrl: string;
}

/** The operating note of a batch job. */
export function batchInferenceNote(i: BatchNoteInput): OperatingNote {
    const ns = servingNamespaceName(i.team);
    const cj = `cronjob/${i.jobName}`;
    const first = runMinutesOfDay(i.schedule)[0];
    const firstRun = `${String(Math.floor(first / 60)).padStart(2, "0")}:${String(first % 60).padStart(2, "0")}`;
    const backfill = [
        "```sh",
        `# Re-run the last scheduled run (rewrites its partition):`,
        `kubectl -n ${ns} create job ${i.jobName}-manual-$(date +%s) --from=${cj}`,
        `# Backfill the run scheduled at a given time (its partition):`,
        `kubectl -n ${ns} create job ${i.jobName}-backfill-$(date +%s) --from=${cj} --dry-run=client -o yaml \\`,
        `  | kubectl set env --local -f - MLOPS_SCHEDULED_TIME=<YYYY-MM-DD>T${firstRun}:00 -o yaml | kubectl -n ${ns} create -f -`,
        "```",
    ].join("\n");
    const rollback: string[] = [];
    if (i.previousVersion !== undefined && "version" in i.model) {
        rollback.push(
            `**Roll back the model** to version ${i.previousVersion}: in the team's stack, set this job's \`modelUri\` to \`${modelVersionUri(i.model.name, i.previousVersion)}\` and \`previousVersion\` to \`${i.model.version}\`` +
                (i.environment === "prod"
                    ? ` (version ${i.previousVersion} and its image must still be approved in ${approvalsFile(i.environment)} of the platform)`
                    : "") +
                ", then deploy. The next scheduled run uses it.",
            [
                "```sh",
                "pulumi preview --diff   # only the model version (and its labels) change",
                "pulumi up",
                `kubectl -n ${ns} get ${cj} -L ${orgKey(i.labelDomain, ORG_LABELS.modelVersion)}`,
                "```",
            ].join("\n"),
            `Then re-run the partitions version ${i.model.version} wrote, oldest first (below), and point the registry alias back (docs/registry-conventions.md#rollback).`,
        );
    } else {
        rollback.push(
            "**No previous version is recorded** (`previousVersion`): this is the first version. To stop the job, suspend it (`kubectl -n " +
                ns +
                " patch " +
                cj +
                ' -p \'{"spec":{"suspend":true}}\'`, and `suspend: true` in the stack so `pulumi up` keeps it suspended).',
        );
    }
    rollback.push("**Re-run or backfill** a run (the job writes the partition of its scheduled time, replacing what a failed or bad run left):", backfill);
    return {
        title: `${i.jobName}: scheduled batch scoring`,
        summary:
            `Scores the inputs under \`${i.inputPrefix}/\` with the registered model \`${i.model.name}\` (${i.modelUri}) for team ${i.team} in ${i.environment}, ` +
            `on the schedule \`${i.schedule.expression}\` (${i.timeZone}), and writes each run's predictions to its own partition \`${i.outputPrefix}/${i.partition}/\` of the artifact bucket, so earlier runs are kept.`,
        facts: [
            ...workloadNoteFacts(i, "at each run"),
            [
                "Schedule",
                `${i.schedule.expression} (${i.timeZone}); ` +
                    (i.timing.minGapSeconds === i.timing.maxGapSeconds
                        ? `a run every ${formatDuration(i.timing.maxGapSeconds)}`
                        : `runs ${formatDuration(i.timing.minGapSeconds)} to ${formatDuration(i.timing.maxGapSeconds)} apart`),
            ],
            [
                "Runs",
                `never overlap; start within ${formatDuration(i.timing.startingDeadlineSeconds)} of their time or are skipped; at most ${formatDuration(i.deadlineSeconds)} each; ${i.retries} retries`,
            ],
            ["Input", `s3://<artifact bucket>/${i.inputPrefix}/`],
            ["Output", `s3://<artifact bucket>/${i.outputPrefix}/${i.partition}/ (strftime of the scheduled time, ${i.timeZone})`],
            ["Stale after", `${formatDuration(i.timing.staleAfterSeconds)} without a successful run (${STALE_FACTOR} x the longest gap)`],
        ],
        failures: [
            "The inputs are missing or unreadable (S3 AccessDenied: the prefix is outside batch-inputs/<team>/ and models/<team>/, or the data for the run is not there yet).",
            "The model cannot be loaded: MLflow unreachable or refusing the credentials, the version or its artifacts missing.",
            `A run fails repeatedly (a bug, bad data, OOMKilled at the memory limit): after ${i.retries} retries the run fails.`,
            `A run takes longer than ${formatDuration(i.deadlineSeconds)} and is stopped (DeadlineExceeded); while one runs, the next is skipped (no overlap).`,
            `A run cannot start within ${formatDuration(i.timing.startingDeadlineSeconds)} (namespace quota, no capacity, the controller down): it is skipped.`,
            "The job succeeds but cannot push its metrics to the Pushgateway: the outputs are there, but the job looks stale.",
            "The outputs are wrong although the run succeeded: a bad model version or drifted inputs (roll back, then re-run the partitions).",
        ],
        signals: alertSignals(BATCH_ALERTS, {}, { namespace: ns, workload: i.jobName, stale: staleWindow(i.schedule, i.timeZone) }),
        runbookBaseUrl: i.runbookBaseUrl,
        afterAlert: [
            `The alert goes to team ${i.team}'s receiver (Alertmanager routes on \`team="${i.team}"\`).`,
            "Open the runbook linked in the alert (table above) and the **MLOps / Batch jobs** dashboard.",
            `Find the run: \`kubectl -n ${ns} get jobs -l app.kubernetes.io/instance=${i.jobName}\`, then \`kubectl -n ${ns} describe job <job>\` and \`kubectl -n ${ns} logs job/<job>\`.`,
            "Fix the cause, re-run the missed run (below), tell the consumers of the outputs which partition was late or missing.",
            `Delete the failed Job once handled (\`kubectl -n ${ns} delete job <job>\`): that resolves BatchJobFailed (finished Jobs are otherwise kept ${formatDuration(JOB_TTL_SECONDS)}).`,
        ],
        rollback,
    };
}

/** Checks the arguments before anything is registered; every problem at once. */
export function validateBatchInferenceArgs(name: string, args: BatchInferenceArgs, now: Date = new Date()): void {
    checkWorkloadArgs<BatchInferenceArgs>("BatchInference", name, args, BATCH_INFERENCE_SHAPE, (a) => batchValueProblems(a, now));
}

/** Every argument of {@link BatchInferenceArgs}: what it must be and whether it is required. */
export const BATCH_INFERENCE_SHAPE: Shape = {
    ...WORKLOAD_COMMON_SHAPE,
    jobName: opt("string"),
    parallelism: opt("integer"),
    trigger: opt("string"),
    schedule: req("string", 'a cron expression like "0 2 * * *"'),
    timeZone: opt("string"),
    input: req({ object: { prefix: req("string", "the S3 prefix the job reads") } }, "{ prefix }"),
    output: opt({ object: { prefix: opt("string") } }),
    retries: opt("integer"),
    deadlineSeconds: opt("integer"),
    args: opt("string[]"),
    suspend: opt("boolean"),
} satisfies ShapeOf<BatchInferenceArgs>;

/** Problems of the values (the shape holds, or its problems are reported apart). */
function batchValueProblems(args: BatchInferenceArgs, now: Date): string[] {
    const { model, problems } = commonProblems(args, now);
    const jobName = args.jobName ?? (model ? `${model.name}-batch` : undefined);
    if (jobName !== undefined && (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(jobName) || jobName.length > JOB_NAME_MAX)) {
        problems.push(`jobName "${jobName}" must be lower-case letters, digits and -, starting with a letter, at most ${JOB_NAME_MAX} characters`);
    }
    // Checked even when the model URI is not (its name makes the default job name): one pass, not rounds.
    const imageName = jobName ?? "batch";
    problems.push(
        ...imageProblems(args.image, args.platform.environment, { repositoryName: defaultRepositoryName(args.team, imageName), tagPrefix: imageName }),
    );
    let schedule: CronSchedule | undefined;
    try {
        schedule = parseCron(args.schedule);
    } catch (e) {
        if (!(e instanceof CronError)) throw e;
        problems.push(`schedule "${args.schedule}" is not a valid cron expression: ${e.message}`);
    }
    const timeZone = args.timeZone ?? "Etc/UTC";
    if (!isIanaTimeZone(timeZone)) problems.push(`timeZone "${timeZone}" is not an IANA time zone name (like Etc/UTC or Europe/Berlin)`);
    const retries = args.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES)
        problems.push(`retries must be an integer from 0 to ${MAX_RETRIES} (the Job's backoffLimit), got ${retries}`);
    if (args.deadlineSeconds !== undefined) {
        const d = args.deadlineSeconds;
        if (!Number.isInteger(d) || d < 60 || d > MAX_DEADLINE_SECONDS)
            problems.push(`deadlineSeconds must be an integer from 60 to ${MAX_DEADLINE_SECONDS}, got ${d}`);
        else if (schedule) {
            const { minGapSeconds } = runGaps(schedule);
            if (d > minGapSeconds) {
                problems.push(
                    `deadlineSeconds (${d}) must not exceed the shortest time between two runs (${minGapSeconds} s, ${formatDuration(minGapSeconds)}): runs never overlap, so a longer run would skip the next`,
                );
            }
        }
    }
    const readable = [batchInputPrefix(args.team), modelPrefix(args.team)];
    const writable = batchOutputPrefix(args.team);
    if (!readable.some((p) => isUnderPrefix(args.input.prefix, p))) {
        problems.push(
            `input.prefix "${args.input.prefix}" must be under ${readable.map((p) => `${p}/`).join(" or ")} (the prefixes the team's batch role may read)`,
        );
    }
    const output = args.output?.prefix ?? (jobName ? defaultOutputPrefix(args.team, jobName) : undefined);
    if (output !== undefined && !isUnderPrefix(output, writable)) {
        problems.push(`output.prefix "${output}" must be under ${writable}/ (the only prefix the team's batch role may write)`);
    }
    const uid = args.runAsUser ?? DEFAULT_WORKLOAD_UID;
    if (!Number.isInteger(uid) || uid < 1 || uid > 2147483647) problems.push(`runAsUser must be a numeric non-root uid (1 to 2147483647), got ${uid}`);
    if (args.tmpSizeLimit !== undefined && !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(args.tmpSizeLimit)) {
        problems.push(`tmpSizeLimit "${args.tmpSizeLimit}" is not a Kubernetes quantity like 4Gi`);
    }
    problems.push(
        ...extraEnvProblems(args.env, [...BATCH_ENV, ...SHARD_ENV]),
        ...parallelismProblems(args.parallelism),
        ...triggerProblems(args.trigger, args.suspend),
    );
    return problems;
}

/** Arguments of {@link BatchInference}. */
export interface BatchInferenceArgs {
    /** Team that owns the job (`mlops:teams[].name`): it runs in namespace `ml-<team>`, its alerts go to the team. */
    readonly team: string;
    /** People or groups accountable for the job: named in the operating note and an annotation. */
    readonly owners: readonly string[];
    /** What the job needs from the platform stack (`readPlatform` reads it from the stack outputs). */
    readonly platform: PlatformRefs;
    /** Name of the CronJob (lower-case, starting with a letter, at most 52 characters). Default `<model>-batch`. */
    readonly jobName?: string;
    /** The version to score with, `models:/<team>-<model>/<version>`; an alias (`models:/<name>@champion`) is accepted in dev only. */
    readonly modelUri: string;
    /** Registry alias the version was resolved from when deploying (`champion`): the `stage` label. Default none. */
    readonly alias?: string;
    /** The version to roll back to: in the operating note and an annotation. Default none (first version). */
    readonly previousVersion?: number;
    /** Who approved this version, the change ticket and the date. Required in prod. */
    readonly approval?: ApprovalRecord;
    /** The job image: `{ reference }` (pinned by digest outside dev) or `{ build: { context } }` (built, pushed to ECR, deployed by digest). */
    readonly image: ImageSource;
    /** Cron schedule: five fields (ranges, steps, lists, month and day names) or @daily-style descriptors. */
    readonly schedule: string;
    /** IANA time zone of the schedule and of the run-date partition. Default `Etc/UTC`. */
    readonly timeZone?: string;
    /** Prefix of the inputs in the artifact bucket: under `batch-inputs/<team>/` (or `models/<team>/`), which the team's batch role may read. */
    readonly input: { readonly prefix: string };
    /** Prefix of the outputs, partitioned by run below it: under `batch-outputs/<team>/`, which the team's batch role may write. Default `batch-outputs/<team>/<job>`. */
    readonly output?: { readonly prefix?: string };
    /** Requests and limits of the job container. */
    readonly resources: ResourceSettings;
    /** Retries of a failed run (the Job's backoffLimit), 0 to 3. Default 2. */
    readonly retries?: number;
    /** Longest a run may take, in seconds (activeDeadlineSeconds); at most the shortest gap between runs. Default the shorter of that gap and 6 hours. */
    readonly deadlineSeconds?: number;
    /** Arguments of the container, replacing the default `score --model-uri ... --input-uri ... --output-uri ... --partition ...`. */
    readonly args?: readonly string[];
    /** Numeric uid/gid the image runs as. Default 10001. */
    readonly runAsUser?: number;
    /** Size limit of the writable /tmp. Default 4Gi. */
    readonly tmpSizeLimit?: string;
    /** Extra environment variables (not those the component sets). Default none. */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Create the CronJob suspended (no runs until resumed). Default false. */
    readonly suspend?: boolean;
    /**
     * Shards of each run (1 to 100): above 1 a run is an Indexed Job whose N pods each score their shard
     * of the input under the sharding contract (batchSharding.ts, docs/team-guide.md#batch-at-scale). Default 1.
     */
    readonly parallelism?: number;
    /**
     * How runs start: `schedule` (the CronJob runs on `schedule`), or `orchestrator` (the CronJob stays
     * suspended as the run template; the team's orchestrators, `mlops:teams[].orchestrators`, start runs
     * with `kubectl create job --from=cronjob/<job>`; `schedule` is then the cadence the staleness alert
     * expects). Default schedule.
     */
    readonly trigger?: BatchTrigger;
}

/** Scheduled batch scoring with one model version. */
export class BatchInference extends pulumi.ComponentResource {
    /** Name of the CronJob (and the `job` label of the metrics the runs push). */
    public readonly jobName: string;
    /** The team's namespace the job runs in. */
    public readonly namespace: string;
    /** The model URI the job scores with. */
    public readonly modelUri: string;
    /** The deployed image: the prebuilt reference, or the pushed digest of a build. */
    public readonly image: pulumi.Output<string>;
    /** Where the runs write: `s3://<bucket>/<prefix>/`, a partition per run below it. */
    public readonly outputUri: pulumi.Output<string>;
    /** The partition of a run below the output URI: a strftime template of its scheduled time. */
    public readonly outputPartition: string;
    /** Seconds without a successful run after which BatchJobStale fires. */
    public readonly staleAfterSeconds: number;
    /** The operating note (Markdown), also in the ConfigMap `<job>-operating-note`. */
    public readonly operatingNote: string;
    /** The alert rules of the job (also in the PrometheusRule `<job>-alerts`). */
    public readonly ruleGroups: RuleGroup[];

    constructor(name: string, args: BatchInferenceArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): misuse fails before anything is registered.
        validateBatchInferenceArgs(name, args);
        super("mlops:index:BatchInference", name, {}, opts);

        const p = args.platform;
        const env = p.environment;
        const model = parseModelUri(args.modelUri);
        const stage = args.alias ?? ("alias" in model ? model.alias : undefined);
        const jobName = args.jobName ?? `${model.name}-batch`;
        const ns = servingNamespaceName(args.team);
        const schedule = parseCron(args.schedule);
        const timeZone = args.timeZone ?? "Etc/UTC";
        const timing = batchTiming(schedule);
        const deadline = args.deadlineSeconds ?? timing.defaultDeadlineSeconds;
        const retries = args.retries ?? 2;
        const uid = args.runAsUser ?? DEFAULT_WORKLOAD_UID;
        const inputPrefix = args.input.prefix.replace(/^\/+|\/+$/g, "");
        const outputPrefix = (args.output?.prefix ?? defaultOutputPrefix(args.team, jobName)).replace(/^\/+|\/+$/g, "");
        const partition = partitionTemplate(schedule);
        const imageDefaults = { repositoryName: defaultRepositoryName(args.team, jobName), tagPrefix: jobName };
        const image = deployedImage(this, name, args.image, imageDefaults, env === "prod");
        // Compliance's approval of the version (prod): when it is known only at deploy time, every child waits for it.
        const approval = workloadApproval(this, `BatchInference "${name}"`, args, model, image.ref);
        const child: pulumi.CustomResourceOptions = { parent: this, ...(approval.gate ? { dependsOn: approval.gate } : {}) };

        const ctx = teamLabelContext(p, args.team);
        const labelsWith = (a?: ApprovalRecord) =>
            modelWorkloadLabels(ctx, { team: args.team, instance: jobName, component: "batch-inference", model, alias: args.alias, approval: a });
        const annotationsWith = (a?: ApprovalRecord) =>
            modelWorkloadAnnotations(p.labelDomain, { owners: args.owners, modelUri: args.modelUri, approval: a, previousVersion: args.previousVersion });
        const labels = labelsWith(approval.known);
        const selector = selectorLabels({ name: model.name, instance: jobName, component: "batch-inference" });
        const annotations = annotationsWith(approval.known);
        const meta = (objectName: string) => ({ name: objectName, namespace: ns, labels });

        this.ruleGroups = batchRuleGroups({ team: args.team, jobName, schedule, timeZone, runbookBaseUrl: p.runbookBaseUrl });
        this.operatingNote = renderOperatingNote(
            batchInferenceNote({
                ...workloadNoteInput(args, model, imageDescription(args.image, imageDefaults.repositoryName), approval.known),
                jobName,
                schedule,
                timeZone,
                timing,
                deadlineSeconds: deadline,
                retries,
                inputPrefix,
                outputPrefix,
                partition,
                runbookBaseUrl: p.runbookBaseUrl,
            }),
        );
        new k8s.core.v1.ConfigMap(
            `${name}-operating-note`,
            { metadata: { ...meta(`${jobName}-operating-note`), annotations }, data: { "README.md": this.operatingNote } },
            child,
        );

        const inputUri = pulumi.interpolate`s3://${p.artifactBucketName}/${inputPrefix}/`;
        const outputUri = pulumi.interpolate`s3://${p.artifactBucketName}/${outputPrefix}/`;
        const envVars: k8s.types.input.core.v1.EnvVar[] = [
            ...modelEnv(args.modelUri, model, stage, args.team),
            { name: "MLOPS_JOB", value: jobName },
            ...mlflowEnv(p.mlflowTrackingUri),
            { name: "MLOPS_INPUT_URI", value: inputUri },
            { name: "MLOPS_OUTPUT_URI", value: outputUri },
            { name: "MLOPS_OUTPUT_PARTITION", value: partition },
            { name: "MLOPS_SCHEDULE", value: schedule.expression },
            { name: "MLOPS_TIME_ZONE", value: timeZone },
            // Pushed as one group per job: /metrics/job/<job>/namespace/<ns> (docs/metrics-contract.md).
            { name: "MLOPS_PUSHGATEWAY_URL", value: p.pushgatewayUrl },
            { name: "MLOPS_PUSH_JOB", value: jobName },
            { name: "MLOPS_PUSH_NAMESPACE", value: ns },
            { name: "MLOPS_EXPECTED_INTERVAL_SECONDS", value: String(timing.maxGapSeconds) },
            { name: "HOME", value: "/tmp" },
            { name: "TMPDIR", value: "/tmp" },
            ...shardEnv(args.parallelism),
            ...Object.entries(args.env ?? {}).map(([k, v]) => ({ name: k, value: v })),
        ];
        const containerArgs: pulumi.Input<string>[] = args.args
            ? [...args.args]
            : ["score", "--model-uri", args.modelUri, "--input-uri", "$(MLOPS_INPUT_URI)", "--output-uri", "$(MLOPS_OUTPUT_URI)", "--partition", partition];

        new k8s.batch.v1.CronJob(
            `${name}-cronjob`,
            {
                metadata: { ...meta(jobName), labels: stampedMetadata(approval, labelsWith), annotations: stampedMetadata(approval, annotationsWith) },
                spec: {
                    schedule: args.schedule.trim(),
                    timeZone,
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: timing.startingDeadlineSeconds,
                    suspend: args.suspend === true || args.trigger === "orchestrator",
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        metadata: { labels: stampedMetadata(approval, labelsWith), annotations: stampedMetadata(approval, annotationsWith) },
                        spec: {
                            ...indexedJobFields(args.parallelism),
                            backoffLimit: retries,
                            activeDeadlineSeconds: deadline,
                            ttlSecondsAfterFinished: JOB_TTL_SECONDS,
                            template: {
                                metadata: { labels: stampedMetadata(approval, (a) => ({ ...labelsWith(a), ...selector })) },
                                spec: {
                                    restartPolicy: "Never",
                                    serviceAccountName: p.batchServiceAccountName ?? DEFAULT_BATCH_SERVICE_ACCOUNT,
                                    automountServiceAccountToken: false,
                                    enableServiceLinks: false,
                                    securityContext: restrictedPodSecurityContext(uid),
                                    containers: [
                                        {
                                            name: "batch-inference",
                                            image: image.ref,
                                            imagePullPolicy: "IfNotPresent",
                                            args: containerArgs,
                                            env: envVars,
                                            resources: containerResources(args.resources, ephemeralStorage("1Gi", [args.tmpSizeLimit ?? "4Gi"])),
                                            securityContext: restrictedContainerSecurityContext(uid),
                                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                        },
                                    ],
                                    volumes: [{ name: "tmp", emptyDir: { sizeLimit: args.tmpSizeLimit ?? "4Gi" } }],
                                },
                            },
                        },
                    },
                },
            },
            child,
        );

        new k8s.apiextensions.CustomResource(
            `${name}-alerts`,
            { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: meta(`${jobName}-alerts`), spec: prometheusRuleSpec(this.ruleGroups) },
            child,
        );

        this.jobName = jobName;
        this.namespace = ns;
        this.modelUri = args.modelUri;
        this.image = pulumi.output(image.ref);
        this.outputUri = outputUri;
        this.outputPartition = partition;
        this.staleAfterSeconds = timing.staleAfterSeconds;
        this.registerOutputs({
            jobName,
            namespace: ns,
            modelUri: this.modelUri,
            image: this.image,
            outputUri: this.outputUri,
            outputPartition: partition,
            staleAfterSeconds: this.staleAfterSeconds,
            operatingNote: this.operatingNote,
        });
    }
}
