/**
 * MLflow garbage collection, a child of MlflowTracking: a CronJob running `mlflow gc` (runs and
 * experiments deleted more than N days ago, their artifacts deleted through the server's proxy), and
 * the NetworkPolicy of its pods (DNS, Postgres, the server, HTTPS; no ingress).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { containerResources, dnsEgressRule, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../shared/k8sHelpers";
import { type LabelContext, standardLabels } from "../../shared/naming";
import { MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT, MLFLOW_GC_STORAGE, MLFLOW_NAME, MLFLOW_PORT, MLFLOW_UID, mlflowGcArgs } from "../mlflowTracking";
import { movedChildOptions } from "./childOptions";
import { backendStoreEnv, mlflowGcSelector, postgresEgressRule, s3HttpsEgressRule } from "./shared";

/** Arguments of {@link MlflowGc}. */
export interface MlflowGcArgs {
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Namespace of the server. */
    readonly namespace: pulumi.Input<string>;
    /** MLflow version the image carries (for the version label). */
    readonly version: string;
    /** The server image (it carries the `mlflow` CLI). */
    readonly image: pulumi.Input<string>;
    /** Cron schedule of `mlflow gc` (UTC). */
    readonly schedule: string;
    /** Days a deleted run or experiment is kept. */
    readonly olderThanDays: number;
    /** `s3://<bucket>/<prefix>` of the artifacts. */
    readonly artifactsDestination: pulumi.Input<string>;
    /** In-cluster URL of the tracking server: artifacts logged through the proxy are deleted through it. */
    readonly trackingUri: string;
    /** Service account the job runs as (the server's). */
    readonly serviceAccountName: pulumi.Input<string>;
    /** Name of the Secret holding `backend-store-uri`. */
    readonly databaseSecretName: pulumi.Input<string>;
    /** Where the database is, for the egress rule. */
    readonly databasePeer: k8s.types.input.networking.v1.NetworkPolicyPeer;
    /** Labels selecting the server pods, for the egress rule. */
    readonly serverSelector: Record<string, string>;
    /** With basic auth on: the Secret holding `admin-username` and `admin-password`, which the job authenticates with. */
    readonly authSecretName?: pulumi.Input<string>;
    /** The component these resources were children of before (MlflowTracking): each aliases it, keeping its URN's history. */
    readonly formerParent?: pulumi.Resource;
}

/** The `mlflow gc` CronJob and its NetworkPolicy. */
export class MlflowGc extends pulumi.ComponentResource {
    /** Name of the CronJob. */
    public readonly cronJobName: pulumi.Output<string>;

    /** `name` is MlflowTracking's: the resources keep the names they had as its children. */
    constructor(name: string, args: MlflowGcArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops:index:MlflowGc", name, {}, opts);
        const child = movedChildOptions(this, args.formerParent);
        const ns = args.namespace;
        const gcLabels = standardLabels(args.labels, { name: MLFLOW_NAME, component: "garbage-collector", version: args.version });

        new k8s.networking.v1.NetworkPolicy(
            `${name}-gc-network-policy`,
            {
                metadata: { name: `${MLFLOW_NAME}-gc`, namespace: ns, labels: gcLabels },
                spec: {
                    podSelector: { matchLabels: mlflowGcSelector() },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [],
                    egress: [
                        dnsEgressRule(),
                        postgresEgressRule(args.databasePeer),
                        { to: [{ podSelector: { matchLabels: args.serverSelector } }], ports: [{ protocol: "TCP", port: MLFLOW_PORT }] },
                        s3HttpsEgressRule(),
                    ],
                },
            },
            child,
        );

        const env: k8s.types.input.core.v1.EnvVar[] = [
            ...backendStoreEnv(args.databaseSecretName),
            // Runs logged through the artifact proxy have mlflow-artifacts:/ URIs: gc deletes them through the server.
            { name: "MLFLOW_TRACKING_URI", value: args.trackingUri },
        ];
        if (args.authSecretName) {
            env.push(
                { name: "MLFLOW_TRACKING_USERNAME", valueFrom: { secretKeyRef: { name: args.authSecretName, key: "admin-username" } } },
                { name: "MLFLOW_TRACKING_PASSWORD", valueFrom: { secretKeyRef: { name: args.authSecretName, key: "admin-password" } } },
            );
        }
        const cronJob = new k8s.batch.v1.CronJob(
            `${name}-gc`,
            {
                metadata: { name: `${MLFLOW_NAME}-gc`, namespace: ns, labels: gcLabels },
                spec: {
                    schedule: args.schedule,
                    timeZone: "Etc/UTC",
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        metadata: { labels: gcLabels },
                        spec: {
                            backoffLimit: 2,
                            activeDeadlineSeconds: 3 * 3600,
                            ttlSecondsAfterFinished: 7 * 24 * 3600,
                            template: {
                                metadata: { labels: gcLabels },
                                spec: {
                                    restartPolicy: "Never",
                                    serviceAccountName: args.serviceAccountName,
                                    automountServiceAccountToken: false,
                                    enableServiceLinks: false,
                                    securityContext: restrictedPodSecurityContext(MLFLOW_UID),
                                    containers: [
                                        {
                                            name: "gc",
                                            image: args.image,
                                            // mlflow gc reads the backend store URI only from its flag: the wrapper passes it from the environment.
                                            command: ["python", "-c", MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT],
                                            args: mlflowGcArgs({ artifactsDestination: args.artifactsDestination, olderThanDays: args.olderThanDays }),
                                            env,
                                            resources: containerResources(
                                                { cpuRequest: "100m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "1Gi" },
                                                MLFLOW_GC_STORAGE,
                                            ),
                                            securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
                                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                        },
                                    ],
                                    volumes: [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }],
                                },
                            },
                        },
                    },
                },
            },
            child,
        );
        this.cronJobName = cronJob.metadata.name;
        this.registerOutputs({ cronJobName: this.cronJobName });
    }
}
