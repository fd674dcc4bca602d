/**
 * Happy-path resources for the policy tests: each complies with every policy. A test copies one,
 * changes one field, and asserts the violation. Label and annotation keys come from the contract
 * (components/contract), which the components write and the policies read.
 */
import { labelKeys } from "../../components/contract";
import type { TestResource } from "./util";

export const DOMAIN = "acme.io";
export const K = labelKeys(DOMAIN);

export const ACCOUNT = "410987654321";
export const REGISTRY = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
export const DIGEST = `sha256:${"a".repeat(64)}`;
export const IMAGE = `${REGISTRY}/acme/models/fraud@${DIGEST}`;
export const BUCKET_NAME = "acme-mlops-prod-artifacts-410987654321-eu-west-1";
export const BUCKET_ARN = `arn:aws:s3:::${BUCKET_NAME}`;
export const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/9C8B7A6D5E4F3A2B1C0D9E8F7A6B5C43";
export const OIDC_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`;

export const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
export const STATEFULSET = "kubernetes:apps/v1:StatefulSet";
export const CRONJOB = "kubernetes:batch/v1:CronJob";
export const POD = "kubernetes:core/v1:Pod";
export const SERVICE = "kubernetes:core/v1:Service";
export const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
export const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
export const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
export const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
export const POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor";
export const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
export const NAMESPACE = "kubernetes:core/v1:Namespace";
export const BUCKET = "aws:s3/bucket:Bucket";
export const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
export const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
export const PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
export const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
export const KMS_KEY = "aws:kms/key:Key";
export const RDS = "aws:rds/instance:Instance";
export const ROLE = "aws:iam/role:Role";
export const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
export const IAM_POLICY = "aws:iam/policy:Policy";
export const AWS_PROVIDER = "pulumi:providers:aws";

/** Ownership labels of the platform team. */
export const OWNERSHIP = { [K.team]: "fraud-team", [K.owner]: "fraud-team", [K.environment]: "prod", [K.costCentre]: "CC-4410" };
export const SELECTOR = { "app.kubernetes.io/name": "fraud", "app.kubernetes.io/instance": "fraud", "app.kubernetes.io/component": "model-server" };
export const POD_LABELS = { ...SELECTOR, ...OWNERSHIP, [K.model]: "fraud", [K.modelVersion]: "7" };

export const APPROVAL = { [K.approvedBy]: "jane.doe", [K.approvalTicket]: "MLOPS-1234", [K.approvalDate]: "2025-06-01" };

/** A hardened container of a model server. */
export function container(name = "server"): Record<string, any> {
    return {
        name,
        image: IMAGE,
        env: [
            { name: "MODEL_URI", value: "models:/fraud/7" },
            { name: "MLFLOW_TRACKING_TOKEN", valueFrom: { secretKeyRef: { name: "mlflow-token", key: "token" } } },
            { name: "LOG_LEVEL", value: "info" },
        ],
        ports: [{ name: "http", containerPort: 8080 }],
        resources: {
            requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "256Mi" },
            limits: { cpu: "2", memory: "2Gi", "ephemeral-storage": "1280Mi" },
        },
        readinessProbe: { httpGet: { path: "/health", port: "http" } },
        livenessProbe: { httpGet: { path: "/health", port: "http" } },
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
            privileged: false,
        },
    };
}

/** A pod spec: one hardened container and an init container. */
export function podSpec(): Record<string, any> {
    const init = container("download-model");
    delete init.readinessProbe;
    delete init.livenessProbe;
    return {
        serviceAccountName: "fraud",
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [init],
        containers: [container()],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }],
    };
}

/** A prod model server Deployment that complies with every policy. */
export function modelDeployment(): Record<string, any> {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "fraud", namespace: "team-fraud", labels: { ...POD_LABELS }, annotations: { ...APPROVAL } },
        spec: {
            replicas: 3,
            selector: { matchLabels: { ...SELECTOR } },
            template: { metadata: { labels: { ...POD_LABELS } }, spec: podSpec() },
        },
    };
}

/** A batch inference CronJob that complies with every policy. */
export function modelCronJob(): Record<string, any> {
    const spec = podSpec();
    spec.restartPolicy = "Never";
    delete spec.containers[0].readinessProbe;
    delete spec.containers[0].livenessProbe;
    return {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: {
            name: "fraud-batch",
            namespace: "team-fraud",
            labels: { ...POD_LABELS, "app.kubernetes.io/component": "batch-inference" },
            annotations: { ...APPROVAL },
        },
        spec: {
            schedule: "0 2 * * *",
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 300,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
                spec: {
                    activeDeadlineSeconds: 3600,
                    backoffLimit: 2,
                    ttlSecondsAfterFinished: 86400,
                    template: { metadata: { labels: { ...POD_LABELS, "app.kubernetes.io/component": "batch-inference" } }, spec },
                },
            },
        },
    };
}

export function modelService(): Record<string, any> {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "fraud", namespace: "team-fraud", labels: { ...SELECTOR, ...OWNERSHIP } },
        spec: { type: "ClusterIP", selector: { ...SELECTOR }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    };
}

export function pdb(): Record<string, any> {
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "fraud", namespace: "team-fraud", labels: { ...OWNERSHIP } },
        spec: { maxUnavailable: 1, selector: { matchLabels: { ...SELECTOR } } },
    };
}

export function serviceMonitor(): Record<string, any> {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "fraud", namespace: "team-fraud", labels: { ...OWNERSHIP } },
        spec: { selector: { matchLabels: { ...SELECTOR } }, endpoints: [{ port: "http", path: "/metrics" }] },
    };
}

export function prometheusRule(): Record<string, any> {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "fraud-alerts", namespace: "team-fraud", labels: { ...OWNERSHIP } },
        spec: {
            groups: [
                {
                    name: "fraud",
                    rules: [
                        { record: "mlops:request_rate", expr: "sum(rate(mlops_requests_total[5m])) by (model)" },
                        {
                            alert: "ModelHighErrorRate",
                            expr: 'sum(rate(mlops_request_errors_total{model="fraud"}[5m])) / sum(rate(mlops_requests_total{model="fraud"}[5m])) > 0.05',
                            labels: { severity: "page", team: "fraud-team" },
                        },
                    ],
                },
            ],
        },
    };
}

/** The model workload with everything around it: Service, PDB, ServiceMonitor, PrometheusRule. */
export function modelStack(): TestResource[] {
    return [
        { type: DEPLOYMENT, name: "fraud-deployment", props: modelDeployment() },
        { type: CRONJOB, name: "fraud-batch", props: modelCronJob() },
        { type: SERVICE, name: "fraud-service", props: modelService() },
        { type: PDB, name: "fraud-pdb", props: pdb() },
        { type: SERVICE_MONITOR, name: "fraud-monitor", props: serviceMonitor() },
        { type: PROMETHEUS_RULE, name: "fraud-rules", props: prometheusRule() },
    ];
}

export const DEFAULT_TAGS = { owner: "ml-platform", environment: "prod", "cost-centre": "CC-4410", "managed-by": "pulumi" };

/** The AWS provider as the engine sends it: nested settings as JSON strings. */
export function awsProvider(tags: Record<string, string> = DEFAULT_TAGS): TestResource {
    return { type: AWS_PROVIDER, name: "aws-prod", props: { region: "eu-west-1", defaultTags: JSON.stringify({ tags }) } };
}

export function tlsOnlyPolicy(arn = BUCKET_ARN): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    });
}

/** A bucket with its encryption, versioning, public access block and policy, joined by `bucket`. */
export function bucketStack(): TestResource[] {
    const dep = { bucket: ["bucket"] };
    return [
        awsProvider(),
        { type: BUCKET, name: "bucket", provider: "aws-prod", props: { bucket: BUCKET_NAME, forceDestroy: false } },
        {
            type: SSE,
            name: "bucket-encryption",
            provider: "aws-prod",
            propertyDependencies: dep,
            props: {
                bucket: BUCKET_NAME,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN }, bucketKeyEnabled: true }],
            },
        },
        {
            type: VERSIONING,
            name: "bucket-versioning",
            provider: "aws-prod",
            propertyDependencies: dep,
            props: { bucket: BUCKET_NAME, versioningConfiguration: { status: "Enabled" } },
        },
        {
            type: PUBLIC_ACCESS,
            name: "bucket-public-access",
            provider: "aws-prod",
            propertyDependencies: dep,
            props: { bucket: BUCKET_NAME, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        },
        {
            type: BUCKET_POLICY,
            name: "bucket-policy",
            provider: "aws-prod",
            propertyDependencies: dep,
            props: { bucket: BUCKET_NAME, policy: tlsOnlyPolicy() },
        },
    ];
}

export function rdsInstance(): Record<string, any> {
    return {
        identifier: "acme-prod-mlflow",
        engine: "postgres",
        storageEncrypted: true,
        kmsKeyId: KEY_ARN,
        publiclyAccessible: false,
        backupRetentionPeriod: 30,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: "acme-prod-mlflow-final",
        multiAz: true,
    };
}

export function scopedPolicyDocument(): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "ListPrefixes", Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET_ARN, Condition: { StringLike: { "s3:prefix": ["models/*"] } } },
            { Sid: "ReadObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: [`${BUCKET_ARN}/models/*`] },
            { Sid: "DecryptWithBucketKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: KEY_ARN },
            { Sid: "DenyEverythingElse", Effect: "Deny", Action: "*", NotResource: [BUCKET_ARN, `${BUCKET_ARN}/*`] },
        ],
    });
}

export function irsaTrust(sub: unknown = "system:serviceaccount:team-fraud:fraud", operator = "StringEquals"): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ServiceAccountWebIdentity",
                Effect: "Allow",
                Principal: { Federated: OIDC_ARN },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { [operator]: { [`${ISSUER}:sub`]: sub, [`${ISSUER}:aud`]: "sts.amazonaws.com" } },
            },
        ],
    });
}
