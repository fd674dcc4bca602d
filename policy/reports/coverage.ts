/**
 * The baseline coverage matrix: every resource type the platform and team stacks create, against the
 * controls that apply to it from AWS Foundational Security Best Practices (S3, KMS, IAM, RDS, ECR, EC2
 * security groups, EKS access) and Kubernetes hardening (Pod Security Standards, the CIS Kubernetes
 * Benchmark, the NSA/CISA hardening guide: pod security, service accounts and tokens, network policy,
 * Jobs and CronJobs, RBAC, images, secrets). Each row names the policy that enforces the control, with
 * its level per stack, or a documented exception with its reason; a type no control applies to says why.
 *
 * `npm run policy:coverage` writes docs/coverage.md and docs/coverage.json from the types the stacks
 * record; test/coverage.test.ts fails on a type without a row, a row without a policy or exception, a
 * policy that does not exist, or a stale file.
 */
import { readPackConfig } from "../framework/configFiles";
import { levelIn } from "./docs";
import { PACKS, STACKS } from "../packs";
import { environmentOfStack } from "../framework/context";

/** One control of a baseline, as it applies to resource types. */
export interface BaselineControl {
    readonly framework: "AWS-FSBP" | "PSS" | "CIS-K8S" | "NSA-CISA-K8S";
    /** Control id within the framework (`S3.8`, `restricted`, `5.1.6`, `Network separation`). */
    readonly control: string;
    readonly title: string;
    /** Pulumi type tokens of the resources it applies to. */
    readonly types: readonly string[];
    /** The policies that enforce it. */
    readonly policies?: readonly string[];
    /** Why no policy enforces it, and what does instead. */
    readonly exception?: string;
}

const T = {
    bucket: "aws:s3/bucket:Bucket",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    logging: "aws:s3/bucketLogging:BucketLogging",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    key: "aws:kms/key:Key",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    rds: "aws:rds/instance:Instance",
    elasticache: "aws:elasticache/replicationGroup:ReplicationGroup",
    ecr: "aws:ecr/repository:Repository",
    ecrLifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    sgIngress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    accessEntry: "aws:eks/accessEntry:AccessEntry",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    namespace: "kubernetes:core/v1:Namespace",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    secret: "kubernetes:core/v1:Secret",
    service: "kubernetes:core/v1:Service",
    k8sRole: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
} as const;
const WORKLOADS = [T.deployment, T.statefulSet, T.job, T.cronJob];

/** The controls, in the order the matrix shows them. */
export const BASELINE: readonly BaselineControl[] = [
    // --- AWS Foundational Security Best Practices --------------------------------------------------
    {
        framework: "AWS-FSBP",
        control: "S3.8",
        title: "S3 general purpose buckets should block public access",
        types: [T.bucket, T.pab],
        policies: ["s3-bucket-public-access-blocked"],
    },
    {
        framework: "AWS-FSBP",
        control: "S3.5",
        title: "S3 general purpose buckets should require requests to use SSL",
        types: [T.bucket, T.bucketPolicy],
        policies: ["s3-bucket-tls-only"],
    },
    {
        framework: "AWS-FSBP",
        control: "S3.14",
        title: "S3 general purpose buckets should have versioning enabled",
        types: [T.bucket, T.versioning],
        policies: ["s3-bucket-versioning-enabled"],
    },
    {
        framework: "AWS-FSBP",
        control: "S3.17",
        title: "S3 general purpose buckets should be encrypted at rest with AWS KMS keys",
        types: [T.bucket, T.sse],
        policies: ["s3-bucket-encrypted-with-kms"],
    },
    {
        framework: "AWS-FSBP",
        control: "S3.9",
        title: "S3 general purpose buckets should have server access logging enabled",
        types: [T.bucket, T.logging],
        exception:
            "the target is the account's log bucket, named per stack in mlops:artifactStore.accessLogBucket (test and prod name one; dev has none): ArtifactStore logs to it when it is set (test/platform.test.ts, 'logs access to the log bucket where one is configured'). No policy: whether a stack must log is the stack's configuration.",
    },
    {
        framework: "AWS-FSBP",
        control: "S3.13",
        title: "S3 general purpose buckets should have lifecycle configurations",
        types: [T.bucket, T.lifecycle],
        exception:
            "ArtifactStore always creates the lifecycle configuration with the environment's retention (test/platform.test.ts, 'lifecycle rules follow the environment's retention'); no bucket is created elsewhere.",
    },
    {
        framework: "AWS-FSBP",
        control: "S3.12",
        title: "ACLs should not be used to manage user access to S3 general purpose buckets",
        types: [T.bucket, T.ownership],
        exception:
            "ArtifactStore always sets BucketOwnerEnforced, which disables ACLs (test/platform.test.ts, 'is versioned, private, owner-enforced and TLS-only'); no bucket is created elsewhere.",
    },
    { framework: "AWS-FSBP", control: "KMS.4", title: "AWS KMS key rotation should be enabled", types: [T.key], policies: ["kms-key-rotation-enabled"] },
    {
        framework: "AWS-FSBP",
        control: "KMS.3",
        title: "AWS KMS keys should not be deleted unintentionally",
        types: [T.key],
        policies: ["stateful-resources-protected"],
    },
    {
        framework: "AWS-FSBP",
        control: "IAM.1",
        title: 'IAM policies should not allow full "*" administrative privileges',
        types: [T.role, T.rolePolicy],
        policies: ["iam-no-wildcard-actions", "iam-no-wildcard-resources"],
    },
    {
        framework: "AWS-FSBP",
        control: "IAM.21",
        title: "IAM customer managed policies should not allow wildcard actions for services",
        types: [T.role, T.rolePolicy],
        policies: ["iam-no-wildcard-actions"],
    },
    {
        framework: "AWS-FSBP",
        control: "RDS.2",
        title: "RDS DB instances should prohibit public access",
        types: [T.rds],
        policies: ["rds-not-publicly-accessible"],
    },
    {
        framework: "AWS-FSBP",
        control: "RDS.3",
        title: "RDS DB instances should have encryption at-rest enabled",
        types: [T.rds],
        policies: ["rds-storage-encrypted"],
    },
    {
        framework: "AWS-FSBP",
        control: "ElastiCache.4",
        title: "ElastiCache replication groups should be encrypted at rest",
        types: [T.elasticache],
        policies: ["elasticache-encrypted-authenticated"],
    },
    {
        framework: "AWS-FSBP",
        control: "ElastiCache.5",
        title: "ElastiCache replication groups should be encrypted in transit",
        types: [T.elasticache],
        policies: ["elasticache-encrypted-authenticated"],
    },
    {
        framework: "AWS-FSBP",
        control: "ElastiCache.6",
        title: "ElastiCache (Redis OSS) replication groups of earlier versions should have Redis OSS AUTH enabled",
        types: [T.elasticache],
        policies: ["elasticache-encrypted-authenticated"],
    },
    {
        framework: "AWS-FSBP",
        control: "RDS.5",
        title: "RDS DB instances should be configured with multiple Availability Zones",
        types: [T.rds],
        policies: ["rds-multi-az"],
    },
    {
        framework: "AWS-FSBP",
        control: "RDS.8",
        title: "RDS DB instances should have deletion protection enabled",
        types: [T.rds],
        policies: ["rds-deletion-protected"],
    },
    {
        framework: "AWS-FSBP",
        control: "RDS.11",
        title: "RDS instances should have automatic backups enabled",
        types: [T.rds],
        policies: ["rds-backup-retention"],
    },
    {
        framework: "AWS-FSBP",
        control: "RDS.13",
        title: "RDS automatic minor version upgrades should be enabled",
        types: [T.rds],
        exception:
            "RdsPostgres enables them unless told otherwise (autoMinorVersionUpgrade defaults to true; test/mlflow.test.ts); the platform config has no key to turn them off.",
    },
    {
        framework: "AWS-FSBP",
        control: "RDS.9",
        title: "RDS DB instances should publish logs to CloudWatch Logs",
        types: [T.rds],
        exception:
            "RdsPostgres always exports the postgresql and upgrade logs (enabledCloudwatchLogsExports; test/mlflow.test.ts); it is the only RDS instance the stacks create.",
    },
    {
        framework: "AWS-FSBP",
        control: "ECR.1",
        title: "ECR private repositories should have image scanning configured",
        types: [T.ecr],
        policies: ["ecr-repository-hardened"],
    },
    {
        framework: "AWS-FSBP",
        control: "ECR.2",
        title: "ECR private repositories should have tag immutability configured",
        types: [T.ecr],
        policies: ["ecr-repository-hardened"],
    },
    {
        framework: "AWS-FSBP",
        control: "ECR.3",
        title: "ECR repositories should have at least one lifecycle policy configured",
        types: [T.ecr, T.ecrLifecycle],
        exception:
            "ContainerImage, the only creator of repositories, always attaches one (test/containerImage.test.ts, test/modelService.test.ts check its rules).",
    },
    {
        framework: "AWS-FSBP",
        control: "EC2.18",
        title: "Security groups should only allow unrestricted incoming traffic for authorized ports",
        types: [T.sg, T.sgIngress],
        policies: ["security-group-ingress-restricted"],
    },
    {
        framework: "AWS-FSBP",
        control: "EC2.19",
        title: "Security groups should not allow unrestricted access to ports with high risk",
        types: [T.sg, T.sgIngress],
        policies: ["security-group-ingress-restricted"],
    },
    {
        framework: "AWS-FSBP",
        control: "EC2.53",
        title: "EC2 security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports",
        types: [T.sg, T.sgIngress],
        policies: ["security-group-ingress-restricted"],
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Authentication and authorization",
        title: "Cluster access is least privilege (EKS access entries)",
        types: [T.accessEntry],
        exception:
            "an access entry maps a team's deploy role to its namespace's deploy group (type STANDARD, no access policy attached), so what the role can do is the namespace Role's, which rbac-no-wildcards checks and e2e/kubernetes.e2e.test.ts shows equal to docs/team-guide.md's list.",
    },
    // --- Kubernetes hardening ----------------------------------------------------------------------
    { framework: "PSS", control: "restricted: runAsNonRoot", title: "Containers run as a non-root user", types: WORKLOADS, policies: ["pod-run-as-non-root"] },
    {
        framework: "PSS",
        control: "restricted: allowPrivilegeEscalation",
        title: "Containers do not allow privilege escalation",
        types: WORKLOADS,
        policies: ["pod-no-privilege-escalation"],
    },
    {
        framework: "PSS",
        control: "restricted: capabilities",
        title: "Containers drop ALL capabilities",
        types: WORKLOADS,
        policies: ["pod-capabilities-restricted"],
    },
    {
        framework: "PSS",
        control: "restricted: seccompProfile",
        title: "Pods use the RuntimeDefault (or a Localhost) seccomp profile",
        types: WORKLOADS,
        policies: ["pod-seccomp-profile"],
    },
    {
        framework: "PSS",
        control: "baseline: host namespaces",
        title: "Pods do not share the host's network, PID or IPC namespaces",
        types: WORKLOADS,
        policies: ["pod-no-host-namespaces"],
    },
    { framework: "PSS", control: "baseline: hostPath volumes", title: "Pods mount no hostPath volumes", types: WORKLOADS, policies: ["pod-no-host-path"] },
    { framework: "PSS", control: "baseline: privileged containers", title: "No privileged containers", types: WORKLOADS, policies: ["pod-no-privileged"] },
    {
        framework: "PSS",
        control: "enforcement",
        title: "Namespaces enforce a Pod Security level",
        types: [T.namespace],
        exception:
            "ServingNamespace labels every team namespace with enforce restricted (baseline in dev) and warn/audit restricted (test/servingNamespace.test.ts); e2e/kubernetes.e2e.test.ts shows the API server refusing privileged and root pods there, and the team cannot relabel its namespace.",
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Immutable container file systems",
        title: "Containers run with a read-only root filesystem",
        types: WORKLOADS,
        policies: ["pod-read-only-root-filesystem"],
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Resource policies",
        title: "Containers request and limit CPU, memory and ephemeral storage",
        types: WORKLOADS,
        policies: ["container-resources-required", "container-ephemeral-storage-set"],
    },
    {
        framework: "CIS-K8S",
        control: "5.1.6",
        title: "Service account tokens are only mounted where necessary",
        types: [...WORKLOADS, T.serviceAccount],
        policies: ["pod-service-account-token-not-mounted"],
    },
    { framework: "CIS-K8S", control: "5.1.3", title: "Minimize wildcard use in Roles and ClusterRoles", types: [T.k8sRole], policies: ["rbac-no-wildcards"] },
    {
        framework: "CIS-K8S",
        control: "5.1.1",
        title: "The cluster-admin role is only used where required",
        types: [T.roleBinding],
        exception:
            "every RoleBinding the stacks create binds the namespace's own Role (components/platform/servingNamespace.ts); none binds a ClusterRole (e2e/kubernetes.e2e.test.ts: the team's effective rules are exactly its Role's, nothing cluster-wide).",
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Network separation",
        title: "Every namespace with workloads has a default-deny NetworkPolicy and narrow allows",
        types: [T.namespace, T.networkPolicy],
        policies: ["network-policy-coverage"],
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Network separation: ingress",
        title: "Traffic from outside the cluster enters only through the platform's TLS listener, under the team's own hostnames",
        types: [T.httpRoute],
        policies: ["httproute-gateway-hostnames"],
    },
    {
        framework: "CIS-K8S",
        control: "5.4.1",
        title: "Secrets are not passed as literal environment variables",
        types: [...WORKLOADS, T.secret],
        policies: ["secret-env-from-secret-ref"],
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Jobs: bounded runs",
        title: "CronJobs do not overlap, have deadlines and bounded retries, and clean up their finished runs",
        types: [T.cronJob],
        policies: ["cronjob-no-concurrent-runs", "cronjob-deadlines-set", "cronjob-backoff-bounded", "cronjob-history-bounded"],
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Jobs: bounded runs (Jobs)",
        title: "Jobs have a deadline and bounded retries",
        types: [T.job],
        policies: ["job-runs-bounded"],
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Jobs: finished runs cleaned up (Jobs)",
        title: "Finished Jobs are deleted after a bounded time (ttlSecondsAfterFinished)",
        types: [T.job],
        exception:
            "a Job the stack owns must stay after it finishes, or Pulumi sees it vanish and creates it again: MlflowTeamAccess's Job (the stacks' only one) has no TTL on purpose (test/mlflowTeamAccess.test.ts) and is replaced when its input changes. The Jobs a CronJob starts, by schedule, by hand or by an orchestrator, carry its template's TTL, which cronjob-history-bounded requires.",
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Image provenance",
        title: "Images are pinned by digest, from allowed registries, never latest",
        types: WORKLOADS,
        policies: ["image-digest-pinned", "image-registry-allowed", "image-tag-not-latest"],
    },
    {
        framework: "NSA-CISA-K8S",
        control: "Exposure",
        title: "Services are not exposed through NodePort or LoadBalancer",
        types: [T.service],
        policies: ["service-type-restricted"],
    },
];

/** Types the stacks create that no control of these baselines applies to, and why. */
export const NO_CONTROL: Readonly<Record<string, string>> = {
    "aws:kms/alias:Alias": "a name for a key; the key's controls apply to the key",
    "aws:rds/parameterGroup:ParameterGroup": "the engine settings of the instance (rds.force_ssl on); the instance's controls apply to the instance",
    "aws:rds/subnetGroup:SubnetGroup": "the private subnets the instance lives in; RDS.2 (public access) is judged on the instance",
    "aws:elasticache/subnetGroup:SubnetGroup":
        "the private subnets the feature store's online store lives in; its exposure is judged on the replication group and its security group",
    "docker:index/image:Image": "a build and push, not a cloud resource; the repository's controls (ECR.1, ECR.2) apply to what it pushes",
    "random:index/randomPassword:RandomPassword":
        "a generated secret, kept secret end to end (test/platform.test.ts, 'generated passwords reach the engine only as secrets')",
    "kubernetes:core/v1:ConfigMap": "configuration data: no hardening control applies (secrets are Secrets; ownership labels are governance)",
    "kubernetes:core/v1:LimitRange": "it implements the resource control for the namespace's containers",
    "kubernetes:core/v1:ResourceQuota": "it implements the resource control for the namespace",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": "availability, not hardening (deployment-replicas-ha judges it with its Deployment)",
    "kubernetes:policy/v1:PodDisruptionBudget": "availability, not hardening (workload-has-pdb)",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": "monitoring configuration (model-workload-monitored)",
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": "alerting configuration (model-alerts-defined)",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy":
        "it enforces controls (policy/framework/admission.ts); teams cannot change it (e2e/admission.e2e.test.ts)",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding":
        "it enforces controls (policy/framework/admission.ts); teams cannot change it (e2e/admission.e2e.test.ts)",
    "kubernetes:helm.sh/v3:Release":
        "one resource whose rendered objects the packs cannot see (docs/policies.md, 'What the packs cannot see'); the charts' values set the hardening the monitoring stack's tests check",
};

/** A row of the matrix: one resource type and one control (or the type's reason for having none). */
export interface CoverageRow {
    readonly type: string;
    readonly framework?: string;
    readonly control?: string;
    readonly title?: string;
    /** Enforcing policies with their level per stack. */
    readonly policies?: readonly { readonly name: string; readonly pack: string; readonly levels: Readonly<Record<string, string>> }[];
    readonly exception?: string;
    /** Why no control applies to the type. */
    readonly noControl?: string;
    /** Set when the row is not mapped: no policy, no exception, or a type nothing accounts for. */
    readonly unmapped?: string;
}

/** Types a matrix leaves out: groupings and the engine's own. */
export function isCoveredType(type: string): boolean {
    return !type.startsWith("mlops:") && !type.startsWith("pulumi:");
}

/** The matrix for the types the stacks create. */
export function coverageRows(types: readonly string[]): CoverageRow[] {
    const policies = new Map(PACKS.flatMap((p) => p.policies.map((f) => [f.meta.name, { pack: p.name, factory: f }] as const)));
    const rows: CoverageRow[] = [];
    for (const type of [...new Set(types)].filter(isCoveredType).sort()) {
        const controls = BASELINE.filter((c) => c.types.includes(type));
        if (controls.length === 0) {
            rows.push(
                NO_CONTROL[type]
                    ? { type, noControl: NO_CONTROL[type] }
                    : { type, unmapped: "no control of the baselines is mapped to this type and NO_CONTROL gives no reason" },
            );
            continue;
        }
        for (const c of controls) {
            const base = { type, framework: c.framework, control: c.control, title: c.title };
            if (c.policies && c.policies.length > 0) {
                const missing = c.policies.filter((n) => !policies.has(n));
                if (missing.length > 0) {
                    rows.push({ ...base, unmapped: `no policy named ${missing.join(", ")}` });
                    continue;
                }
                rows.push({
                    ...base,
                    policies: c.policies.map((name) => {
                        const { pack, factory } = policies.get(name)!;
                        return {
                            name,
                            pack,
                            levels: Object.fromEntries(STACKS.map((s) => [s, levelIn(factory, readPackConfig(s, pack), environmentOfStack(s))])),
                        };
                    }),
                });
            } else if (c.exception && c.exception.trim().length > 0) {
                rows.push({ ...base, exception: c.exception });
            } else {
                rows.push({ ...base, unmapped: "neither a policy nor an exception" });
            }
        }
    }
    return rows;
}

/** docs/coverage.json: the rows, and the types they cover. */
export function coverageJson(types: readonly string[]): string {
    const rows = coverageRows(types);
    return `${JSON.stringify({ generatedBy: "npm run policy:coverage", stacks: STACKS, resourceTypes: [...new Set(types)].filter(isCoveredType).sort(), rows }, null, 2)}\n`;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** docs/coverage.md. */
export function coverageMarkdown(types: readonly string[]): string {
    const rows = coverageRows(types);
    const lines = [
        "# Baseline coverage",
        "",
        "<!-- Generated by `npm run policy:coverage` (scripts/policy-coverage.ts, policy/reports/coverage.ts) from the resource types the",
        "     dev, test and prod platform stacks and the example team stacks record. Do not edit by hand: test/coverage.test.ts fails",
        "     when this file or docs/coverage.json is out of date, or when a row is unmapped. -->",
        "",
        "Every resource type the platform and team stacks create, against the controls that apply to it from AWS Foundational",
        "Security Best Practices and Kubernetes hardening (Pod Security Standards, CIS Kubernetes Benchmark, NSA/CISA hardening",
        "guide). Each row names the policy that enforces the control with its level per stack ([policies.md](policies.md)), or",
        "the documented exception with its reason. Machine-readable: [coverage.json](coverage.json).",
        "",
        `${rows.length} rows, ${rows.filter((r) => r.policies).length} enforced by a policy, ${rows.filter((r) => r.exception).length} exceptions, ${rows.filter((r) => r.noControl).length} types no control applies to, ${rows.filter((r) => r.unmapped).length} unmapped.`,
        "",
        `| Resource type | Framework | Control | Enforced by (${STACKS.join(" / ")}) |`,
        "|---|---|---|---|",
    ];
    for (const r of rows) {
        const enforcement = r.policies
            ? r.policies.map((p) => `[${p.name}](policies.md#${p.name}) (${STACKS.map((s) => p.levels[s]).join(" / ")})`).join("; ")
            : r.exception
              ? `exception: ${r.exception}`
              : r.noControl
                ? `no control applies: ${r.noControl}`
                : `**UNMAPPED**: ${r.unmapped}`;
        lines.push(`| \`${r.type}\` | ${r.framework ?? ""} | ${r.control ? cell(`${r.control}: ${r.title}`) : ""} | ${cell(enforcement)} |`);
    }
    lines.push("");
    return lines.join("\n");
}
