/**
 * The stack configuration's schema: one typed schema for everything the platform stack reads
 * (`Pulumi.<stack>.yaml`, keys in the `mlops:` namespace), each key with its format and the sentence an
 * error message gives for it. Defaults per environment are in defaults.ts, the rules that span keys in
 * rules.ts, the messages in messages.ts; parse.ts puts them together (stacks/config/index.ts).
 *
 * The platform stack and its components read it; the team library (components/team) never does.
 */
import { z } from "zod";
import { CONFIG_NAMESPACE, ENVIRONMENTS, type Environment, IMAGE_REFERENCE } from "../../components/contract";
import { K8S_QUANTITY, type ResourceSettings } from "../../components/shared/resources";

/** The configuration namespace (the Pulumi project name), and the environments: the contract's. */
export { CONFIG_NAMESPACE, ENVIRONMENTS, type Environment };
/** Container resources: the shared type both the stack config and a team's args give them in. */
export type { ResourceSettings };

// ---------------------------------------------------------------------------------------------
// Formats. Each carries the sentence used in error messages, so a user learns what is allowed.
// ---------------------------------------------------------------------------------------------

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
export const IAM_ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const OIDC_PROVIDER_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:oidc-provider\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[A-Z0-9]{8,64}$/;
const VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
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
const cidr = z
    .string({ message: "an IPv4 CIDR block like 10.20.0.0/16" })
    .refine(isIpv4Cidr, { message: "an IPv4 CIDR block like 10.20.0.0/16 (no host bits set)" });
const quantity = fmt(K8S_QUANTITY, "a Kubernetes quantity like 500m, 2, 512Mi or 4Gi");
const posInt = (max: number) =>
    z
        .number({ message: `an integer from 1 to ${max}` })
        .int({ message: `an integer from 1 to ${max}` })
        .min(1, { message: `an integer from 1 to ${max}` })
        .max(max, { message: `an integer from 1 to ${max}` });
const count = (min: number, max: number) =>
    z
        .number({ message: `an integer from ${min} to ${max}` })
        .int({ message: `an integer from ${min} to ${max}` })
        .min(min, { message: `an integer from ${min} to ${max}` })
        .max(max, { message: `an integer from ${min} to ${max}` });
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
    /** What a signed-in user may do on experiments and models nobody granted them (basic auth): READ or NO_PERMISSIONS, so a team's models stay its own. Default READ. */
    authDefaultPermission: z
        .enum(["READ", "NO_PERMISSIONS"], { message: "one of READ, NO_PERMISSIONS (EDIT or MANAGE would let every user edit every team's models)" })
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

const gatewaySchema = z.strictObject({
    /** Name of the Gateway (Gateway API) in `cluster.gatewayNamespace` that teams' ModelRoutes attach to. */
    name: fmt(DNS_LABEL, "a Gateway name (lower-case letters, digits and -)"),
    /** Its HTTPS listener: TLS ends there, with a certificate for `*.<team>.<hostnameSuffix>` of every team. */
    sectionName: fmt(DNS_LABEL, "a listener name of the Gateway (lower-case letters, digits and -)"),
    /** DNS suffix of model hostnames: `<service>.<team>.<hostnameSuffix>`. */
    hostnameSuffix: fmt(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, "a DNS domain like models.acme.io"),
});

const servingSchema = z.strictObject({
    /** ResourceQuota of every team namespace (a team may override keys in `teams[].quota`). */
    quota: quotaSchema,
    /** LimitRange of every team namespace. */
    limitRange: limitRangeSchema,
    /**
     * The Gateway teams expose models through (stack output `gateway`, which readPlatform passes to
     * ModelRoute). Omit when the cluster has none: ModelRoute then refuses.
     */
    gateway: gatewaySchema.optional(),
    /**
     * Image with the AWS CLI that downloads models for the onnx, triton and torchserve runtimes (stack
     * output `modelFetchImage`, which readPlatform passes to ModelService); pinned by digest outside dev.
     * Omit: those runtimes are refused.
     */
    modelFetchImage: fmt(
        IMAGE_REFERENCE,
        "an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/aws-cli:2.22.0@sha256:<64 hex digits>",
    ).optional(),
});

const receiverSchema = z.strictObject({
    /** Slack channel the alerts go to; the webhook URL is a secret in mlops:alertmanagerCredentials. */
    slackChannel: fmt(/^#[a-z0-9][a-z0-9._-]{0,79}$/, "a Slack channel like #fraud-ml-alerts (lower-case)"),
    /** Also page through PagerDuty for critical alerts (routing key in mlops:alertmanagerCredentials). Default false. */
    pagerduty: bool.default(false),
});

const positive = (max: number, what: string) =>
    z
        .number({ message: `${what} above 0 and at most ${max}` })
        .gt(0, { message: `${what} above 0 and at most ${max}` })
        .max(max, { message: `${what} above 0 and at most ${max}` });

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

// The feature store (featureStore.ts): Feast projects of the teams, their feature servers and online store.

const onlineStoreSchema = z.strictObject({
    /** `in-cluster` (a Redis StatefulSet with a volume: dev only) or `elasticache` (encrypted, private, authenticated). */
    kind: z.enum(["in-cluster", "elasticache"], { message: "one of in-cluster, elasticache" }),
    /** Pinned Redis image of the in-cluster store. */
    image: fmt(IMAGE_REFERENCE, "an image reference like docker.io/library/redis:7.2.5").refine((ref) => !/:latest(@|$)/.test(ref), {
        message: "a pinned image, not :latest",
    }),
    /** Volume size of the in-cluster store in GiB. */
    storageGiB: count(1, 1024),
    /** Redis `maxmemory` of the in-cluster store in MiB (keep it below resources.memoryLimit). */
    maxMemoryMiB: count(16, 262144),
    /** Requests and limits of the in-cluster Redis. */
    resources: resourcesSchema,
    /** ElastiCache node type. */
    nodeType: fmt(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "an ElastiCache node type like cache.t4g.small"),
    /** ElastiCache Redis engine version. */
    engineVersion: fmt(/^\d+\.\d+$/, "a Redis version like 7.1"),
    /** ElastiCache nodes: a primary and its replicas; more than one fails over automatically across zones. */
    nodes: count(1, 6),
    /** Days of ElastiCache snapshots kept (0: none). */
    snapshotRetentionDays: count(0, 35),
});

const featureStoreSchema = z.strictObject({
    /** Run the feature store: a Feast project per team of the environment. */
    enabled: bool,
    /** Namespace of the feature servers, the materialization jobs and the dev Redis. Default feast. */
    namespace: fmt(DNS_LABEL, "a Kubernetes namespace name (lower-case letters, digits and -)").default("feast"),
    /** Feast version of images/feast: the build fails unless its lock pins it. */
    version: fmt(/^\d+\.\d+\.\d+$/, "an exact Feast version like 0.67.0"),
    /** Prebuilt Feast image (`repo@sha256:...`, a tag alone is accepted in dev only); omit to build `images/feast`. */
    image: fmt(IMAGE_REFERENCE, "an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/feast@sha256:<64 hex digits>")
        .refine((ref) => !/:latest(@|$)/.test(ref), { message: "a pinned image, not :latest" })
        .optional(),
    /** Each team's feature server. */
    server: z.strictObject({
        /** Replicas per team; more than one gets a PodDisruptionBudget. */
        replicas: count(1, 20),
        /** gunicorn workers per replica. */
        workers: count(1, 16),
        /** Requests and limits of each replica. */
        resources: resourcesSchema,
    }),
    /** Seconds a server or job keeps the registry before reading it again from S3. */
    registryCacheTtlSeconds: count(5, 86400),
    /** Days an entity's online values live after their last write. */
    onlineKeyTtlDays: count(1, 3650),
    /** Each team's materialization job (`feast materialize-incremental`). */
    materialize: z.strictObject({
        /** Cron schedule. */
        schedule: fmt(CRON, "a five-field cron expression like */30 * * * *"),
        /** Requests and limits of the job's pod. */
        resources: resourcesSchema,
    }),
    /** The online store. */
    onlineStore: onlineStoreSchema,
});

const tensorboardSchema = z.strictObject({
    /** Run a TensorBoard per team of the environment (in its serving namespace, behind a signing-in proxy). */
    enabled: bool,
    /** Prebuilt TensorBoard image (`repo@sha256:...`, a tag alone is accepted in dev only); omit to build `images/tensorboard`. */
    image: fmt(IMAGE_REFERENCE, "an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/tensorboard@sha256:<64 hex digits>")
        .refine((ref) => !/:latest(@|$)/.test(ref), { message: "a pinned image, not :latest" })
        .optional(),
    /** Seconds between reloads of the team's log directory. */
    reloadIntervalSeconds: count(5, 3600),
    /** Replicas of each team's TensorBoard; more than one gets a PodDisruptionBudget. */
    replicas: count(1, 5),
    /** Requests and limits of each team's TensorBoard container. */
    resources: resourcesSchema,
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
    /** The feature store (Feast): a project, a feature server and a materialization job per team, and the online store. */
    featureStore: featureStoreSchema,
    /** A TensorBoard per team, reading the team's run logs (teams/<team>/tensorboard/ in the artifact bucket). */
    tensorboard: tensorboardSchema,
    /**
     * Alertmanager receiver secrets, set with `pulumi config set --secret --path
     * 'mlops:alertmanagerCredentials.<receiver>-slack-webhook-url'` (or `-pagerduty-routing-key`). The
     * program treats every value as a Pulumi secret. Optional: a missing one is reported as a warning.
     */
    alertmanagerCredentials: z.record(z.string(), z.string({ message: "a non-empty string" }).min(1, { message: "a non-empty string" })).optional(),
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
export type DatabaseSettings = z.infer<typeof databaseSchema>;
export type TeamConfig = z.infer<typeof teamSchema>;
export type QuotaSettings = z.infer<typeof quotaSchema>;
export type LimitRangeSettings = z.infer<typeof limitRangeSchema>;
export type SloSettings = z.infer<typeof sloSchema>;
export type ReceiverSettings = z.infer<typeof receiverSchema>;

/** The schema's resources are the shared {@link ResourceSettings}, key for key (a compile-time check). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const RESOURCES_MATCH_SHARED_TYPE: Same<z.infer<typeof resourcesSchema>, ResourceSettings> extends true ? true : never = true;
