/**
 * A product team's serving namespace: where the team deploys its model servers and batch jobs.
 *
 * One per team and environment (stack config `mlops:teams`). The namespace enforces Pod Security
 * `restricted` (dev enforces `baseline` and warns/audits `restricted`), carries the team and owner labels
 * and the label that admits it to MLflow, and is bounded by a ResourceQuota and a LimitRange. Traffic is
 * denied by default in both directions; narrow policies allow DNS, the gateway and Prometheus in, and
 * MLflow, the Pushgateway and HTTPS to AWS (S3, STS) out. Four service accounts have IRSA roles: the
 * workload's (model servers) reads the team's models and writes its prediction logs (never reads them
 * back); the batch jobs' reads the models and batch inputs and writes batch outputs; the drift check's
 * reads models and prediction logs; the training runs' reads and writes the team's DVC remote
 * (`teams/<team>/dvc/`), which no other identity of any team reaches. The team's deploy group gets a Role in this namespace only, without
 * Secrets and without any RBAC verbs, so it cannot escalate; its IAM roles (`deployRoleArns`) are mapped
 * into the group with EKS access entries.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IAM_ROLE_ARN, isIpv4Cidr, type LimitRangeSettings, type QuotaSettings } from "../../stacks/config/schema";
import { quantityValue } from "../shared/resources";
import { type BucketAccess, irsaTrustPolicy, mergePolicies, type PolicyDocument, s3ReadPolicy, s3ReadWritePolicy, s3WriteOnlyPolicy } from "./iam";
import { dnsEgressRule, namespaceNameLabel } from "../shared/k8sHelpers";
import {
    BATCH_RUN_STARTER_ROLE,
    BATCH_SERVICE_ACCOUNT,
    batchInputPrefix,
    batchOutputPrefix,
    DRIFT_CHECK_SERVICE_ACCOUNT,
    dvcPrefix,
    GPU_RESOURCE,
    METRICS_PORT_NAME,
    MLFLOW_PORT,
    modelPrefix,
    ORG_ANNOTATIONS,
    ORG_LABELS,
    orgKey,
    predictionLogPrefix,
    SERVING_PORT_NAME,
    servingNamespaceName,
    TRAINING_SERVICE_ACCOUNT,
    WORKLOAD_SERVICE_ACCOUNT,
} from "../contract";
import { mlflowAccessLabel } from "./mlflowTracking";
import { batchRunStarterRules, type OrchestratorAccount, orchestratorSubjects } from "../team/batchOrchestration";
import { IAM_ROLE_MAX, K8S_NAME_MAX, type LabelContext, standardLabels } from "../shared/naming";

// Names a team's workloads rely on are the contract's (contract/names.ts).
export {
    BATCH_SERVICE_ACCOUNT,
    batchInputPrefix,
    batchOutputPrefix,
    DRIFT_CHECK_SERVICE_ACCOUNT,
    METRICS_PORT_NAME,
    modelPrefix,
    predictionLogPrefix,
    SERVING_PORT_NAME,
    servingNamespaceName,
    WORKLOAD_SERVICE_ACCOUNT,
};
/** Port of the Pushgateway the drift checks and batch jobs push to. */
export const PUSHGATEWAY_PORT = 9091;
/** Pod labels of the Pushgateway (prometheus-pushgateway chart) and of Prometheus (prometheus-operator). */
export const PUSHGATEWAY_POD_LABELS = { "app.kubernetes.io/name": "prometheus-pushgateway" } as const;
export const PROMETHEUS_POD_LABELS = { "app.kubernetes.io/name": "prometheus" } as const;
/** The EC2 instance metadata service: denied, so pods cannot borrow the node's role. */
export const INSTANCE_METADATA_CIDR = "169.254.169.254/32";

/** Pod Security Admission level. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** Arguments of {@link ServingNamespace}. */
export interface ServingNamespaceArgs {
    /** Team name (2-20 lower-case letters, digits and -): namespace `ml-<team>`, prefixes `models/<team>/`. */
    readonly team: string;
    /** People or groups accountable for the team's models (an annotation; emails are not label values). */
    readonly owners: readonly string[];
    /** Kubernetes RBAC group of the team's deployers, bound to the deployer Role of this namespace. */
    readonly deployGroup: string;
    /**
     * IAM roles of the team's deployers: each gets an EKS access entry (type STANDARD) into `deployGroup`
     * on `clusterName`, and so the deployer Role of this namespace and nothing else. Default none.
     */
    readonly deployRoleArns?: readonly string[];
    /** Name of the EKS cluster; required with `deployRoleArns`. */
    readonly clusterName?: string;
    /** Ownership labels of the stack; the team becomes the owner of its namespace's objects. */
    readonly labels: LabelContext;
    /** Pod Security level enforced: `restricted` (test, prod) or `baseline` (dev). Warn and audit are always `restricted`. */
    readonly enforce: "restricted" | "baseline";
    /** ResourceQuota of the namespace. */
    readonly quota: QuotaSettings;
    /** Container defaults and maximums. */
    readonly limitRange: LimitRangeSettings;
    /** The artifact bucket and its KMS key: the roles are limited to the team's prefixes in it. */
    readonly artifactStore: { readonly bucketArn: pulumi.Input<string>; readonly kmsKeyArn: pulumi.Input<string> };
    /** ARN of the cluster's OIDC provider, trusted by the IRSA roles. */
    readonly oidcProviderArn: string;
    /** Names of the IRSA roles (at most 64 characters). */
    readonly roleNames: { readonly workload: string; readonly driftCheck: string; readonly batch: string; readonly training: string };
    /** Peers of the network policies. */
    readonly network: {
        /** CIDR of the VPC: excluded from the HTTPS egress, so pods reach AWS but not other VPC hosts. */
        readonly vpcCidr: string;
        /** Namespace of the ingress gateway, admitted to the serving port. */
        readonly gatewayNamespace: string;
        /** Namespace of Prometheus and the Pushgateway. */
        readonly monitoringNamespace: string;
        /** Namespace of the MLflow tracking server. */
        readonly mlflowNamespace: string;
        /** Pod labels of the MLflow server; omit to admit any pod of its namespace on its port. */
        readonly mlflowServerSelector?: Record<string, string>;
    };
    /** Protect the namespace and keep it if removed from the program (prod). Default false. */
    readonly protect?: boolean;
    /** Service accounts of the team's pipeline orchestrators: they may start and follow runs of its batch jobs (batchOrchestration.ts). Default none. */
    readonly orchestrators?: readonly OrchestratorAccount[];
}

/** Pod Security Admission labels: `enforce` at one level, `warn` and `audit` at `restricted`, all at the latest policy version. */
export function podSecurityAdmissionLabels(enforce: PodSecurityLevel): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    };
}

/** The label that marks team serving namespaces (admitted to the Pushgateway). */
export function servingNamespaceLabel(labelDomain: string): Record<string, string> {
    return { [orgKey(labelDomain, ORG_LABELS.serving)]: "true" };
}

/** Policy of the workload role (model servers): read the team's models, write (not read) its prediction logs. */
export function workloadPolicy(bucket: Omit<BucketAccess, "prefixes">, team: string): PolicyDocument {
    return mergePolicies(s3ReadPolicy({ ...bucket, prefixes: [modelPrefix(team)] }), s3WriteOnlyPolicy({ ...bucket, prefixes: [predictionLogPrefix(team)] }));
}

/** Policy of the batch role (batch-scoring jobs): read the team's models and batch inputs, write (not read) its batch outputs. */
export function batchPolicy(bucket: Omit<BucketAccess, "prefixes">, team: string): PolicyDocument {
    return mergePolicies(
        s3ReadPolicy({ ...bucket, prefixes: [modelPrefix(team), batchInputPrefix(team)] }),
        s3WriteOnlyPolicy({ ...bucket, prefixes: [batchOutputPrefix(team)] }),
    );
}

/** Policy of the drift-check role: read the team's models (training references) and prediction logs. */
export function driftCheckPolicy(bucket: Omit<BucketAccess, "prefixes">, team: string): PolicyDocument {
    return s3ReadPolicy({ ...bucket, prefixes: [modelPrefix(team), predictionLogPrefix(team)] });
}

/** Policy of the training role (TrainingJob, DVC): read, write and delete under the team's DVC remote, nothing else. */
export function trainingPolicy(bucket: Omit<BucketAccess, "prefixes">, team: string): PolicyDocument {
    return s3ReadWritePolicy({ ...bucket, prefixes: [dvcPrefix(team)] });
}

const READ = ["get", "list", "watch"];
const WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"];

/**
 * Rules of the deployer Role. What a team needs to ship and operate models in its namespace, nothing
 * that reaches beyond it: no Secrets (read or write; the platform delivers secrets, and a Secret read
 * right would expose every credential of the namespace at once), no RBAC objects or verbs (no escalate,
 * bind, impersonate: no escalation), no NetworkPolicy, quota or service-account writes, no pods/exec.
 * It covers what the Pulumi Kubernetes provider needs to create, update, delete and await every kind a
 * team stack creates (`providerAccessNeeds` in kubernetesAccess.ts): the informers it runs while it waits for a
 * Deployment (ReplicaSets, Pods, PersistentVolumeClaims), a Job (Pods) and a Service (Endpoints).
 * docs/team-guide.md lists these rules; a test keeps the two equal.
 */
export function deployerRules(): k8s.types.input.rbac.v1.PolicyRule[] {
    return [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: WRITE },
        { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["get", "update", "patch"] },
        { apiGroups: ["apps"], resources: ["replicasets"], verbs: READ },
        { apiGroups: [""], resources: ["services", "configmaps"], verbs: WRITE },
        // Delete pods to restart one; read logs and events to debug.
        { apiGroups: [""], resources: ["pods"], verbs: [...READ, "delete"] },
        { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
        { apiGroups: [""], resources: ["events", "serviceaccounts", "resourcequotas", "limitranges", "persistentvolumeclaims"], verbs: READ },
        // The provider waits for a Service until its Endpoints list ready addresses (an informer: list, watch).
        { apiGroups: [""], resources: ["endpoints"], verbs: READ },
        { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
        { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: WRITE },
        { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: WRITE },
        { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: WRITE },
        { apiGroups: ["monitoring.coreos.com"], resources: ["servicemonitors", "podmonitors", "prometheusrules"], verbs: WRITE },
        // ModelRoute: the team's routes through the platform's gateway (the Gateway's allowedRoutes admit them).
        { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: WRITE },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ },
    ];
}

/** Network policies of a serving namespace, by name: default deny, then the narrow allows. */
export function servingNetworkPolicies(network: ServingNamespaceArgs["network"]): Record<string, k8s.types.input.networking.v1.NetworkPolicySpec> {
    const all = {};
    const monitoring = namespaceNameLabel(network.monitoringNamespace);
    return {
        "default-deny": { podSelector: all, policyTypes: ["Ingress", "Egress"] },
        "allow-dns": { podSelector: all, policyTypes: ["Egress"], egress: [dnsEgressRule()] },
        "allow-gateway-ingress": {
            podSelector: all,
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [{ namespaceSelector: { matchLabels: namespaceNameLabel(network.gatewayNamespace) } }],
                    ports: [{ protocol: "TCP", port: SERVING_PORT_NAME }],
                },
            ],
        },
        "allow-prometheus-scrape": {
            podSelector: all,
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [{ namespaceSelector: { matchLabels: monitoring }, podSelector: { matchLabels: { ...PROMETHEUS_POD_LABELS } } }],
                    ports: [
                        { protocol: "TCP", port: SERVING_PORT_NAME },
                        { protocol: "TCP", port: METRICS_PORT_NAME },
                    ],
                },
            ],
        },
        "allow-mlflow-egress": {
            podSelector: all,
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [
                        {
                            namespaceSelector: { matchLabels: namespaceNameLabel(network.mlflowNamespace) },
                            ...(network.mlflowServerSelector ? { podSelector: { matchLabels: network.mlflowServerSelector } } : {}),
                        },
                    ],
                    ports: [{ protocol: "TCP", port: MLFLOW_PORT }],
                },
            ],
        },
        "allow-pushgateway-egress": {
            podSelector: all,
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [{ namespaceSelector: { matchLabels: monitoring }, podSelector: { matchLabels: { ...PUSHGATEWAY_POD_LABELS } } }],
                    ports: [{ protocol: "TCP", port: PUSHGATEWAY_PORT }],
                },
            ],
        },
        "allow-aws-https-egress": {
            podSelector: all,
            policyTypes: ["Egress"],
            egress: [
                {
                    // S3 and STS (for IRSA) have no fixed address range a NetworkPolicy could name (S3's
                    // public ranges change and a gateway endpoint is a route, not a CIDR), so HTTPS is
                    // allowed to any address outside the VPC. The VPC CIDR is excluded so that port 443 is
                    // no path to other hosts and pods of the VPC, and the instance metadata service so that
                    // a pod cannot take the node role's credentials: IRSA is its only way to AWS.
                    to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [network.vpcCidr, INSTANCE_METADATA_CIDR] } }],
                    ports: [{ protocol: "TCP", port: 443 }],
                },
            ],
        },
    };
}

/** A team's serving namespace with its quota, network policies, service accounts, IRSA roles and RBAC. */
export class ServingNamespace extends pulumi.ComponentResource {
    /** Name of the namespace. */
    public readonly namespaceName: pulumi.Output<string>;
    /** Service account for model servers and batch jobs. */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** ARN of its IRSA role. */
    public readonly roleArn: pulumi.Output<string>;
    /** Service account for drift checks. */
    public readonly driftCheckServiceAccountName: pulumi.Output<string>;
    /** ARN of its IRSA role. */
    public readonly driftCheckRoleArn: pulumi.Output<string>;
    /** Prefix of the team's models in the artifact bucket (`models/<team>`). */
    public readonly modelPrefix: string;
    /** Prefix of the team's prediction logs (`prediction-logs/<team>`). */
    public readonly predictionLogPrefix: string;
    /** Prefix of the team's batch inputs (`batch-inputs/<team>`), readable by the batch role. */
    public readonly batchInputPrefix: string;
    /** Prefix of the team's batch outputs (`batch-outputs/<team>`), writable by the batch role. */
    public readonly batchOutputPrefix: string;
    /** Service account for batch-scoring jobs. */
    public readonly batchServiceAccountName: pulumi.Output<string>;
    /** ARN of its IRSA role. */
    public readonly batchRoleArn: pulumi.Output<string>;
    /** Service account for training runs (TrainingJob) and the team's DVC remote. */
    public readonly trainingServiceAccountName: pulumi.Output<string>;
    /** ARN of its IRSA role: the only identity that reads and writes the team's DVC remote. */
    public readonly trainingRoleArn: pulumi.Output<string>;
    /** Prefix of the team's DVC remote (`teams/<team>/dvc`), read and written by the training role only. */
    public readonly dvcPrefix: string;
    /** Labels a team's own objects should carry. */
    public readonly labels: Record<string, string>;

    constructor(name: string, args: ServingNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops:index:ServingNamespace", name, {}, opts);
        validateServingNamespaceArgs(args);

        const protect = args.protect === true;
        const child: pulumi.CustomResourceOptions = { parent: this };
        const nsName = servingNamespaceName(args.team);
        const ctx: LabelContext = { ...args.labels, owner: args.team };
        const labelsFor = (component: string) => standardLabels(ctx, { name: nsName, component, team: args.team });
        this.labels = labelsFor("model-serving");
        this.modelPrefix = modelPrefix(args.team);
        this.predictionLogPrefix = predictionLogPrefix(args.team);
        this.batchInputPrefix = batchInputPrefix(args.team);
        this.batchOutputPrefix = batchOutputPrefix(args.team);
        this.dvcPrefix = dvcPrefix(args.team);

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: nsName,
                    labels: {
                        ...labelsFor("serving-namespace"),
                        ...podSecurityAdmissionLabels(args.enforce),
                        ...mlflowAccessLabel(args.labels.labelDomain),
                        ...servingNamespaceLabel(args.labels.labelDomain),
                    },
                    annotations: {
                        [orgKey(args.labels.labelDomain, ORG_ANNOTATIONS.owners)]: args.owners.join(", "),
                        [orgKey(args.labels.labelDomain, ORG_ANNOTATIONS.deployGroup)]: args.deployGroup,
                    },
                },
            },
            { parent: this, protect, retainOnDelete: protect },
        );
        // Every namespaced child names the namespace through its output: created after it, in it.
        const ns = namespace.metadata.name;

        const q = args.quota;
        new k8s.core.v1.ResourceQuota(
            `${name}-quota`,
            {
                metadata: { name: "team-quota", namespace: ns, labels: labelsFor("quota") },
                spec: {
                    hard: {
                        "requests.cpu": q.cpu,
                        "requests.memory": q.memory,
                        "limits.cpu": q.limitsCpu,
                        "limits.memory": q.limitsMemory,
                        "requests.ephemeral-storage": q.ephemeralStorage,
                        "limits.ephemeral-storage": q.limitsEphemeralStorage,
                        pods: String(q.pods),
                        services: String(q.services),
                        persistentvolumeclaims: String(q.persistentVolumeClaims),
                        // GPUs only as far as the team's quota grants them (0 by default).
                        [`requests.${GPU_RESOURCE}`]: String(q.gpu),
                        // Models are exposed through the gateway only.
                        "services.loadbalancers": "0",
                        "services.nodeports": "0",
                    },
                },
            },
            child,
        );
        const lr = args.limitRange;
        new k8s.core.v1.LimitRange(
            `${name}-limits`,
            {
                metadata: { name: "container-limits", namespace: ns, labels: labelsFor("limit-range") },
                spec: {
                    limits: [
                        {
                            type: "Container",
                            defaultRequest: {
                                cpu: lr.defaultCpuRequest,
                                memory: lr.defaultMemoryRequest,
                                "ephemeral-storage": lr.defaultEphemeralStorageRequest,
                            },
                            default: { cpu: lr.defaultCpuLimit, memory: lr.defaultMemoryLimit, "ephemeral-storage": lr.defaultEphemeralStorageLimit },
                            max: { cpu: lr.maxCpu, memory: lr.maxMemory, "ephemeral-storage": lr.maxEphemeralStorage },
                        },
                    ],
                },
            },
            child,
        );

        for (const [policyName, spec] of Object.entries(servingNetworkPolicies(args.network))) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${policyName}`,
                { metadata: { name: policyName, namespace: ns, labels: labelsFor("network-policy") }, spec },
                child,
            );
        }

        // --- Workload identities -------------------------------------------------------------------
        const bucket = { bucketArn: args.artifactStore.bucketArn, kmsKeyArn: args.artifactStore.kmsKeyArn };
        const identity = (
            role: "workload" | "drift-check" | "batch" | "training",
            serviceAccount: string,
            roleName: string,
            policy: PolicyDocument,
            purpose: string,
        ) => {
            const iamRole = new aws.iam.Role(
                `${name}-${role}-role`,
                {
                    name: roleName,
                    description: `${purpose} of team ${args.team} (IRSA: ${nsName}/${serviceAccount})`,
                    assumeRolePolicy: JSON.stringify(irsaTrustPolicy(args.oidcProviderArn, nsName, serviceAccount)),
                    maxSessionDuration: 3600,
                    tags: { team: args.team },
                },
                child,
            );
            new aws.iam.RolePolicy(`${name}-${role}-policy`, { role: iamRole.id, policy: pulumi.jsonStringify(policy) }, child);
            const sa = new k8s.core.v1.ServiceAccount(
                `${name}-${role}-service-account`,
                {
                    metadata: {
                        name: serviceAccount,
                        namespace: ns,
                        labels: labelsFor(role),
                        annotations: { "eks.amazonaws.com/role-arn": iamRole.arn },
                    },
                    // IRSA mounts its own projected token; the Kubernetes API token is not needed.
                    automountServiceAccountToken: false,
                },
                child,
            );
            return { roleArn: iamRole.arn, serviceAccountName: sa.metadata.name };
        };
        const workload = identity("workload", WORKLOAD_SERVICE_ACCOUNT, args.roleNames.workload, workloadPolicy(bucket, args.team), "Model servers");
        const drift = identity("drift-check", DRIFT_CHECK_SERVICE_ACCOUNT, args.roleNames.driftCheck, driftCheckPolicy(bucket, args.team), "Drift checks");
        const batch = identity("batch", BATCH_SERVICE_ACCOUNT, args.roleNames.batch, batchPolicy(bucket, args.team), "Batch scoring jobs");
        const training = identity(
            "training",
            TRAINING_SERVICE_ACCOUNT,
            args.roleNames.training,
            trainingPolicy(bucket, args.team),
            "Training runs and the DVC remote",
        );

        // --- Deployers -----------------------------------------------------------------------------
        const role = new k8s.rbac.v1.Role(
            `${name}-deployer-role`,
            { metadata: { name: "team-deployer", namespace: ns, labels: labelsFor("rbac") }, rules: deployerRules() },
            child,
        );
        new k8s.rbac.v1.RoleBinding(
            `${name}-deployer-binding`,
            {
                metadata: { name: "team-deployer", namespace: ns, labels: labelsFor("rbac") },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: args.deployGroup }],
            },
            child,
        );

        // --- Orchestrators: start runs of the team's batch jobs, nothing else -------------------------
        if ((args.orchestrators ?? []).length > 0) {
            const starter = new k8s.rbac.v1.Role(
                `${name}-batch-run-starter`,
                { metadata: { name: BATCH_RUN_STARTER_ROLE, namespace: ns, labels: labelsFor("rbac") }, rules: batchRunStarterRules() },
                child,
            );
            new k8s.rbac.v1.RoleBinding(
                `${name}-batch-run-starter-binding`,
                {
                    metadata: { name: BATCH_RUN_STARTER_ROLE, namespace: ns, labels: labelsFor("rbac") },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: starter.metadata.name },
                    subjects: orchestratorSubjects(args.orchestrators ?? []),
                },
                child,
            );
        }

        // The cluster's authentication mode must include the EKS API (API or API_AND_CONFIG_MAP). No access
        // policy is associated: the group's only rights are the RoleBinding above.
        for (const principalArn of args.deployRoleArns ?? []) {
            new aws.eks.AccessEntry(
                `${name}-deployer-${principalArn.split("/").pop()}`,
                {
                    clusterName: args.clusterName!,
                    principalArn,
                    type: "STANDARD",
                    kubernetesGroups: [args.deployGroup],
                    tags: { team: args.team },
                },
                child,
            );
        }

        this.namespaceName = ns;
        this.serviceAccountName = workload.serviceAccountName;
        this.roleArn = workload.roleArn;
        this.driftCheckServiceAccountName = drift.serviceAccountName;
        this.driftCheckRoleArn = drift.roleArn;
        this.batchServiceAccountName = batch.serviceAccountName;
        this.batchRoleArn = batch.roleArn;
        this.trainingServiceAccountName = training.serviceAccountName;
        this.trainingRoleArn = training.roleArn;
        this.registerOutputs({
            namespaceName: this.namespaceName,
            serviceAccountName: this.serviceAccountName,
            roleArn: this.roleArn,
            driftCheckServiceAccountName: this.driftCheckServiceAccountName,
            driftCheckRoleArn: this.driftCheckRoleArn,
            batchServiceAccountName: this.batchServiceAccountName,
            batchRoleArn: this.batchRoleArn,
            trainingServiceAccountName: this.trainingServiceAccountName,
            trainingRoleArn: this.trainingRoleArn,
            dvcPrefix: this.dvcPrefix,
            modelPrefix: this.modelPrefix,
            predictionLogPrefix: this.predictionLogPrefix,
            batchInputPrefix: this.batchInputPrefix,
            batchOutputPrefix: this.batchOutputPrefix,
            labels: this.labels,
        });
    }
}

/** Checks the arguments before anything is registered; every problem at once. */
export function validateServingNamespaceArgs(args: ServingNamespaceArgs): void {
    const problems: string[] = [];
    if (!/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/.test(args.team)) {
        problems.push(`team "${args.team}" must be 2-20 lower-case letters, digits and -, starting with a letter`);
    } else if (servingNamespaceName(args.team).length > K8S_NAME_MAX) {
        problems.push(`namespace "${servingNamespaceName(args.team)}" is longer than ${K8S_NAME_MAX} characters`);
    }
    if (args.owners.length === 0) problems.push("owners must name at least one person or group");
    if (!/^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$/.test(args.deployGroup) || /^system:/i.test(args.deployGroup)) {
        problems.push(`deployGroup "${args.deployGroup}" must be a group of the organisation (like acme:team-fraud-deployers), not a system: group`);
    }
    const roles = args.deployRoleArns ?? [];
    for (const arn of roles)
        if (!IAM_ROLE_ARN.test(arn)) problems.push(`deployRoleArns: "${arn}" must be an IAM role ARN like arn:aws:iam::123456789012:role/name`);
    if (new Set(roles.map((a) => a.split("/").pop())).size !== roles.length)
        problems.push("deployRoleArns must not list a role (or two roles of the same name) twice");
    if (roles.length > 0 && !args.clusterName) problems.push("clusterName is required with deployRoleArns");
    for (const [limit, request] of [
        ["limitsCpu", "cpu"],
        ["limitsMemory", "memory"],
    ] as const) {
        if (quantityValue(args.quota[limit]) < quantityValue(args.quota[request])) {
            problems.push(`quota.${limit} (${args.quota[limit]}) must be at least quota.${request} (${args.quota[request]})`);
        }
    }
    const lr = args.limitRange;
    for (const [low, high] of [
        ["defaultCpuRequest", "defaultCpuLimit"],
        ["defaultCpuLimit", "maxCpu"],
        ["defaultMemoryRequest", "defaultMemoryLimit"],
        ["defaultMemoryLimit", "maxMemory"],
    ] as const) {
        if (quantityValue(lr[low]) > quantityValue(lr[high])) problems.push(`limitRange.${low} (${lr[low]}) must be at most limitRange.${high} (${lr[high]})`);
    }
    if (!isIpv4Cidr(args.network.vpcCidr)) problems.push(`network.vpcCidr "${args.network.vpcCidr}" must be an IPv4 CIDR block like 10.20.0.0/16`);
    for (const [key, roleName] of Object.entries(args.roleNames)) {
        if (roleName.length === 0 || roleName.length > IAM_ROLE_MAX) problems.push(`roleNames.${key} must be 1-${IAM_ROLE_MAX} characters, got "${roleName}"`);
    }
    if (new Set(Object.values(args.roleNames)).size !== Object.keys(args.roleNames).length)
        problems.push("roleNames.workload, roleNames.driftCheck, roleNames.batch and roleNames.training must differ");
    if (problems.length > 0) throw new Error(`ServingNamespace ${args.team}: ${problems.join("; ")}.`);
}
