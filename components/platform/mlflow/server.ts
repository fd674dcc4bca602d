/**
 * The MLflow tracking server, a child of MlflowTracking: the IRSA role (read-write under the artifact
 * prefix only) and its service account, the Deployment (schema migrations in init containers, artifacts
 * proxied to S3, basic auth when on), the ClusterIP Service, a PodDisruptionBudget with more than one
 * replica, and the namespace's NetworkPolicies: default deny, and the server's ingress and egress.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceSettings } from "../../shared/resources";
import {
    containerResources,
    dnsEgressRule,
    namespaceNameLabel,
    restrictedContainerSecurityContext,
    restrictedPodSecurityContext,
} from "../../shared/k8sHelpers";
import { type LabelContext, selectorLabels, standardLabels } from "../../shared/naming";
import { irsaTrustPolicy } from "../iam";
import { REGISTRY_NAMESPACES_DIR } from "../mlflowRegistryNamespaces";
import {
    type ArtifactStoreAccess,
    AUTH_CONFIG_DIR,
    AUTH_DATABASE,
    AUTH_SCHEMA_SCRIPT,
    BASIC_AUTH_INI,
    CREATE_DATABASE_SCRIPT,
    gunicornWorkers,
    MLFLOW_NAME,
    MLFLOW_PORT,
    MLFLOW_SERVICE_PORT,
    MLFLOW_STORAGE,
    MLFLOW_TEAM_USERS_SELECTOR,
    MLFLOW_UID,
    MLFLOW_WORKING_DIR,
    mlflowAccessLabel,
    mlflowProbes,
    mlflowServerArgs,
    topologySpread,
    TRACKING_SCHEMA_SCRIPT,
} from "../mlflowTracking";
import { movedChildOptions } from "./childOptions";
import { backendStoreEnv, mlflowGcSelector, postgresEgressRule, s3HttpsEgressRule } from "./shared";

/** Arguments of {@link MlflowServer}. */
export interface MlflowServerArgs {
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Namespace of the server, as configured (the IRSA trust policy names it). */
    readonly namespaceName: string;
    /** Namespace of the server, as created (an output of the Namespace, so the objects wait for it). */
    readonly namespace: pulumi.Input<string>;
    /** MLflow version the image carries (for the version label). */
    readonly version: string;
    /** Server image. */
    readonly image: pulumi.Input<string>;
    /** Server replicas; more than one gets a PodDisruptionBudget. */
    readonly replicas: number;
    /** Server requests and limits (the init containers get them too). */
    readonly resources: ResourceSettings;
    /** The artifact store; the role gets read-write under `artifactPrefix` only. */
    readonly artifactStore: ArtifactStoreAccess;
    /** Prefix of the bucket MLflow owns. */
    readonly artifactPrefix: string;
    /** `s3://<bucket>/<prefix>` the server proxies artifacts to. */
    readonly artifactsDestination: pulumi.Input<string>;
    /** Name of the IRSA role. */
    readonly iamRoleName: string;
    /** OIDC provider trusted by IRSA, and the gateway and monitoring namespaces admitted to the server. */
    readonly cluster: { readonly oidcProviderArn: string; readonly gatewayNamespace: string; readonly monitoringNamespace: string };
    /** Spread server pods across availability zones (hard constraint). */
    readonly spreadAcrossZones: boolean;
    /** Name of the Secret holding `backend-store-uri`. */
    readonly databaseSecretName: pulumi.Input<string>;
    /** Where the database is, for the egress rule: the VPC CIDR (RDS) or the Postgres pods. */
    readonly databasePeer: k8s.types.input.networking.v1.NetworkPolicyPeer;
    /** Basic auth, when on: the Secret of `basic_auth.ini` and the ConfigMap of the registry namespaces' module. */
    readonly auth?: { readonly secretName: pulumi.Input<string>; readonly registryNamespacesConfigMapName: pulumi.Input<string> };
    /** The component these resources were children of before (MlflowTracking): each aliases it, keeping its URN's history. */
    readonly formerParent?: pulumi.Resource;
}

/** The MLflow tracking server: identity, Deployment, Service, PDB, NetworkPolicies. */
export class MlflowServer extends pulumi.ComponentResource {
    /** Name of the server's service account (the gc job runs as it too). */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** ARN of the IRSA role of that service account. */
    public readonly roleArn: pulumi.Output<string>;
    /** Name of the ClusterIP Service. */
    public readonly serviceName: pulumi.Output<string>;
    /** Labels selecting the server pods. */
    public readonly selector: Record<string, string>;

    /** `name` is MlflowTracking's: the resources keep the names they had as its children. */
    constructor(name: string, args: MlflowServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops:index:MlflowServer", name, {}, opts);
        const child = movedChildOptions(this, args.formerParent);
        const ns = args.namespace;
        const serverLabels = standardLabels(args.labels, { name: MLFLOW_NAME, component: "tracking-server", version: args.version });
        const commonLabels = standardLabels(args.labels, { name: MLFLOW_NAME, component: "tracking-server" });
        this.selector = selectorLabels({ name: MLFLOW_NAME, component: "tracking-server" });

        // --- Identity: IRSA role with read-write under the MLflow prefix only ----------------------
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                name: args.iamRoleName,
                description: `MLflow tracking server ${args.namespaceName}/${MLFLOW_NAME}: artifacts under ${args.artifactPrefix}/`,
                assumeRolePolicy: JSON.stringify(irsaTrustPolicy(args.cluster.oidcProviderArn, args.namespaceName, MLFLOW_NAME)),
                maxSessionDuration: 3600,
            },
            child,
        );
        new aws.iam.RolePolicy(
            `${name}-artifacts-policy`,
            { name: "mlflow-artifacts", role: role.name, policy: args.artifactStore.readWritePolicy([args.artifactPrefix]) },
            child,
        );
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-service-account`,
            {
                metadata: {
                    name: MLFLOW_NAME,
                    namespace: ns,
                    labels: commonLabels,
                    annotations: { "eks.amazonaws.com/role-arn": role.arn, "eks.amazonaws.com/sts-regional-endpoints": "true" },
                },
                automountServiceAccountToken: false,
            },
            child,
        );
        const serviceAccountName = serviceAccount.metadata.name;

        // --- Tracking server ---------------------------------------------------------------------
        const baseEnv = backendStoreEnv(args.databaseSecretName);
        const initResources = containerResources(args.resources, MLFLOW_STORAGE);
        const initContainers: k8s.types.input.core.v1.Container[] = [
            {
                name: "db-upgrade",
                image: args.image,
                // Creates the schema on an empty database, migrates an existing one; the URI stays in the environment.
                command: ["python", "-c", TRACKING_SCHEMA_SCRIPT],
                env: baseEnv,
                resources: initResources,
                securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
        ];
        const serverEnv = [...baseEnv];
        const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }];
        const serverMounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
        if (args.auth) {
            const authSecretName = args.auth.secretName;
            const authDbEnv: k8s.types.input.core.v1.EnvVar = {
                name: "MLFLOW_AUTH_DATABASE_URI",
                valueFrom: { secretKeyRef: { name: authSecretName, key: "database-uri" } },
            };
            initContainers.push(
                {
                    name: "auth-db-create",
                    image: args.image,
                    command: ["python", "-c", CREATE_DATABASE_SCRIPT],
                    env: [...baseEnv, { name: "MLFLOW_AUTH_DATABASE", value: AUTH_DATABASE }],
                    resources: initResources,
                    securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                },
                {
                    name: "auth-db-upgrade",
                    image: args.image,
                    command: ["python", "-c", AUTH_SCHEMA_SCRIPT],
                    env: [...baseEnv, authDbEnv],
                    resources: initResources,
                    securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                },
            );
            volumes.push({ name: "registry-namespaces", configMap: { name: args.auth.registryNamespacesConfigMapName, defaultMode: 0o444 } });
            serverMounts.push({ name: "registry-namespaces", mountPath: REGISTRY_NAMESPACES_DIR, readOnly: true });
            serverEnv.push(
                { name: "PYTHONPATH", value: REGISTRY_NAMESPACES_DIR },
                { name: "MLFLOW_AUTH_CONFIG_PATH", value: `${AUTH_CONFIG_DIR}/${BASIC_AUTH_INI}` },
                { name: "MLFLOW_FLASK_SERVER_SECRET_KEY", valueFrom: { secretKeyRef: { name: authSecretName, key: "flask-secret-key" } } },
            );
            volumes.push({
                name: "auth-config",
                secret: { secretName: authSecretName, items: [{ key: BASIC_AUTH_INI, path: BASIC_AUTH_INI }], defaultMode: 0o440 },
            });
            serverMounts.push({ name: "auth-config", mountPath: AUTH_CONFIG_DIR, readOnly: true });
        }

        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: MLFLOW_NAME, namespace: ns, labels: serverLabels },
                spec: {
                    replicas: args.replicas,
                    revisionHistoryLimit: 5,
                    selector: { matchLabels: this.selector },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                    template: {
                        metadata: { labels: serverLabels },
                        spec: {
                            serviceAccountName,
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            terminationGracePeriodSeconds: 60,
                            securityContext: restrictedPodSecurityContext(MLFLOW_UID),
                            topologySpreadConstraints: topologySpread(this.selector, args.replicas, args.spreadAcrossZones),
                            initContainers,
                            containers: [
                                {
                                    name: "mlflow",
                                    image: args.image,
                                    imagePullPolicy: "IfNotPresent",
                                    command: ["mlflow"],
                                    workingDir: MLFLOW_WORKING_DIR,
                                    args: mlflowServerArgs({
                                        artifactsDestination: args.artifactsDestination,
                                        workers: gunicornWorkers(args.resources),
                                        auth: args.auth !== undefined,
                                    }),
                                    env: serverEnv,
                                    ports: [{ name: "http", containerPort: MLFLOW_PORT, protocol: "TCP" }],
                                    resources: containerResources(args.resources, MLFLOW_STORAGE),
                                    ...mlflowProbes(),
                                    securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
                                    volumeMounts: serverMounts,
                                },
                            ],
                            volumes,
                        },
                    },
                },
            },
            child,
        );

        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: MLFLOW_NAME, namespace: ns, labels: commonLabels },
                spec: {
                    type: "ClusterIP",
                    selector: this.selector,
                    ports: [{ name: "http", port: MLFLOW_SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
                },
            },
            child,
        );

        if (args.replicas > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-pdb`,
                {
                    metadata: { name: MLFLOW_NAME, namespace: ns, labels: commonLabels },
                    // A pod that is not ready (stuck, crash-looping) may be evicted: a drain does not hang on it.
                    spec: { maxUnavailable: 1, selector: { matchLabels: this.selector }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
                },
                child,
            );
        }

        // --- Network policies ----------------------------------------------------------------------
        new k8s.networking.v1.NetworkPolicy(
            `${name}-default-deny`,
            {
                metadata: { name: "default-deny", namespace: ns, labels: commonLabels },
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            },
            child,
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-server-network-policy`,
            {
                metadata: { name: MLFLOW_NAME, namespace: ns, labels: commonLabels },
                spec: {
                    podSelector: { matchLabels: this.selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [
                        {
                            from: [
                                { namespaceSelector: { matchLabels: mlflowAccessLabel(args.labels.labelDomain) } },
                                { namespaceSelector: { matchLabels: namespaceNameLabel(args.cluster.gatewayNamespace) } },
                                { namespaceSelector: { matchLabels: namespaceNameLabel(args.cluster.monitoringNamespace) } },
                                // The gc job deletes artifacts through the server's artifact proxy.
                                { podSelector: { matchLabels: mlflowGcSelector() } },
                                // With auth on, the Job that creates the team users (MlflowTeamAccess).
                                ...(args.auth ? [{ podSelector: { matchLabels: { ...MLFLOW_TEAM_USERS_SELECTOR } } }] : []),
                            ],
                            ports: [{ protocol: "TCP", port: MLFLOW_PORT }],
                        },
                    ],
                    egress: [dnsEgressRule(), postgresEgressRule(args.databasePeer), s3HttpsEgressRule()],
                },
            },
            child,
        );

        this.serviceAccountName = serviceAccountName;
        this.roleArn = role.arn;
        this.serviceName = service.metadata.name;
        this.registerOutputs({ serviceAccountName: this.serviceAccountName, roleArn: this.roleArn, serviceName: this.serviceName });
    }
}
