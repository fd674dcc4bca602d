/**
 * A corpus of deliberately misconfigured stacks: each takes what the real program records for a stack
 * (`runStack`), changes one thing, and names the policy that must catch it and at which level the
 * stack's config file enforces it. Together they cover every policy of every pack.
 *
 * Model policies start from the "model" baseline (the recorded MLflow Deployment labelled as an
 * approved, pinned model workload) or from the team-fraud example project, which deploys a real
 * ModelService and BatchInference on the platform: a single change then makes one defect.
 */
import type { RecordedResource } from "../../engine/recorder";
import { labelKeys } from "../../components/contract";

const K = labelKeys("acme.io");
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type Props = Record<string, any>;

/**
 * Edits a copy of a recording; resources are found by their name. A resource is copied when it is first
 * taken (`get`, and so `edit`, `remove` and `derive`): the resources given are never changed, and the
 * ones not taken stay the same objects, so runs of the packs over the original and the edited stack can
 * share their decoding of them (policy/framework/runner.ts `runDecoder`).
 */
export class StackEditor {
    readonly resources: RecordedResource[];
    /** The copies this editor made (its own to change). */
    private readonly copies = new Set<RecordedResource>();
    constructor(resources: readonly RecordedResource[]) {
        this.resources = [...resources];
    }
    get(name: string): RecordedResource {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
        if (this.copies.has(found[0])) return found[0];
        const copy = structuredClone(found[0]);
        this.resources[this.resources.indexOf(found[0])] = copy;
        this.copies.add(copy);
        return copy;
    }
    /** Applies `fn` to the resource's inputs and to its recorded state (what stack policies read). */
    edit(name: string, fn: (props: Props) => void): this {
        const r = this.get(name);
        fn(r.inputs);
        if (r.outputs && Object.keys(r.outputs).length > 0) fn(r.outputs);
        return this;
    }
    remove(name: string): this {
        const r = this.get(name);
        this.resources.splice(this.resources.indexOf(r), 1);
        return this;
    }
    /** Adds a copy of `name` as a new resource of `type` named `newName`, with `inputs`. */
    derive(name: string, type: string, newName: string, inputs: Props): this {
        const r = structuredClone(this.get(name));
        r.type = type;
        r.name = newName;
        const parts = r.urn.split("::");
        parts[2] = parts[2].includes("$") ? parts[2].replace(/[^$]+$/, type) : type;
        parts[3] = newName;
        r.urn = parts.join("::");
        r.inputs = inputs;
        r.outputs = inputs;
        r.propertyDependencies = {};
        this.resources.push(r);
        return this;
    }
}

const mlflowContainer = (d: Props) => d.spec.template.spec.containers[0];
const driftContainer = (c: Props) => c.spec.jobTemplate.spec.template.spec.containers[0];
const rolePolicy = (p: Props, fn: (doc: any) => void) => {
    const doc = JSON.parse(p.policy);
    fn(doc);
    p.policy = JSON.stringify(doc);
};

/** The model baseline: the MLflow Deployment labelled and annotated as an approved, pinned model workload. */
export function asModelWorkload(s: StackEditor): StackEditor {
    return s.edit("mlflow-deployment", (d) => {
        for (const labels of [d.metadata.labels, d.spec.template.metadata.labels]) Object.assign(labels, { [K.model]: "mlflow", [K.modelVersion]: "3" });
        d.metadata.annotations = {
            ...(d.metadata.annotations ?? {}),
            [K.approvedBy]: "jane.doe",
            [K.approvalTicket]: "MLOPS-1234",
            [K.approvalDate]: "2025-06-01",
        };
    });
}

export interface Defect {
    /** What is wrong, in a few words. */
    readonly id: string;
    readonly stack: "dev" | "test" | "prod";
    /** The policy that must catch it. */
    readonly policy: string;
    /** The level the stack's config file enforces it at. */
    readonly level: "mandatory" | "advisory";
    /** Start from the MLflow Deployment labelled as a model workload, or from the team-fraud example project. */
    readonly base?: "model" | "team-fraud";
    readonly apply: (s: StackEditor) => void;
}

const DEV_BUCKET = "acme-mlops-dev-artifacts-210987654321-eu-west-1";

export const DEFECTS: readonly Defect[] = [
    // --- security: storage and keys
    {
        id: "bucket without encryption configuration",
        stack: "prod",
        policy: "s3-bucket-encrypted-with-kms",
        level: "mandatory",
        apply: (s) => s.remove("artifacts-encryption"),
    },
    {
        id: "bucket encrypted with SSE-S3",
        stack: "prod",
        policy: "s3-bucket-encrypted-with-kms",
        level: "mandatory",
        apply: (s) => s.edit("artifacts-encryption", (p) => (p.rules[0].applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" })),
    },
    {
        id: "versioning suspended",
        stack: "prod",
        policy: "s3-bucket-versioning-enabled",
        level: "mandatory",
        apply: (s) => s.edit("artifacts-versioning", (p) => (p.versioningConfiguration.status = "Suspended")),
    },
    {
        id: "public buckets not restricted",
        stack: "prod",
        policy: "s3-bucket-public-access-blocked",
        level: "mandatory",
        apply: (s) => s.edit("artifacts-public-access", (p) => (p.restrictPublicBuckets = false)),
    },
    {
        id: "dev bucket without public access block",
        stack: "dev",
        policy: "s3-bucket-public-access-blocked",
        level: "mandatory",
        apply: (s) => s.remove("artifacts-public-access"),
    },
    { id: "bucket policy removed", stack: "prod", policy: "s3-bucket-tls-only", level: "mandatory", apply: (s) => s.remove("artifacts-policy") },
    {
        id: "key rotation off",
        stack: "prod",
        policy: "kms-key-rotation-enabled",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-key", (p) => (p.enableKeyRotation = false)),
    },
    // --- security: database
    {
        id: "database unencrypted",
        stack: "prod",
        policy: "rds-storage-encrypted",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-instance", (p) => (p.storageEncrypted = false)),
    },
    {
        id: "database public",
        stack: "prod",
        policy: "rds-not-publicly-accessible",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-instance", (p) => (p.publiclyAccessible = true)),
    },
    {
        id: "database open to the internet",
        stack: "prod",
        policy: "security-group-ingress-restricted",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-ingress-nodes", (p) => (delete p.referencedSecurityGroupId, (p.cidrIpv4 = "0.0.0.0/0"))),
    },
    {
        id: "image repository with mutable tags",
        stack: "prod",
        policy: "ecr-repository-hardened",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-image-repository", (p) => (p.imageTagMutability = "MUTABLE")),
    },
    {
        id: "dev image repository without scanning",
        stack: "dev",
        policy: "ecr-repository-hardened",
        level: "advisory",
        apply: (s) => s.edit("mlflow-image-repository", (p) => (p.imageScanningConfiguration = { scanOnPush: false })),
    },
    {
        id: "backups kept 3 days",
        stack: "prod",
        policy: "rds-backup-retention",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-instance", (p) => (p.backupRetentionPeriod = 3)),
    },
    {
        id: "test backups kept 3 days",
        stack: "test",
        policy: "rds-backup-retention",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-instance", (p) => (p.backupRetentionPeriod = 3)),
    },
    {
        id: "deletion protection off",
        stack: "prod",
        policy: "rds-deletion-protected",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-instance", (p) => (p.deletionProtection = false)),
    },
    {
        id: "single-AZ database",
        stack: "prod",
        policy: "rds-multi-az",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-db-instance", (p) => (p.multiAz = false)),
    },
    // --- security: the feature store's online store
    {
        id: "online store unencrypted at rest",
        stack: "prod",
        policy: "elasticache-encrypted-authenticated",
        level: "mandatory",
        apply: (s) => s.edit("feature-store-elasticache-replication-group", (p) => (p.atRestEncryptionEnabled = false)),
    },
    {
        id: "online store in plain text",
        stack: "test",
        policy: "elasticache-encrypted-authenticated",
        level: "mandatory",
        apply: (s) => s.edit("feature-store-elasticache-replication-group", (p) => (p.transitEncryptionMode = "preferred")),
    },
    {
        id: "online store without AUTH",
        stack: "prod",
        policy: "elasticache-encrypted-authenticated",
        level: "mandatory",
        apply: (s) => s.edit("feature-store-elasticache-replication-group", (p) => delete p.authToken),
    },
    // --- security: IAM
    {
        id: "s3:* on the artifacts",
        stack: "prod",
        policy: "iam-no-wildcard-actions",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-artifacts-policy", (p) => rolePolicy(p, (doc) => (doc.Statement[1].Action = ["s3:*"]))),
    },
    {
        id: "object access on Resource *",
        stack: "prod",
        policy: "iam-no-wildcard-resources",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-artifacts-policy", (p) => rolePolicy(p, (doc) => (doc.Statement[1].Resource = "*"))),
    },
    {
        id: "dev role with object access on Resource *",
        stack: "dev",
        policy: "iam-no-wildcard-resources",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-artifacts-policy", (p) => rolePolicy(p, (doc) => (doc.Statement[1].Resource = "*"))),
    },
    {
        id: "IRSA trust for every service account of the namespace",
        stack: "prod",
        policy: "irsa-trust-pinned-to-service-account",
        level: "mandatory",
        apply: (s) =>
            s.edit("mlflow-role", (p) => {
                const doc = JSON.parse(p.assumeRolePolicy);
                const eq = doc.Statement[0].Condition.StringEquals;
                const key = Object.keys(eq).find((k) => k.endsWith(":sub"))!;
                doc.Statement[0].Condition = {
                    StringLike: { [key]: "system:serviceaccount:mlflow:*" },
                    StringEquals: { [key.replace(/:sub$/, ":aud")]: "sts.amazonaws.com" },
                };
                p.assumeRolePolicy = JSON.stringify(doc);
            }),
    },
    // --- security: pods
    {
        id: "root user",
        stack: "prod",
        policy: "pod-run-as-non-root",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (mlflowContainer(d).securityContext.runAsUser = 0)),
    },
    {
        id: "API token mounted",
        stack: "prod",
        policy: "pod-service-account-token-not-mounted",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (d.spec.template.spec.automountServiceAccountToken = true)),
    },
    {
        id: "wildcard deployer role",
        stack: "prod",
        policy: "rbac-no-wildcards",
        level: "mandatory",
        apply: (s) => s.edit("team-fraud-deployer-role", (r) => r.rules.push({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] })),
    },
    {
        id: "dev root user",
        stack: "dev",
        policy: "pod-run-as-non-root",
        level: "advisory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (mlflowContainer(d).securityContext.runAsUser = 0)),
    },
    {
        id: "privilege escalation allowed",
        stack: "prod",
        policy: "pod-no-privilege-escalation",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (mlflowContainer(d).securityContext.allowPrivilegeEscalation = true)),
    },
    {
        id: "writable root filesystem",
        stack: "prod",
        policy: "pod-read-only-root-filesystem",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-gc", (c) => (driftContainer(c).securityContext.readOnlyRootFilesystem = false)),
    },
    {
        id: "SYS_ADMIN added",
        stack: "prod",
        policy: "pod-capabilities-restricted",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (mlflowContainer(d).securityContext.capabilities.add = ["SYS_ADMIN"])),
    },
    {
        id: "seccomp unconfined",
        stack: "prod",
        policy: "pod-seccomp-profile",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (mlflowContainer(d).securityContext.seccompProfile = { type: "Unconfined" })),
    },
    {
        id: "host network",
        stack: "prod",
        policy: "pod-no-host-namespaces",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (d.spec.template.spec.hostNetwork = true)),
    },
    {
        id: "hostPath volume",
        stack: "prod",
        policy: "pod-no-host-path",
        level: "mandatory",
        apply: (s) =>
            s.edit("fraud-drift-fraud-scorer-cronjob", (c) => c.spec.jobTemplate.spec.template.spec.volumes.push({ name: "host", hostPath: { path: "/" } })),
    },
    {
        id: "privileged container",
        stack: "prod",
        policy: "pod-no-privileged",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (mlflowContainer(d).securityContext.privileged = true)),
    },
    {
        id: "no limits",
        stack: "prod",
        policy: "container-resources-required",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => delete mlflowContainer(d).resources.limits),
    },
    {
        id: "no ephemeral-storage limit",
        stack: "prod",
        policy: "container-ephemeral-storage-set",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => delete d.spec.template.spec.initContainers[0].resources.limits["ephemeral-storage"]),
    },
    {
        id: "ephemeral-storage limit below the drift check's /tmp",
        stack: "test",
        policy: "container-ephemeral-storage-set",
        level: "mandatory",
        apply: (s) => s.edit("fraud-drift-fraud-scorer-cronjob", (c) => (driftContainer(c).resources.limits["ephemeral-storage"] = "512Mi")),
    },
    {
        id: "no readiness probe",
        stack: "prod",
        policy: "container-probes-required",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => delete mlflowContainer(d).readinessProbe),
    },
    {
        id: "GPU toleration on a pod without GPUs",
        stack: "prod",
        policy: "gpu-scheduling",
        level: "mandatory",
        apply: (s) =>
            s.edit("mlflow-deployment", (d) => (d.spec.template.spec.tolerations = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }])),
    },
    {
        id: "literal password",
        stack: "prod",
        policy: "secret-env-from-secret-ref",
        level: "mandatory",
        apply: (s) =>
            s.edit("fraud-drift-fraud-scorer-cronjob", (c) => {
                const password = driftContainer(c).env.find((e: Props) => e.name === "MLFLOW_TRACKING_PASSWORD");
                delete password.valueFrom;
                password.value = "hunter2";
            }),
    },
    {
        id: "dev literal password",
        stack: "dev",
        policy: "secret-env-from-secret-ref",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => mlflowContainer(d).env.push({ name: "MLFLOW_TRACKING_PASSWORD", value: "hunter2" })),
    },
    {
        id: "LoadBalancer Service",
        stack: "prod",
        policy: "service-type-restricted",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-service", (p) => (p.spec.type = "LoadBalancer")),
    },
    {
        id: "Ingress without TLS",
        stack: "prod",
        policy: "ingress-tls-required",
        level: "mandatory",
        apply: (s) => {
            const service = s.get("mlflow-service").inputs as Props;
            s.derive("mlflow-service", "kubernetes:networking.k8s.io/v1:Ingress", "mlflow-ingress", {
                apiVersion: "networking.k8s.io/v1",
                kind: "Ingress",
                metadata: { ...service.metadata },
                spec: {
                    rules: [
                        {
                            host: "mlflow.acme.io",
                            http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "mlflow", port: { name: "http" } } } }] },
                        },
                    ],
                },
            });
        },
    },
    {
        id: "route for another team's hostname",
        stack: "prod",
        policy: "httproute-gateway-hostnames",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) => {
            const service = s.get("fraud-scorer-service").inputs as Props;
            s.derive("fraud-scorer-service", "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "fraud-scorer-route", {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { ...service.metadata },
                spec: {
                    parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "platform", namespace: "ingress-nginx", sectionName: "https" }],
                    hostnames: ["fraud-scorer.recsys.models.acme.io"],
                    rules: [{ backendRefs: [{ name: service.metadata.name, port: 80 }] }],
                },
            });
        },
    },
    {
        id: "MLflow namespace without default deny",
        stack: "prod",
        policy: "network-policy-coverage",
        level: "mandatory",
        apply: (s) => s.remove("mlflow-default-deny"),
    },
    {
        id: "dev team namespace without default deny",
        stack: "dev",
        policy: "network-policy-coverage",
        level: "mandatory",
        apply: (s) => s.remove("team-fraud-default-deny"),
    },
    {
        id: "gc job without its allow",
        stack: "prod",
        policy: "network-policy-coverage",
        level: "mandatory",
        apply: (s) => s.remove("mlflow-gc-network-policy"),
    },
    // --- governance
    {
        id: "approval removed",
        stack: "prod",
        policy: "model-approval-record",
        level: "mandatory",
        base: "model",
        apply: (s) => s.edit("mlflow-deployment", (d) => delete d.metadata.annotations),
    },
    {
        id: "model version latest",
        stack: "prod",
        policy: "model-version-pinned",
        level: "mandatory",
        base: "model",
        apply: (s) => s.edit("mlflow-deployment", (d) => (d.spec.template.metadata.labels[K.modelVersion] = d.metadata.labels[K.modelVersion] = "latest")),
    },
    {
        id: "provider without cost-centre",
        stack: "prod",
        policy: "aws-ownership-tags",
        level: "mandatory",
        apply: (s) =>
            s.edit("aws-prod", (p) => {
                const dt = JSON.parse(p.defaultTags);
                delete dt.tags["cost-centre"];
                p.defaultTags = JSON.stringify(dt);
            }),
    },
    {
        id: "Service without team label",
        stack: "prod",
        policy: "kubernetes-ownership-labels",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-service", (p) => delete p.metadata.labels[K.team]),
    },
    {
        id: "dev Service without team label",
        stack: "dev",
        policy: "kubernetes-ownership-labels",
        level: "advisory",
        apply: (s) => s.edit("mlflow-service", (p) => delete p.metadata.labels[K.team]),
    },
    {
        id: "namespace labelled dev",
        stack: "prod",
        policy: "environment-matches-stack",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-namespace", (p) => (p.metadata.labels[K.environment] = "dev")),
    },
    {
        id: "artifacts in the dev bucket",
        stack: "prod",
        policy: "no-cross-environment-references",
        level: "mandatory",
        apply: (s) =>
            s.edit(
                "mlflow-deployment",
                (d) => (mlflowContainer(d).args = mlflowContainer(d).args.map((a: string) => a.replace(/^s3:\/\/[^/]+/, `s3://${DEV_BUCKET}`))),
            ),
    },
    {
        id: "dev role on the prod bucket",
        stack: "dev",
        policy: "no-cross-environment-references",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-artifacts-policy", (p) => (p.policy = p.policy.replaceAll("-dev-", "-prod-").replaceAll("210987654321", "410987654321"))),
    },
    {
        id: "image from Docker Hub",
        stack: "prod",
        policy: "image-registry-allowed",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (mlflowContainer(d).image = `ghcr.io/mlflow/mlflow@sha256:${"b".repeat(64)}`)),
    },
    {
        id: "latest image",
        stack: "prod",
        policy: "image-tag-not-latest",
        level: "mandatory",
        apply: (s) => s.edit("fraud-drift-fraud-scorer-cronjob", (c) => (driftContainer(c).image = driftContainer(c).image.replace(/:[^/]+$/, ":latest"))),
    },
    {
        id: "image by tag only",
        stack: "test",
        policy: "image-digest-pinned",
        level: "mandatory",
        apply: (s) => s.edit("fraud-drift-fraud-scorer-cronjob", (c) => (driftContainer(c).image = driftContainer(c).image.replace(/@sha256:[a-f0-9]+$/, ""))),
    },
    // --- reliability
    {
        id: "one replica",
        stack: "prod",
        policy: "deployment-replicas-ha",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-deployment", (d) => (d.spec.replicas = 1)),
    },
    { id: "PDB removed", stack: "prod", policy: "workload-has-pdb", level: "mandatory", apply: (s) => s.remove("mlflow-pdb") },
    {
        id: "bucket not protected",
        stack: "prod",
        policy: "stateful-resources-protected",
        level: "mandatory",
        apply: (s) => {
            s.get("artifacts-bucket").options.protect = false;
        },
    },
    {
        id: "overlapping gc runs",
        stack: "prod",
        policy: "cronjob-no-concurrent-runs",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-gc", (c) => (c.spec.concurrencyPolicy = "Allow")),
    },
    {
        id: "no starting deadline",
        stack: "prod",
        policy: "cronjob-deadlines-set",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-gc", (c) => delete c.spec.startingDeadlineSeconds),
    },
    {
        id: "dev unbounded retries",
        stack: "dev",
        policy: "cronjob-backoff-bounded",
        level: "advisory",
        apply: (s) => s.edit("mlflow-gc", (c) => (c.spec.jobTemplate.spec.backoffLimit = 10)),
    },
    {
        id: "unbounded retries",
        stack: "prod",
        policy: "cronjob-backoff-bounded",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-gc", (c) => (c.spec.jobTemplate.spec.backoffLimit = 10)),
    },
    {
        id: "gc runs never deleted",
        stack: "prod",
        policy: "cronjob-history-bounded",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-gc", (c) => delete c.spec.jobTemplate.spec.ttlSecondsAfterFinished),
    },
    {
        id: "dev gc keeps 20 failed runs",
        stack: "dev",
        policy: "cronjob-history-bounded",
        level: "advisory",
        apply: (s) => s.edit("mlflow-gc", (c) => (c.spec.failedJobsHistoryLimit = 20)),
    },
    {
        id: "team-users job without deadline",
        stack: "prod",
        policy: "job-runs-bounded",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-team-access-job", (j) => delete j.spec.activeDeadlineSeconds),
    },
    {
        id: "team-users job retried 10 times",
        stack: "prod",
        policy: "job-runs-bounded",
        level: "mandatory",
        apply: (s) => s.edit("mlflow-team-access-job", (j) => (j.spec.backoffLimit = 10)),
    },
    {
        id: "scorer asks for GPUs without the GPU toleration",
        stack: "prod",
        policy: "gpu-scheduling",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) =>
            s.edit("fraud-scorer-deployment", (d) => {
                for (const side of ["requests", "limits"]) mlflowContainer(d).resources[side]["nvidia.com/gpu"] = "1";
                d.spec.template.spec.nodeSelector = { "nvidia.com/gpu.present": "true" };
            }),
    },
    {
        id: "ServiceMonitor removed",
        stack: "prod",
        policy: "model-workload-monitored",
        level: "mandatory",
        base: "model",
        apply: (s) => s.remove("monitoring-mlflow-service-monitor"),
    },
    {
        id: "alerts removed",
        stack: "prod",
        policy: "model-alerts-defined",
        level: "mandatory",
        base: "model",
        apply: (s) => s.remove("monitoring-mlops-platform-alerts"),
    },
    // --- the team example: ModelService and BatchInference
    {
        id: "scorer approval a year old",
        stack: "prod",
        policy: "model-approval-record",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) =>
            s.edit("fraud-scorer-deployment", (d) => {
                for (const m of [d.metadata.annotations, d.metadata.labels]) if (m[K.approvalDate]) m[K.approvalDate] = "2025-10-01";
            }),
    },
    {
        id: "scorer serving an alias",
        stack: "prod",
        policy: "model-version-pinned",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) =>
            s.edit(
                "fraud-scorer-deployment",
                (d) => (mlflowContainer(d).env.find((e: Props) => e.name === "MODEL_URI").value = "models:/fraud-scorer@champion"),
            ),
    },
    {
        id: "HPA scales the scorer to one",
        stack: "prod",
        policy: "deployment-replicas-ha",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) => s.edit("fraud-scorer-hpa", (h) => (h.spec.minReplicas = 1)),
    },
    {
        id: "scorer ServiceMonitor removed",
        stack: "prod",
        policy: "model-workload-monitored",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) => s.remove("fraud-scorer-service-monitor"),
    },
    {
        id: "nightly job without active deadline",
        stack: "prod",
        policy: "cronjob-deadlines-set",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) => s.edit("fraud-nightly-scoring-cronjob", (c) => delete c.spec.jobTemplate.spec.activeDeadlineSeconds),
    },
    {
        id: "test scorer image by tag",
        stack: "test",
        policy: "image-digest-pinned",
        level: "mandatory",
        base: "team-fraud",
        apply: (s) => s.edit("fraud-scorer-deployment", (d) => (mlflowContainer(d).image = mlflowContainer(d).image.replace(/@sha256:[a-f0-9]+$/, ":12"))),
    },
];

/**
 * A preview of a new stack: every input that comes from another resource's output (it has property
 * dependencies) is unknown, as the engine sends it before those resources exist.
 */
export function asPreview(resources: readonly RecordedResource[]): RecordedResource[] {
    const custom = new Set(resources.filter((r) => r.custom).map((r) => r.urn));
    return structuredClone(resources as RecordedResource[]).map((r) => {
        for (const [key, deps] of Object.entries(r.propertyDependencies)) {
            if (!deps.some((d) => custom.has(d))) continue;
            if (key in r.inputs) r.inputs[key] = UNKNOWN;
            if (key in r.outputs) r.outputs[key] = UNKNOWN;
        }
        return r;
    });
}
