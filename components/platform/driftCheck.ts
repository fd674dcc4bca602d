/**
 * A scheduled drift check of one served model: a CronJob in the team's serving namespace that compares
 * the inputs and predictions the model server logged recently (`s3://<bucket>/prediction-logs/<team>/
 * <model>/`) with the training reference of the version the registry alias points at
 * (`s3://<bucket>/models/<team>/<model>/<version>/reference/`), and pushes the scores to the Pushgateway
 * under the contract's names (`mlops_feature_drift_score`, `mlops_batch_job_*`), grouped by namespace
 * and job: the drift and staleness alerts of the monitoring stack read them. docs/monitoring.md
 * describes what the image must do.
 *
 * The pod runs as the team's drift-check service account (read-only on those two prefixes), with the
 * restricted security context; runs never overlap and have deadlines.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceSettings } from "../shared/resources";
import { IMAGE_REFERENCE, MLFLOW_CREDENTIALS_SECRET } from "../contract";
import { METRICS } from "../shared/metricsContract";
import { containerResources, ephemeralStorage, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../shared/k8sHelpers";
import { dnsName, type LabelContext, selectorLabels, standardLabels } from "../shared/naming";

/** uid/gid the drift-check image runs as (the distroless `nonroot` user). */
export const DRIFT_CHECK_UID = 65532;
/** CronJob names are limited to 52 characters (the controller appends an 11-character suffix). */
export const CRONJOB_NAME_MAX = 52;
/** Size limit of the /tmp emptyDir (the program itself writes nothing there: HOME for libraries). */
export const DRIFT_CHECK_TMP_SIZE = "1Gi";
/** Ephemeral storage of the drift-check container: little reserved (logs), the limit covers /tmp. */
export const DRIFT_CHECK_STORAGE = ephemeralStorage("128Mi", [DRIFT_CHECK_TMP_SIZE]);
/** Secret (in the team namespace) with MLflow credentials when MLflow auth is on; optional. */
export { MLFLOW_CREDENTIALS_SECRET };

/** Arguments of {@link DriftCheck}. */
export interface DriftCheckArgs {
    /** Team that owns the model. */
    readonly team: string;
    /** The team's serving namespace. */
    readonly namespace: pulumi.Input<string>;
    /** Service account with read access to the model and prediction-log prefixes (ServingNamespace.driftCheckServiceAccountName). */
    readonly serviceAccountName: pulumi.Input<string>;
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Registered model name in MLflow. */
    readonly model: string;
    /** Registry alias of the served version. */
    readonly alias: string;
    /** Cron schedule (UTC). */
    readonly schedule: string;
    /** How often a run should succeed, in minutes: pushed as the expected interval, bounds the run's deadline. */
    readonly intervalMinutes: number;
    /** Hours of logged predictions compared with the reference. */
    readonly windowHours: number;
    /** The drift-check image (images/drift-check), pinned: a `ContainerImage.imageRef` or a prebuilt reference. */
    readonly image: pulumi.Input<string>;
    readonly resources: ResourceSettings;
    /** Artifact bucket name. */
    readonly bucketName: pulumi.Input<string>;
    /** Prefix of the team's models (ServingNamespace.modelPrefix). */
    readonly modelPrefix: string;
    /** Prefix of the team's prediction logs (ServingNamespace.predictionLogPrefix). */
    readonly predictionLogPrefix: string;
    /** In-cluster URL of the MLflow tracking server. */
    readonly mlflowTrackingUri: string;
    /** In-cluster URL of the Pushgateway (MonitoringStack.pushgatewayUrl). */
    readonly pushgatewayUrl: pulumi.Input<string>;
}

/** Name of the CronJob of a model's drift check. */
export function driftCheckName(model: string): string {
    return dnsName(["drift-check", model], CRONJOB_NAME_MAX);
}

/** Deadlines of a run: it must start within half an interval (at most 10 minutes) and finish within one (at most 3 hours). */
export function driftCheckDeadlines(intervalMinutes: number): { startingDeadlineSeconds: number; activeDeadlineSeconds: number } {
    const interval = intervalMinutes * 60;
    return { startingDeadlineSeconds: Math.min(Math.floor(interval / 2), 600), activeDeadlineSeconds: Math.min(interval, 3 * 3600) };
}

/** The scheduled drift check of one model. */
export class DriftCheck extends pulumi.ComponentResource {
    /** Name of the CronJob, also the `job` label of the metrics it pushes. */
    public readonly cronJobName: pulumi.Output<string>;

    constructor(name: string, args: DriftCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops:index:DriftCheck", name, {}, opts);
        validateDriftCheckArgs(args);

        const jobName = driftCheckName(args.model);
        const ctx: LabelContext = { ...args.labels, owner: args.team };
        const labels = standardLabels(ctx, { name: "drift-check", instance: jobName, component: "drift-check", team: args.team });
        const selector = selectorLabels({ name: "drift-check", instance: jobName, component: "drift-check" });
        const { startingDeadlineSeconds, activeDeadlineSeconds } = driftCheckDeadlines(args.intervalMinutes);
        const env: k8s.types.input.core.v1.EnvVar[] = [
            { name: "MLOPS_TEAM", value: args.team },
            { name: "MLOPS_MODEL", value: args.model },
            { name: "MLOPS_MODEL_ALIAS", value: args.alias },
            { name: "MLOPS_WINDOW_HOURS", value: String(args.windowHours) },
            { name: "MLOPS_PREDICTION_LOG_URI", value: pulumi.interpolate`s3://${args.bucketName}/${args.predictionLogPrefix}/${args.model}/` },
            { name: "MLOPS_REFERENCE_URI_PREFIX", value: pulumi.interpolate`s3://${args.bucketName}/${args.modelPrefix}/${args.model}/` },
            { name: "MLFLOW_TRACKING_URI", value: args.mlflowTrackingUri },
            // With MLflow auth on, the team's MLflow credentials; the pod starts without them (auth off).
            { name: "MLFLOW_TRACKING_USERNAME", valueFrom: { secretKeyRef: { name: MLFLOW_CREDENTIALS_SECRET, key: "username", optional: true } } },
            { name: "MLFLOW_TRACKING_PASSWORD", valueFrom: { secretKeyRef: { name: MLFLOW_CREDENTIALS_SECRET, key: "password", optional: true } } },
            // Pushed as one group per model: /metrics/job/<job>/namespace/<ns>. Prometheus keeps these labels (honorLabels).
            { name: "MLOPS_PUSHGATEWAY_URL", value: args.pushgatewayUrl },
            { name: "MLOPS_PUSH_JOB", value: jobName },
            { name: "MLOPS_PUSH_NAMESPACE", value: args.namespace },
            { name: "MLOPS_EXPECTED_INTERVAL_SECONDS", value: String(args.intervalMinutes * 60) },
            { name: "MLOPS_DRIFT_METRIC", value: METRICS.featureDriftScore.name },
            { name: "HOME", value: "/tmp" },
        ];

        const cronJob = new k8s.batch.v1.CronJob(
            `${name}-cronjob`,
            {
                metadata: { name: jobName, namespace: args.namespace, labels },
                spec: {
                    schedule: args.schedule,
                    timeZone: "Etc/UTC",
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        metadata: { labels },
                        spec: {
                            backoffLimit: 2,
                            activeDeadlineSeconds,
                            // Failed jobs (and their BatchJobFailed alert) clear after a day.
                            ttlSecondsAfterFinished: 86400,
                            template: {
                                metadata: { labels: { ...labels, ...selector } },
                                spec: {
                                    serviceAccountName: args.serviceAccountName,
                                    automountServiceAccountToken: false,
                                    restartPolicy: "Never",
                                    securityContext: restrictedPodSecurityContext(DRIFT_CHECK_UID),
                                    containers: [
                                        {
                                            name: "drift-check",
                                            image: args.image,
                                            imagePullPolicy: "IfNotPresent",
                                            args: ["check", "--model", args.model, "--alias", args.alias, "--window-hours", String(args.windowHours)],
                                            env,
                                            resources: containerResources(args.resources, DRIFT_CHECK_STORAGE),
                                            securityContext: restrictedContainerSecurityContext(DRIFT_CHECK_UID),
                                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                        },
                                    ],
                                    volumes: [{ name: "tmp", emptyDir: { sizeLimit: DRIFT_CHECK_TMP_SIZE } }],
                                },
                            },
                        },
                    },
                },
            },
            { parent: this },
        );

        this.cronJobName = cronJob.metadata.name;
        this.registerOutputs({ cronJobName: this.cronJobName });
    }
}

/** Checks the arguments before anything is registered; every problem at once. */
export function validateDriftCheckArgs(args: DriftCheckArgs): void {
    const problems: string[] = [];
    // A built image's reference is known only after the build; it is a digest by construction.
    if (typeof args.image === "string" && (!IMAGE_REFERENCE.test(args.image) || /:latest(@|$)/.test(args.image))) {
        problems.push(`image "${args.image}" must be a pinned image reference (repo:tag or repo@sha256:<digest>), not :latest`);
    }
    if (!/^(\S+\s+){4}\S+$/.test(args.schedule)) problems.push(`schedule "${args.schedule}" must be a five-field cron expression like 15 * * * *`);
    if (!Number.isInteger(args.intervalMinutes) || args.intervalMinutes < 5 || args.intervalMinutes > 10080) {
        problems.push(`intervalMinutes must be an integer from 5 to 10080, got ${args.intervalMinutes}`);
    }
    if (!Number.isInteger(args.windowHours) || args.windowHours < 1 || args.windowHours > 720) {
        problems.push(`windowHours must be an integer from 1 to 720, got ${args.windowHours}`);
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(args.model))
        problems.push(`model "${args.model}" must be an MLflow registered model name (letters, digits, ., _ and -)`);
    if (problems.length > 0) throw new Error(`DriftCheck ${args.team}/${args.model}: ${problems.join("; ")}.`);
}
