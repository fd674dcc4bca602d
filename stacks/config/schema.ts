/**
 * Stack configuration: one typed schema for everything the stacks read, parsed once at start-up.
 *
 * `Pulumi.<stack>.yaml` holds keys in the `mlops:` namespace. {@link parsePlatformConfig} is a pure
 * function from those raw values to a validated {@link PlatformConfig}: it applies the environment's
 * defaults (dev small and cheap, prod highly available), then validates the merged result. Every
 * problem is reported at once, each naming the key, the bad value and what is allowed, before any
 * resource is registered.
 */
import { z } from "zod";
import { CONFIG_NAMESPACE, ENVIRONMENTS, type Environment } from "../../components/contract";

/** The configuration namespace (the Pulumi project name), and the environments: the contract's. */
export { CONFIG_NAMESPACE, ENVIRONMENTS, type Environment };

// ---------------------------------------------------------------------------------------------
// Formats. Each carries the sentence used in error messages, so a user learns what is allowed.
// ---------------------------------------------------------------------------------------------

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
export const IAM_ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/;
const OIDC_PROVIDER_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[A-Z0-9]{8,64}$/;
const VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const K8S_QUANTITY = /^(\d+(\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
/** `registry/repo[:tag][@sha256:digest]`, with a tag or a digest or both. */
export const IMAGE_REFERENCE = /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+((:[\w][\w.-]{0,127})(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$/;
const CRON = /^(\S+\s+){4}\S+$/;
const S3_PREFIX = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const RDS_INSTANCE_CLASS = /^db\.[a-z0-9]+\.[a-z0-9]+$/;

/** Is `cidr` a well-formed IPv4 CIDR block (octets 0-255, prefix 0-32, no host bits set)? */
export function isIpv4Cidr(cidr: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m) return false;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return false;
    const address = octets.reduce((acc, o) => acc * 256 + o, 0);
    const hostBits = 2 ** (32 - prefix);
    return address % hostBits === 0;
}

const fmt = (re: RegExp, allowed: string) => z.string({ message: allowed }).regex(re, { message: allowed });
const cidr = z.string({ message: "an IPv4 CIDR block like 10.20.0.0/16" }).refine(isIpv4Cidr, { message: "an IPv4 CIDR block like 10.20.0.0/16 (no host bits set)" });
const quantity = fmt(K8S_QUANTITY, "a Kubernetes quantity like 500m, 2, 512Mi or 4Gi");
const posInt = (max: number) =>
    z.number({ message: `an integer from 1 to ${max}` }).int({ message: `an integer from 1 to ${max}` }).min(1, { message: `an integer from 1 to ${max}` }).max(max, { message: `an integer from 1 to ${max}` });
const count = (min: number, max: number) =>
    z.number({ message: `an integer from ${min} to ${max}` }).int({ message: `an integer from ${min} to ${max}` }).min(min, { message: `an integer from ${min} to ${max}` }).max(max, { message: `an integer from ${min} to ${max}` });
const bool = z.boolean({ message: "true or false" });

const resourcesSchema = z.strictObject({
    /** CPU the scheduler reserves for the container. */
    cpuRequest: quantity,
    /** Memory the scheduler reserves for the container. */
    memoryRequest: quantity,
    /** CPU the container is throttled at. */
    cpuLimit: quantity,
    /** Memory the container is killed at (OOM). */
    memoryLimit: quantity,
    /** Local disk (logs, writable layer, emptyDir scratch) the scheduler reserves; default per workload (docs/configuration.md). */
    ephemeralStorageRequest: quantity.optional(),
    /** Local disk the pod is evicted at; default per workload: its scratch volumes' size limits plus 256Mi. */
    ephemeralStorageLimit: quantity.optional(),
});

// ---------------------------------------------------------------------------------------------
// The schema. Every object is strict: an unknown key (a typo) is an error, with a suggestion.
// ---------------------------------------------------------------------------------------------

const awsSchema = z.strictObject({
    /** AWS region every AWS resource of the stack lives in. */
    region: fmt(AWS_REGION, "an AWS region like eu-west-1"),
    /** The only account the stack may touch (the provider refuses any other). */
    accountId: fmt(ACCOUNT_ID, "a 12-digit AWS account id, quoted as a string"),
    /** Role Pulumi assumes to deploy; omit to use the caller's credentials. */
    deployRoleArn: fmt(IAM_ROLE_ARN, "an IAM role ARN like arn:aws:iam::123456789012:role/name").optional(),
});

const clusterSchema = z.strictObject({
    /** Name of the existing EKS cluster. */
    name: fmt(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, "an EKS cluster name (letters, digits, - and _, up to 100 characters)"),
    /** API server endpoint of the cluster. */
    endpoint: fmt(/^https:\/\/[A-Za-z0-9.-]+(:\d+)?\/?$/, "an https:// URL of the cluster API server"),
    /** Base64 PEM of the cluster certificate authority. */
    certificateAuthorityData: fmt(/^[A-Za-z0-9+/]+={0,2}$/, "base64-encoded certificate authority data"),
    /** ARN of the cluster's IAM OIDC provider, trusted by workload-identity (IRSA) roles. */
    oidcProviderArn: fmt(
        OIDC_PROVIDER_ARN,
        "an IAM OIDC provider ARN like arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    ),
    /** Security group of the cluster's nodes and pods: the only source the database admits. */
    nodeSecurityGroupId: fmt(SECURITY_GROUP_ID, "a security group id like sg-0123456789abcdef0"),
    /** Namespace of the ingress controller / gateway that fronts model APIs. */
    gatewayNamespace: fmt(DNS_LABEL, "a Kubernetes namespace name (lower-case letters, digits and -)"),
    /**
     * Install metrics-server (kube-system), which serves the CPU and memory metrics HPAs scale on; EKS has
     * none unless added. Set false when the cluster already runs one (the EKS add-on or another install):
     * two cannot both serve metrics.k8s.io. Default true.
     */
    installMetricsServer: z.boolean({ message: "true or false" }).default(true),
});

const networkSchema = z.strictObject({
    /** VPC the cluster and database live in. */
    vpcId: fmt(VPC_ID, "a VPC id like vpc-0123456789abcdef0"),
    /** CIDR of that VPC (pods and nodes get their addresses from it). */
    vpcCidr: cidr,
    /** Private subnets for the database subnet group, at least two in different AZs. */
    privateSubnetIds: z
        .array(fmt(SUBNET_ID, "a subnet id like subnet-0123456789abcdef0"), { message: "a list of subnet ids" })
        .min(2, { message: "at least two private subnet ids (RDS needs two availability zones)" }),
});

const artifactStoreSchema = z.strictObject({
    /** Days a noncurrent object version is kept before it expires. */
    noncurrentVersionExpirationDays: posInt(3650),
    /** Days after which an incomplete multipart upload is aborted. */
    abortIncompleteUploadDays: posInt(365),
    /** Existing bucket that receives server access logs; omit to switch access logging off. */
    accessLogBucket: fmt(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name").optional(),
});

const databaseSchema = z.strictObject({
    /** `rds` (managed Postgres) or `in-cluster` (a StatefulSet with a volume: dev only). */
    kind: z.enum(["rds", "in-cluster"], { message: "one of rds, in-cluster" }),
    /** RDS instance class. */
    instanceClass: fmt(RDS_INSTANCE_CLASS, "an RDS instance class like db.t4g.medium"),
    /** Allocated storage in GiB (RDS) or volume size (in-cluster). */
    storageGiB: count(5, 65536),
    /** Postgres major.minor version for RDS. */
    engineVersion: fmt(/^\d+(\.\d+)?$/, "a Postgres version like 16.4"),
    /** Days of automated backups (RDS). */
    backupRetentionDays: count(1, 35),
    /** Standby in a second availability zone (RDS). */
    multiAz: bool,
    /** Refuse deletion of the database (RDS). */
    deletionProtection: bool,
});

const mlflowSchema = z.strictObject({
    /** Pinned MLflow version: the server image's build fails unless its lock (images/mlflow/requirements.lock) pins this version. */
    version: fmt(/^\d+\.\d+\.\d+$/, "an exact MLflow version like 3.1.1"),
    /** Prebuilt server image (`repo@sha256:...`, a tag alone is accepted in dev only); omit to build `images/mlflow`. */
    image: fmt(IMAGE_REFERENCE, "an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow@sha256:<64 hex digits>")
        .refine((ref) => !/:latest(@|$)/.test(ref), { message: "a pinned image, not :latest" })
        .optional(),
    /** Tracking server replicas. */
    replicas: count(1, 20),
    /** Tracking server resources. */
    resources: resourcesSchema,
    /** Prefix of the artifact bucket MLflow owns (`s3://<bucket>/<prefix>`). */
    artifactPrefix: fmt(S3_PREFIX, "a single path segment of lower-case letters, digits and -"),
    /** MLflow basic auth (the admin password is generated and kept secret). */
    auth: bool,
    /** Cron schedule of `mlflow gc`. */
    gcSchedule: fmt(CRON, "a five-field cron expression like 0 3 * * *"),
    /** Days a deleted run is kept before `mlflow gc` removes it. */
    gcOlderThanDays: posInt(3650),
    /** Namespace of the tracking server, its database (dev) and its gc job. Default `mlflow` in every environment. */
    namespace: fmt(DNS_LABEL, "a Kubernetes namespace name (lower-case letters, digits and -)").default("mlflow"),
    /** What a signed-in user may do on experiments and models nobody granted them (basic auth). Default READ. */
    authDefaultPermission: z
        .enum(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], { message: "one of READ, EDIT, MANAGE, NO_PERMISSIONS" })
        .default("READ"),
    /** The backend database. */
    database: databaseSchema,
});

// Serving namespaces of product teams, and the monitoring stack (servingNamespace.ts, monitoringStack.ts).

const quotaSchema = z.strictObject({
    /** Sum of the CPU requests of all pods in the namespace. */
    cpu: quantity,
    /** Sum of the memory requests. */
    memory: quantity,
    /** Sum of the CPU limits. */
    limitsCpu: quantity,
    /** Sum of the memory limits. */
    limitsMemory: quantity,
    /** Sum of the ephemeral-storage (local disk) requests. */
    ephemeralStorage: quantity,
    /** Sum of the ephemeral-storage limits. */
    limitsEphemeralStorage: quantity,
    /** Pods, running or pending. */
    pods: count(1, 1000),
    /** Services (never LoadBalancer or NodePort: the gateway fronts the models). */
    services: count(0, 200),
    /** PersistentVolumeClaims. */
    persistentVolumeClaims: count(0, 200),
    /** NVIDIA GPUs (nvidia.com/gpu) requested by all pods. Default 0: a team gets GPUs only where its quota grants them. */
    gpu: count(0, 256),
});

const limitRangeSchema = z.strictObject({
    /** CPU request of a container that sets none. */
    defaultCpuRequest: quantity,
    /** Memory request of a container that sets none. */
    defaultMemoryRequest: quantity,
    /** CPU limit of a container that sets none. */
    defaultCpuLimit: quantity,
    /** Memory limit of a container that sets none. */
    defaultMemoryLimit: quantity,
    /** Largest CPU limit one container may set. */
    maxCpu: quantity,
    /** Largest memory limit one container may set. */
    maxMemory: quantity,
    /** Ephemeral-storage (local disk) request of a container that sets none. */
    defaultEphemeralStorageRequest: quantity,
    /** Ephemeral-storage limit of a container that sets none. */
    defaultEphemeralStorageLimit: quantity,
    /** Largest ephemeral-storage limit one container may set. */
    maxEphemeralStorage: quantity,
});

const servingSchema = z.strictObject({
    /** ResourceQuota of every team namespace (a team may override keys in `teams[].quota`). */
    quota: quotaSchema,
    /** LimitRange of every team namespace. */
    limitRange: limitRangeSchema,
});

const receiverSchema = z.strictObject({
    /** Slack channel the alerts go to; the webhook URL is a secret in mlops:alertmanagerCredentials. */
    slackChannel: fmt(/^#[a-z0-9][a-z0-9._-]{0,79}$/, "a Slack channel like #fraud-ml-alerts (lower-case)"),
    /** Also page through PagerDuty for critical alerts (routing key in mlops:alertmanagerCredentials). Default false. */
    pagerduty: bool.default(false),
});

const positive = (max: number, what: string) =>
    z.number({ message: `${what} above 0 and at most ${max}` }).gt(0, { message: `${what} above 0 and at most ${max}` }).max(max, { message: `${what} above 0 and at most ${max}` });

const sloSchema = z.strictObject({
    /** p95 request latency above which the latency alert fires, in seconds. */
    latencyP95Seconds: positive(60, "a number of seconds"),
    /** Share of 5xx responses above which the error alert fires. */
    errorRatio: positive(1, "a ratio"),
    /** Input validation failures per request above which the validation alert fires. */
    inputValidationFailureRatio: positive(100, "a ratio"),
    /** Drift score (PSI) of a feature above which the drift alert fires. */
    driftScore: positive(100, "a score"),
    /** Tolerated distance between the last hour's and the reference week's prediction distribution (0-1). */
    predictionShift: positive(1, "a ratio"),
});

const driftCheckSchema = z.strictObject({
    /** Registered model name in MLflow. */
    model: fmt(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "an MLflow registered model name (letters, digits, ., _ and -)"),
    /** Registry alias of the served version, whose training reference the check compares with. Default champion. */
    alias: fmt(/^[a-z][a-z0-9_-]{0,62}$/, "an MLflow model alias like champion").default("champion"),
    /** Cron schedule of the check. */
    schedule: fmt(CRON, "a five-field cron expression like 0 * * * *"),
    /** How often the check succeeds when healthy, in minutes: the staleness alert fires after 1.5 times this. */
    intervalMinutes: count(5, 10080),
    /** Hours of logged predictions compared with the reference. Default 24. */
    windowHours: count(1, 720).default(24),
});

const teamSchema = z.strictObject({
    /** Team name: namespace `ml-<name>`, model prefix `models/<name>/`, alert label `team=<name>`. */
    name: fmt(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/, "2-20 lower-case letters, digits and -, starting with a letter"),
    /** People or groups accountable for the team's models (emails or group names). */
    owners: z
        .array(fmt(/^([^\s@]+@[^\s@]+\.[A-Za-z]{2,}|[A-Za-z0-9][A-Za-z0-9:._-]{1,62})$/, "an email address or a group name"), {
            message: "a list of emails or group names",
        })
        .min(1, { message: "at least one owner" }),
    /** Kubernetes RBAC group of the team's deployers (mapped from IAM by EKS access entries), e.g. acme:team-fraud-deployers. */
    deployGroup: fmt(/^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$/, "a Kubernetes group name like acme:team-fraud-deployers"),
    /**
     * IAM roles of the team's deployers (its CI role, its SSO role): each gets an EKS access entry into
     * `deployGroup`, so it can deploy to the team's namespace and nowhere else. Default none (map them
     * outside the platform).
     */
    deployRoleArns: z
        .array(fmt(IAM_ROLE_ARN, "an IAM role ARN like arn:aws:iam::123456789012:role/team-fraud-deploy"), { message: "a list of IAM role ARNs" })
        .default([]),
    /** Environments the team exists in. */
    environments: z
        .array(z.enum(ENVIRONMENTS, { message: `one of ${ENVIRONMENTS.join(", ")}` }), { message: `a list of ${ENVIRONMENTS.join(", ")}` })
        .min(1, { message: "at least one environment" }),
    /** Overrides of the environment's namespace quota (mlops:serving.quota). */
    quota: quotaSchema.partial().optional(),
    /**
     * Service accounts of the team's pipeline orchestrators (Airflow, Prefect, Dagster, Kubeflow Pipelines),
     * each `{ namespace, serviceAccount }`: they may start runs of the team's orchestrated batch jobs and
     * follow them, nothing else. Default none.
     */
    orchestrators: z
        .array(
            z.strictObject({
                namespace: fmt(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a namespace name"),
                serviceAccount: fmt(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "a service account name"),
            }),
            { message: "a list of { namespace, serviceAccount }" },
        )
        .default([]),
    /** Where the team's alerts go. */
    alerts: receiverSchema,
    /** Overrides of the environment's model SLOs (mlops:monitoring.slo). */
    slo: sloSchema.partial().optional(),
    /** Scheduled drift checks of the team's served models. */
    driftChecks: z.array(driftCheckSchema, { message: "a list of drift checks" }).default([]),
});

const monitoringSchema = z.strictObject({
    /** Namespace of Prometheus, Alertmanager, Grafana and the Pushgateway. Default monitoring. */
    namespace: fmt(DNS_LABEL, "a Kubernetes namespace name (lower-case letters, digits and -)").default("monitoring"),
    /** URL of the repository's docs/runbooks folder: every alert links to <url>/<alert>.md. */
    runbookBaseUrl: fmt(/^https:\/\/\S+[^/\s]$/, "an https:// URL of the docs/runbooks folder, without a trailing slash"),
    /** Prometheus (kube-prometheus-stack). */
    prometheus: z.strictObject({
        /** Prometheus replicas (each scrapes everything; Alertmanager deduplicates). */
        replicas: count(1, 5),
        /** Days of samples kept. */
        retentionDays: posInt(365),
        /** Size of each replica's volume in GiB (retention by size stops at 90% of it). */
        storageGi: count(5, 16384),
        /** Requests and limits of each pod. */
        resources: resourcesSchema,
    }),
    /** Alertmanager (kube-prometheus-stack). */
    alertmanager: z.strictObject({
        /** Alertmanager replicas (a gossip cluster). */
        replicas: count(1, 5),
        /** Size of each replica's volume (silences, notification log) in GiB. */
        storageGi: count(1, 100),
        /** Requests and limits of each pod. */
        resources: resourcesSchema,
    }),
    /** Grafana (kube-prometheus-stack): private, admin password generated. */
    grafana: z.strictObject({
        /** Requests and limits of the Grafana pod. */
        resources: resourcesSchema,
    }),
    /** The Pushgateway that receives drift scores and batch-job metrics. */
    pushgateway: z.strictObject({
        /** Keep pushed metrics on a volume across restarts. */
        persistence: bool,
        /** Volume size in GiB when persistent. */
        storageGi: count(1, 100),
        /** Requests and limits of each pod. */
        resources: resourcesSchema,
    }),
    /** Default model SLOs of every team. */
    slo: sloSchema,
    /** Where platform alerts, and alerts without a team, go. */
    platformAlerts: receiverSchema,
    /** Hours before a still-firing alert is sent again. */
    repeatIntervalHours: posInt(168),
    /** Prebuilt drift-check image (`repo@sha256:...`; a tag alone is accepted in dev only); omit to build `images/drift-check` when a team has drift checks. */
    driftCheckImage: fmt(IMAGE_REFERENCE, "an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops-drift-check:0.4.0@sha256:<64 hex digits>")
        .refine((ref) => !/:latest(@|$)/.test(ref), { message: "a pinned image, not :latest" })
        .optional(),
    /** Resources of a drift-check pod. */
    driftCheckResources: resourcesSchema,
});

/** The whole stack configuration, after the environment defaults were applied. */
export const platformConfigSchema = z.strictObject({
    /** dev, test or prod. */
    environment: z.enum(ENVIRONMENTS, { message: `one of ${ENVIRONMENTS.join(", ")}` }),
    /** Short organisation name, used in resource names. */
    organization: fmt(/^[a-z][a-z0-9]{1,11}$/, "2-12 lower-case letters and digits, starting with a letter"),
    /** Team accountable for the platform (owner tag and label). */
    owner: fmt(DNS_LABEL, "a lower-case team name (letters, digits and -)"),
    /** Cost centre billed for the platform (tag and label). */
    costCentre: fmt(/^[A-Za-z0-9-]{2,32}$/, "a cost centre code like CC-4410"),
    /** DNS domain of the organisation, used for label keys: mlops.<domain>/team. */
    labelDomain: fmt(DNS_SUBDOMAIN, "a DNS domain like example.com"),
    /** The AWS account and region of the stack. */
    aws: awsSchema,
    /** The existing EKS cluster the platform deploys into. */
    cluster: clusterSchema,
    /** The VPC of the cluster and the database. */
    network: networkSchema,
    /** The S3 artifact store. */
    artifactStore: artifactStoreSchema,
    /** MLflow tracking server and model registry. */
    mlflow: mlflowSchema,
    /** Quota and limit ranges of team serving namespaces. */
    serving: servingSchema,
    /** Product teams that get a serving namespace (in the environments each lists). Default none. */
    teams: z.array(teamSchema, { message: "a list of teams" }).default([]),
    /** Prometheus, Alertmanager, Grafana, Pushgateway, alerting and drift checks. */
    monitoring: monitoringSchema,
    /**
     * Alertmanager receiver secrets, set with `pulumi config set --secret --path
     * 'mlops:alertmanagerCredentials.<receiver>-slack-webhook-url'` (or `-pagerduty-routing-key`). The
     * program treats every value as a Pulumi secret. Optional: a missing one is reported as a warning.
     */
    alertmanagerCredentials: z.record(z.string(), z.string({ message: "a non-empty string" }).min(1, { message: "a non-empty string" })).optional(),
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
export type ResourceSettings = z.infer<typeof resourcesSchema>;
export type DatabaseSettings = z.infer<typeof databaseSchema>;
export type TeamConfig = z.infer<typeof teamSchema>;
export type QuotaSettings = z.infer<typeof quotaSchema>;
export type LimitRangeSettings = z.infer<typeof limitRangeSchema>;
export type SloSettings = z.infer<typeof sloSchema>;
export type ReceiverSettings = z.infer<typeof receiverSchema>;
export type DriftCheckSettings = z.infer<typeof driftCheckSchema>;
export type MonitoringSettings = z.infer<typeof monitoringSchema>;

// ---------------------------------------------------------------------------------------------
// Environment defaults: what a stack gets unless its Pulumi.<stack>.yaml says otherwise.
// ---------------------------------------------------------------------------------------------

type DeepPartial<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

const MLFLOW_IMAGE = { version: "3.1.1" };

/** Team serving namespaces: dev small, prod sized for several replicated model servers per team. */
const SERVING_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig["serving"]>> = {
    dev: {
        quota: { cpu: "4", memory: "8Gi", limitsCpu: "8", limitsMemory: "16Gi", pods: 20, services: 10, persistentVolumeClaims: 0, ephemeralStorage: "16Gi", limitsEphemeralStorage: "64Gi", gpu: 0 },
        limitRange: { defaultCpuRequest: "100m", defaultMemoryRequest: "256Mi", defaultCpuLimit: "1", defaultMemoryLimit: "1Gi", maxCpu: "2", maxMemory: "4Gi", defaultEphemeralStorageRequest: "128Mi", defaultEphemeralStorageLimit: "1Gi", maxEphemeralStorage: "8Gi" },
    },
    test: {
        quota: { cpu: "8", memory: "16Gi", limitsCpu: "16", limitsMemory: "32Gi", pods: 40, services: 20, persistentVolumeClaims: 2, ephemeralStorage: "32Gi", limitsEphemeralStorage: "128Gi", gpu: 0 },
        limitRange: { defaultCpuRequest: "250m", defaultMemoryRequest: "512Mi", defaultCpuLimit: "2", defaultMemoryLimit: "2Gi", maxCpu: "4", maxMemory: "8Gi", defaultEphemeralStorageRequest: "128Mi", defaultEphemeralStorageLimit: "1Gi", maxEphemeralStorage: "16Gi" },
    },
    prod: {
        quota: { cpu: "32", memory: "64Gi", limitsCpu: "64", limitsMemory: "128Gi", pods: 150, services: 40, persistentVolumeClaims: 5, ephemeralStorage: "128Gi", limitsEphemeralStorage: "512Gi", gpu: 0 },
        limitRange: { defaultCpuRequest: "250m", defaultMemoryRequest: "512Mi", defaultCpuLimit: "2", defaultMemoryLimit: "2Gi", maxCpu: "8", maxMemory: "32Gi", defaultEphemeralStorageRequest: "128Mi", defaultEphemeralStorageLimit: "1Gi", maxEphemeralStorage: "32Gi" },
    },
};

/** Monitoring: dev one small replica and a week of data, prod replicated with 30 days on 200 GiB. */
const MONITORING_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig["monitoring"]>> = {
    dev: {
        prometheus: { replicas: 1, retentionDays: 7, storageGi: 20, resources: { cpuRequest: "200m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" } },
        alertmanager: { replicas: 1, storageGi: 1, resources: { cpuRequest: "10m", memoryRequest: "64Mi", cpuLimit: "100m", memoryLimit: "128Mi" } },
        grafana: { resources: { cpuRequest: "50m", memoryRequest: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" } },
        pushgateway: { persistence: false, storageGi: 1, resources: { cpuRequest: "10m", memoryRequest: "32Mi", cpuLimit: "100m", memoryLimit: "64Mi" } },
        slo: { latencyP95Seconds: 1, errorRatio: 0.05, inputValidationFailureRatio: 0.2, driftScore: 0.3, predictionShift: 0.3 },
        repeatIntervalHours: 24,
        driftCheckResources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
    },
    test: {
        prometheus: { replicas: 1, retentionDays: 15, storageGi: 50, resources: { cpuRequest: "500m", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "4Gi" } },
        alertmanager: { replicas: 2, storageGi: 2, resources: { cpuRequest: "20m", memoryRequest: "64Mi", cpuLimit: "200m", memoryLimit: "256Mi" } },
        grafana: { resources: { cpuRequest: "100m", memoryRequest: "256Mi", cpuLimit: "500m", memoryLimit: "512Mi" } },
        pushgateway: { persistence: true, storageGi: 1, resources: { cpuRequest: "10m", memoryRequest: "32Mi", cpuLimit: "200m", memoryLimit: "128Mi" } },
        slo: { latencyP95Seconds: 0.5, errorRatio: 0.02, inputValidationFailureRatio: 0.1, driftScore: 0.2, predictionShift: 0.25 },
        repeatIntervalHours: 12,
        driftCheckResources: { cpuRequest: "250m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" },
    },
    prod: {
        prometheus: { replicas: 2, retentionDays: 30, storageGi: 200, resources: { cpuRequest: "1", memoryRequest: "4Gi", cpuLimit: "4", memoryLimit: "8Gi" } },
        alertmanager: { replicas: 3, storageGi: 5, resources: { cpuRequest: "50m", memoryRequest: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" } },
        grafana: { resources: { cpuRequest: "100m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "1Gi" } },
        pushgateway: { persistence: true, storageGi: 2, resources: { cpuRequest: "20m", memoryRequest: "64Mi", cpuLimit: "200m", memoryLimit: "128Mi" } },
        slo: { latencyP95Seconds: 0.3, errorRatio: 0.01, inputValidationFailureRatio: 0.05, driftScore: 0.2, predictionShift: 0.2 },
        repeatIntervalHours: 4,
        driftCheckResources: { cpuRequest: "500m", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "4Gi" },
    },
};

/** Defaults per environment: dev small and cheap, test like prod but smaller, prod highly available. */
export const ENVIRONMENT_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig>> = {
    dev: {
        artifactStore: { noncurrentVersionExpirationDays: 7, abortIncompleteUploadDays: 1 },
        serving: SERVING_DEFAULTS.dev,
        monitoring: MONITORING_DEFAULTS.dev,
        mlflow: {
            ...MLFLOW_IMAGE,
            replicas: 1,
            resources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
            artifactPrefix: "mlflow",
            auth: false,
            gcSchedule: "0 3 * * *",
            gcOlderThanDays: 7,
            database: {
                kind: "in-cluster",
                instanceClass: "db.t4g.micro",
                storageGiB: 10,
                engineVersion: "16.4",
                backupRetentionDays: 1,
                multiAz: false,
                deletionProtection: false,
            },
        },
    },
    test: {
        artifactStore: { noncurrentVersionExpirationDays: 30, abortIncompleteUploadDays: 3 },
        serving: SERVING_DEFAULTS.test,
        monitoring: MONITORING_DEFAULTS.test,
        mlflow: {
            ...MLFLOW_IMAGE,
            replicas: 2,
            resources: { cpuRequest: "250m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" },
            artifactPrefix: "mlflow",
            auth: true,
            gcSchedule: "0 3 * * *",
            gcOlderThanDays: 30,
            database: {
                kind: "rds",
                instanceClass: "db.t4g.medium",
                storageGiB: 50,
                engineVersion: "16.4",
                backupRetentionDays: 7,
                multiAz: false,
                deletionProtection: false,
            },
        },
    },
    prod: {
        artifactStore: { noncurrentVersionExpirationDays: 365, abortIncompleteUploadDays: 7 },
        serving: SERVING_DEFAULTS.prod,
        monitoring: MONITORING_DEFAULTS.prod,
        mlflow: {
            ...MLFLOW_IMAGE,
            replicas: 3,
            resources: { cpuRequest: "500m", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "4Gi" },
            artifactPrefix: "mlflow",
            auth: true,
            gcSchedule: "0 3 * * 0",
            gcOlderThanDays: 90,
            database: {
                kind: "rds",
                instanceClass: "db.m7g.large",
                storageGiB: 200,
                engineVersion: "16.4",
                backupRetentionDays: 30,
                multiAz: true,
                deletionProtection: true,
            },
        },
    },
};

// ---------------------------------------------------------------------------------------------
// Parsing and error reporting.
// ---------------------------------------------------------------------------------------------

/** Thrown for invalid configuration; `problems` holds one sentence per bad key. */
export class ConfigError extends Error {
    constructor(
        readonly stackName: string,
        readonly problems: readonly string[],
    ) {
        super(
            `Invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else in `override` replaces `base`. */
export function deepMerge<T>(base: T, override: unknown): T {
    if (!isPlainObject(base) || !isPlainObject(override)) {
        return (override === undefined ? base : override) as T;
    }
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(override)) {
        out[k] = k in base ? deepMerge((base as Record<string, unknown>)[k], v) : v;
    }
    return out as T;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}

/** The closest of `candidates` to `key`, if it is close enough to be a likely typo. */
export function suggestKey(key: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = editDistance(key, c);
        if (d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Renders a config value for an error message, shortened. */
function show(value: unknown): string {
    if (value === undefined) return "nothing (the key is missing)";
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function keyName(path: readonly PropertyKey[], input?: unknown): string {
    const [head, ...rest] = path.map(String);
    const name = `${CONFIG_NAMESPACE}:${head}` + rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("");
    // A team is named by its name too, not only by its position in the list.
    const team = head === "teams" && path.length > 2 ? (valueAt(input, path.slice(0, 2)) as { name?: unknown } | undefined)?.name : undefined;
    return typeof team === "string" ? `${name} (team ${JSON.stringify(team)})` : name;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let v: unknown = root;
    for (const p of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<PropertyKey, unknown>)[p];
    }
    return v;
}

/** Schema of the object at `path`, to list its allowed keys. */
function objectKeysAt(path: readonly PropertyKey[]): string[] {
    // Optional and defaulted keys wrap their schema (teams: a defaulted array of objects).
    const unwrap = (s: z.ZodType): z.ZodType => (s instanceof z.ZodOptional || s instanceof z.ZodDefault ? unwrap(s.unwrap() as z.ZodType) : s);
    let schema: z.ZodType = platformConfigSchema;
    for (const p of path) {
        schema = unwrap(schema);
        if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(p)];
        else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
        if (!schema) return [];
    }
    schema = unwrap(schema);
    return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
    if (issue.code === "unrecognized_keys") {
        const allowed = objectKeysAt(issue.path);
        return issue.keys.map((k) => {
            const full = keyName([...issue.path, k]);
            // `pulumi config set mlops:mlflow.replicas 2` (without --path) writes a flat key with a dot.
            const [head] = k.split(".");
            if (issue.path.length === 0 && k.includes(".") && allowed.includes(head)) {
                return (
                    `${full}: unknown key; it looks like a nested key written flat (pulumi config set without --path). ` +
                    `Remove it (pulumi config rm '${full}') and set it nested: pulumi config set --path '${full}' <value>.`
                );
            }
            const suggestion = suggestKey(k, allowed);
            return (
                `${full}: unknown key` +
                (suggestion ? `; did you mean "${keyName([...issue.path, suggestion])}"?` : ".") +
                ` Allowed keys here: ${allowed.join(", ")}.`
            );
        });
    }
    const value = valueAt(input, issue.path);
    let allowed = issue.message;
    if (issue.code === "invalid_type" && issue.expected === "object") {
        allowed = `a map with the keys ${objectKeysAt(issue.path).join(", ")}`;
    }
    const expected = value === undefined ? `a value is required: ${allowed}` : `expected ${allowed}`;
    return [`${keyName(issue.path, input)}: got ${show(value)}; ${expected}.`];
}

/**
 * Parses raw stack configuration into a validated {@link PlatformConfig}.
 *
 * @param raw the `mlops:` keys of the stack, without the namespace, as Pulumi hands them to the program:
 *   strings, with structured values JSON-encoded (objects may also be passed already decoded).
 * @param stack the stack name, for messages.
 * @throws ConfigError listing every problem.
 */
export function parsePlatformConfig(raw: Readonly<Record<string, unknown>>, stack: string): PlatformConfig {
    const decoded: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        decoded[key] = decodeValue(value);
    }
    const env = decoded.environment;
    if (typeof env !== "string" || !(ENVIRONMENTS as readonly string[]).includes(env)) {
        throw new ConfigError(stack, [
            `${CONFIG_NAMESPACE}:environment: got ${show(env)}; expected one of ${ENVIRONMENTS.join(", ")}.`,
        ]);
    }
    const merged = deepMerge(ENVIRONMENT_DEFAULTS[env as Environment], decoded);
    const result = platformConfigSchema.safeParse(merged);
    if (!result.success) {
        throw new ConfigError(stack, result.error.issues.flatMap((i) => describeIssue(i, merged)));
    }
    const problems = crossFieldProblems(result.data);
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return result.data;
}

/** Pulumi hands structured config to programs as JSON text; scalars stay strings. */
function decodeValue(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const t = value.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
        try {
            return JSON.parse(t);
        } catch {
            return value;
        }
    }
    return value;
}

/** Rules that span keys, which one field's schema cannot express. */
function crossFieldProblems(cfg: PlatformConfig): string[] {
    const problems: string[] = [];
    const db = cfg.mlflow.database;
    const arnAccount = (arn: string) => arn.split(":")[4];
    if (arnAccount(cfg.cluster.oidcProviderArn) !== cfg.aws.accountId) {
        problems.push(
            `${CONFIG_NAMESPACE}:cluster.oidcProviderArn: got ${show(cfg.cluster.oidcProviderArn)}; expected an OIDC provider in account ${cfg.aws.accountId} (mlops:aws.accountId).`,
        );
    }
    if (!cfg.cluster.oidcProviderArn.includes(`oidc.eks.${cfg.aws.region}.`)) {
        problems.push(
            `${CONFIG_NAMESPACE}:cluster.oidcProviderArn: got ${show(cfg.cluster.oidcProviderArn)}; expected an OIDC provider of region ${cfg.aws.region} (mlops:aws.region).`,
        );
    }
    if (cfg.environment !== "dev" && db.kind !== "rds") {
        problems.push(`${CONFIG_NAMESPACE}:mlflow.database.kind: got ${show(db.kind)}; expected rds in ${cfg.environment} (in-cluster is for dev only).`);
    }
    if (cfg.environment === "prod") {
        for (const [key, value] of [
            ["multiAz", db.multiAz],
            ["deletionProtection", db.deletionProtection],
            ["auth", cfg.mlflow.auth],
        ] as const) {
            if (value !== true) {
                const path = key === "auth" ? "mlflow.auth" : `mlflow.database.${key}`;
                problems.push(`${CONFIG_NAMESPACE}:${path}: got ${show(value)}; expected true in prod.`);
            }
        }
        if (cfg.mlflow.replicas < 2) {
            problems.push(`${CONFIG_NAMESPACE}:mlflow.replicas: got ${cfg.mlflow.replicas}; expected at least 2 in prod.`);
        }
    }
    if (cfg.environment !== "dev" && cfg.mlflow.image !== undefined && !cfg.mlflow.image.includes("@sha256:")) {
        problems.push(
            `${CONFIG_NAMESPACE}:mlflow.image: got ${show(cfg.mlflow.image)}; expected an image pinned by digest (repo@sha256:...) in ${cfg.environment}.`,
        );
    }
    if (cfg.environment === "test" && !cfg.mlflow.auth) {
        problems.push(`${CONFIG_NAMESPACE}:mlflow.auth: got false; expected true in test.`);
    }
    problems.push(...teamAndMonitoringProblems(cfg));
    return problems;
}

const QUANTITY_SUFFIX: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** The number a Kubernetes quantity stands for (`500m` -> 0.5, `2Gi` -> 2147483648). */
export function quantityValue(q: string): number {
    const m = K8S_QUANTITY.exec(q);
    if (!m) throw new Error(`not a Kubernetes quantity: "${q}"`);
    return Number(m[1]) * QUANTITY_SUFFIX[m[3] ?? ""];
}

/** A team's effective namespace quota: the environment's, with the team's overrides. */
export function teamQuota(cfg: Pick<PlatformConfig, "serving">, team: Pick<TeamConfig, "quota">): QuotaSettings {
    return { ...cfg.serving.quota, ...(team.quota ?? {}) };
}

/** A team's effective SLOs: the environment's, with the team's overrides. */
export function teamSlo(cfg: Pick<PlatformConfig, "monitoring">, team: Pick<TeamConfig, "slo">): SloSettings {
    return { ...cfg.monitoring.slo, ...(team.slo ?? {}) };
}

/** The teams that exist in the stack's environment. */
export function teamsIn(cfg: Pick<PlatformConfig, "teams" | "environment">): TeamConfig[] {
    return cfg.teams.filter((t) => t.environments.includes(cfg.environment));
}

/** Kinds of Alertmanager receiver secrets, by the suffix of their key in mlops:alertmanagerCredentials. */
export const CREDENTIAL_SUFFIXES = { slack: "-slack-webhook-url", pagerduty: "-pagerduty-routing-key" } as const;

/** Rules about teams, quotas, receivers and the drift-check image. */
function teamAndMonitoringProblems(cfg: PlatformConfig): string[] {
    const problems: string[] = [];
    const key = (path: string) => `${CONFIG_NAMESPACE}:${path}`;
    const seen = new Set<string>();
    cfg.teams.forEach((team, i) => {
        const at = `teams[${i}]`;
        // Teams are named by their name, not only by their position in the list.
        const tkey = (field: string): string => `${key(`${at}.${field}`)} (team ${JSON.stringify(team.name)})`;
        if (seen.has(team.name)) problems.push(`${tkey(`name`)}: got ${show(team.name)}; expected a name no other team has.`);
        seen.add(team.name);
        if (team.name === cfg.owner || team.name === "null") {
            problems.push(`${tkey(`name`)}: got ${show(team.name)}; expected a name other than the platform owner (mlops:owner) and "null" (both are Alertmanager receivers).`);
        }
        if (/^system:/i.test(team.deployGroup)) {
            problems.push(`${tkey(`deployGroup`)}: got ${show(team.deployGroup)}; expected a group of the organisation, not a Kubernetes system: group.`);
        }
        team.deployRoleArns.forEach((arn, j) => {
            // EKS allows one access entry per principal: a role shared by two teams would be two entries.
            const other = cfg.teams.findIndex((t, k) => k < i && t.deployRoleArns.includes(arn));
            const earlier = team.deployRoleArns.indexOf(arn) < j;
            if (other >= 0 || earlier) {
                problems.push(`${tkey(`deployRoleArns[${j}]`)}: got ${show(arn)}; expected a role no other entry maps (${earlier ? "listed twice" : `teams[${other}] (team ${JSON.stringify(cfg.teams[other]?.name)}) maps it`}): EKS keeps one access entry per principal.`);
            }
        });
        const quota = teamQuota(cfg, team);
        for (const [limit, request] of [["limitsCpu", "cpu"], ["limitsMemory", "memory"], ["limitsEphemeralStorage", "ephemeralStorage"]] as const) {
            if (quantityValue(quota[limit]) < quantityValue(quota[request])) {
                problems.push(`${tkey(`quota.${limit}`)}: got ${show(quota[limit])}; expected at least the requests quota ${show(quota[request])} (${request}).`);
            }
        }
        const models = new Set<string>();
        team.driftChecks.forEach((check, j) => {
            if (models.has(check.model)) problems.push(`${tkey(`driftChecks[${j}].model`)}: got ${show(check.model)}; expected one drift check per model.`);
            models.add(check.model);
        });
    });
    const lr = cfg.serving.limitRange;
    for (const [low, high] of [
        ["defaultCpuRequest", "defaultCpuLimit"],
        ["defaultCpuLimit", "maxCpu"],
        ["defaultMemoryRequest", "defaultMemoryLimit"],
        ["defaultMemoryLimit", "maxMemory"],
        ["defaultEphemeralStorageRequest", "defaultEphemeralStorageLimit"],
        ["defaultEphemeralStorageLimit", "maxEphemeralStorage"],
    ] as const) {
        if (quantityValue(lr[low]) > quantityValue(lr[high])) {
            problems.push(`${key(`serving.limitRange.${low}`)}: got ${show(lr[low])}; expected at most ${high} (${show(lr[high])}).`);
        }
    }
    const image = cfg.monitoring.driftCheckImage;
    if (cfg.environment !== "dev" && image !== undefined && !image.includes("@sha256:")) {
        problems.push(`${key("monitoring.driftCheckImage")}: got ${show(image)}; expected an image pinned by digest (repo@sha256:...) in ${cfg.environment}.`);
    }
    const receivers = [cfg.owner, ...cfg.teams.map((t) => t.name)];
    const allowed = receivers.flatMap((r) => Object.values(CREDENTIAL_SUFFIXES).map((s) => `${r}${s}`));
    for (const name of Object.keys(cfg.alertmanagerCredentials ?? {})) {
        // Only the key is shown: the values are secrets.
        if (!allowed.includes(name)) {
            const suggestion = suggestKey(name, allowed);
            problems.push(
                `${key(`alertmanagerCredentials.${name}`)}: unknown credential` +
                    (suggestion ? `; did you mean "${suggestion}"?` : ".") +
                    ` Expected <receiver>${CREDENTIAL_SUFFIXES.slack} or <receiver>${CREDENTIAL_SUFFIXES.pagerduty}, where the receiver is ${receivers.join(", ")}.`,
            );
        }
    }
    return problems;
}
