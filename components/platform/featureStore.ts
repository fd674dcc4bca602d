/**
 * The platform's feature store (Feast): one Feast project per team, in a namespace of its own (Pod
 * Security `restricted`).
 *
 * - Registry and offline data on the artifact store: `s3://<bucket>/feast/registry/<team>/registry.db`
 *   (Feast's file registry) and Parquet under `feast/offline/<team>/` (the file offline store).
 * - Online store: an in-cluster Redis (dev, {@link InClusterRedis}) or an encrypted, private,
 *   authenticated ElastiCache replication group (test, prod, {@link ElastiCacheRedis}); the password or
 *   AUTH token is generated and reaches the pods through a Secret (feature_store.yaml references it as
 *   `${FEAST_REDIS_PASSWORD}`, which Feast expands when it loads the file).
 * - Per team: a ConfigMap with the project's feature_store.yaml (featureStoreConfig.ts), a feature
 *   server Deployment (`feast serve --metrics`) with its Service, PodDisruptionBudget and ServiceMonitor,
 *   a materialization CronJob (`feast materialize-incremental`), IRSA roles scoped to the project's
 *   prefixes, and, where the team maps CI roles (`deployRoleArns`), a role its CI assumes to `feast apply`
 *   (write the project's registry and offline data, nothing else).
 * - NetworkPolicies: default deny; a team's feature server admits its own serving namespace and
 *   Prometheus; the pods reach DNS, the online store and HTTPS outside the VPC (S3, STS); each serving
 *   namespace may reach its own team's feature server.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ResourceSettings } from "../shared/resources";
import { FEATURE_SERVER_METRICS_PORT, FEATURE_SERVER_PORT, featureOfflinePrefix, featureRegistryKey, REDIS_PORT } from "../contract";
import { ElastiCacheRedis } from "./elastiCacheRedis";
import {
    FEATURE_REPO_DIR,
    featureApplyPolicy,
    featureServeArgs,
    featureServerPolicy,
    featureStoreYaml,
    materializerPolicy,
    materializeScript,
    REDIS_PASSWORD_ENV,
} from "./featureStoreConfig";
import { irsaTrustPolicy, type PolicyDocument } from "./iam";
import { InClusterRedis } from "./inClusterRedis";
import {
    containerResources,
    dnsEgressRule,
    ephemeralStorage,
    namespaceNameLabel,
    restrictedContainerSecurityContext,
    restrictedPodSecurityContext,
} from "../shared/k8sHelpers";
import { podSecurityLabels, topologySpread, uriSafePassword } from "./mlflowTracking";
import { dnsName, type LabelContext, selectorLabels, standardLabels } from "../shared/naming";
import { INSTANCE_METADATA_CIDR, PROMETHEUS_POD_LABELS } from "./servingNamespace";

/** uid/gid of the `feast` user of images/feast/Dockerfile. */
export const FEAST_UID = 10001;
/** Ephemeral storage of a Feast container: its /tmp (Prometheus multiprocess files, dask spill) is 1Gi. */
export const FEAST_STORAGE = ephemeralStorage("256Mi", ["1Gi"]);
/** Pod labels every Feast pod carries: the online store admits them. */
export const FEAST_CLIENT_SELECTOR: Readonly<Record<string, string>> = { "app.kubernetes.io/name": "feast" };

/** The online store: Redis in the cluster (dev) or ElastiCache (test, prod). */
export type OnlineStoreSettings =
    | {
          readonly kind: "in-cluster";
          /** Pinned Redis image. */
          readonly image: string;
          /** Size of the data volume in GiB. */
          readonly storageGiB: number;
          /** Redis `maxmemory` in MiB (below the memory limit). */
          readonly maxMemoryMiB: number;
          /** Requests and limits of the Redis container. */
          readonly resources: ResourceSettings;
      }
    | {
          readonly kind: "elasticache";
          /** Replication group id. */
          readonly replicationGroupId: string;
          /** Node type, e.g. `cache.t4g.small`. */
          readonly nodeType: string;
          /** Redis engine version, e.g. `7.1`. */
          readonly engineVersion: string;
          /** Cache nodes (more than one: automatic failover across zones). */
          readonly nodes: number;
          /** Days of snapshots kept. */
          readonly snapshotRetentionDays: number;
      };

/** A team's Feast project. */
export interface FeatureProject {
    /** Team name: the Feast project, and the prefixes `feast/registry/<team>`, `feast/offline/<team>`. */
    readonly team: string;
    /** The team's serving namespace, whose pods may call its feature server. */
    readonly servingNamespace: pulumi.Input<string>;
    /** IAM roles of the team's CI: they may assume the team's feature-apply role. None: no such role. */
    readonly ciRoleArns: readonly string[];
}

/** Arguments of {@link FeatureStore}. */
export interface FeatureStoreArgs {
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Namespace to create for the feature servers, the materialization jobs and the dev Redis. */
    readonly namespace: string;
    /** Feast version the image carries (for the version label). */
    readonly version: string;
    /** The Feast image (images/feast), pinned: a `ContainerImage.imageRef` or a prebuilt reference. */
    readonly image: pulumi.Input<string>;
    /** The teams' projects. */
    readonly projects: readonly FeatureProject[];
    /** The artifact store: name, ARN and KMS key of the bucket. */
    readonly artifactStore: { readonly bucketName: pulumi.Input<string>; readonly bucketArn: pulumi.Input<string>; readonly kmsKeyArn: pulumi.Input<string> };
    /** Feature server replicas, gunicorn workers per replica, and requests and limits. */
    readonly server: { readonly replicas: number; readonly workers: number; readonly resources: ResourceSettings };
    /** Seconds the servers and jobs keep the registry before reading it again. */
    readonly registryCacheTtlSeconds: number;
    /** Seconds an entity's online values live after their last write. */
    readonly onlineKeyTtlSeconds: number;
    /** Cron schedule and resources of each project's materialization job. */
    readonly materialize: { readonly schedule: string; readonly resources: ResourceSettings };
    /** The online store. */
    readonly onlineStore: OnlineStoreSettings;
    /** IAM role name of a purpose (`feast-server-<team>`, ...), at most 64 characters. */
    readonly roleName: (purpose: string) => string;
    /** The cluster: OIDC provider trusted by IRSA, node security group admitted by ElastiCache, peer namespaces. */
    readonly cluster: { readonly oidcProviderArn: string; readonly nodeSecurityGroupId: string; readonly monitoringNamespace: string };
    /** The VPC: ElastiCache's subnets, and the CIDR excluded from the pods' HTTPS egress. */
    readonly network: { readonly vpcId: string; readonly vpcCidr: string; readonly privateSubnetIds: readonly string[] };
    /** What the ServiceMonitors wait for: the release that installs the prometheus-operator CRDs. */
    readonly monitoringCrds?: pulumi.Resource;
    /** Spread feature server pods across zones (hard constraint). Default false. */
    readonly spreadAcrossZones?: boolean;
    /** Protect and retain the stateful resources: namespace, online store (prod). Default false. */
    readonly protect?: boolean;
}

/** Name of a team's feature server Deployment, Service and service account. */
export function featureServerName(team: string): string {
    return dnsName(["feature-server", team]);
}

/** In-cluster URL of a team's feature server. */
export function featureServerUrl(namespace: string, team: string): string {
    return `http://${featureServerName(team)}.${namespace}.svc.cluster.local:${FEATURE_SERVER_PORT}`;
}

/** Network policies of the feature store namespace that do not depend on a team, by name. */
export function featureStoreNetworkPolicies(o: {
    vpcCidr: string;
    monitoringNamespace: string;
    redis: { podSelector: Record<string, string> } | { vpcCidr: string };
}): Record<string, k8s.types.input.networking.v1.NetworkPolicySpec> {
    const feast = { matchLabels: { ...FEAST_CLIENT_SELECTOR } };
    return {
        "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        "allow-dns": { podSelector: {}, policyTypes: ["Egress"], egress: [dnsEgressRule()] },
        "allow-online-store-egress": {
            podSelector: feast,
            policyTypes: ["Egress"],
            egress: [
                {
                    to: ["podSelector" in o.redis ? { podSelector: { matchLabels: o.redis.podSelector } } : { ipBlock: { cidr: o.redis.vpcCidr } }],
                    ports: [{ protocol: "TCP", port: REDIS_PORT }],
                },
            ],
        },
        "allow-aws-https-egress": {
            podSelector: feast,
            policyTypes: ["Egress"],
            // S3 and STS (IRSA): HTTPS outside the VPC, never the instance metadata service (the node's role).
            egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [o.vpcCidr, INSTANCE_METADATA_CIDR] } }], ports: [{ protocol: "TCP", port: 443 }] }],
        },
        "allow-prometheus-scrape": {
            podSelector: feast,
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [
                        {
                            namespaceSelector: { matchLabels: namespaceNameLabel(o.monitoringNamespace) },
                            podSelector: { matchLabels: { ...PROMETHEUS_POD_LABELS } },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: FEATURE_SERVER_METRICS_PORT }],
                },
            ],
        },
    };
}

/** The feature server's probes: Feast's `/health` (the registry is readable), a TCP check for liveness. */
export function featureServerProbes(): Pick<k8s.types.input.core.v1.Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
    return {
        startupProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
        readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
        livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
    };
}

/** Trust policy of a team's feature-apply role: only the team's CI roles may assume it. */
export function ciTrustPolicy(ciRoleArns: readonly string[]): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "TeamCiRoles", Effect: "Allow", Principal: { AWS: [...ciRoleArns] }, Action: "sts:AssumeRole" }],
    };
}

/** The feature store of the platform. */
export class FeatureStore extends pulumi.ComponentResource {
    /** Namespace of the feature servers. */
    public readonly namespace: pulumi.Output<string>;
    /** In-cluster URL of each team's feature server, by team. */
    public readonly serverUrls: Record<string, string>;
    /** `s3://` URI of each team's registry, by team. */
    public readonly registryUris: Record<string, pulumi.Output<string>>;
    /** `s3://` URI of each team's offline data prefix, by team. */
    public readonly offlineUris: Record<string, pulumi.Output<string>>;
    /** Each team's feature_store.yaml as the platform renders it (no secret: the password is an environment reference), by team. */
    public readonly featureStoreYamls: Record<string, pulumi.Output<string>>;
    /** ARN of the role each team's CI assumes to `feast apply`, for teams with CI roles. */
    public readonly applyRoleArns: Record<string, pulumi.Output<string>>;
    /** Host of the online store (not secret). */
    public readonly onlineStoreHost: pulumi.Output<string>;

    constructor(name: string, args: FeatureStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        validateFeatureStoreArgs(args);
        super("mlops:index:FeatureStore", name, {}, opts);

        const protect = args.protect === true;
        const child: pulumi.CustomResourceOptions = { parent: this };
        const ctx = args.labels;
        const labelsFor = (component: string, team?: string) =>
            standardLabels(ctx, { name: "feast", instance: team ? `feast-${team}` : "feast", component, version: args.version, team });

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.namespace,
                    labels: { ...standardLabels(ctx, { name: "feast", component: "feature-store" }), ...podSecurityLabels("restricted") },
                },
            },
            { parent: this, protect, retainOnDelete: protect },
        );
        const ns = namespace.metadata.name;

        // --- Online store ----------------------------------------------------------------------------
        const password = new random.RandomPassword(`${name}-online-store-password`, uriSafePassword(48), child);
        const online = args.onlineStore;
        let redisHost: pulumi.Output<string>;
        let redisPeer: { podSelector: Record<string, string> } | { vpcCidr: string };
        if (online.kind === "in-cluster") {
            const redis = new InClusterRedis(
                `${name}-redis`,
                {
                    namespace: ns,
                    objectName: "feast-redis",
                    image: online.image,
                    password: password.result,
                    storageGiB: online.storageGiB,
                    maxMemoryMiB: online.maxMemoryMiB,
                    resources: online.resources,
                    clientSelector: FEAST_CLIENT_SELECTOR,
                    labels: ctx,
                    protect,
                },
                child,
            );
            redisHost = redis.host;
            redisPeer = { podSelector: redis.podSelector };
        } else {
            const cache = new ElastiCacheRedis(
                `${name}-elasticache`,
                {
                    replicationGroupId: online.replicationGroupId,
                    nodeType: online.nodeType,
                    engineVersion: online.engineVersion,
                    nodes: online.nodes,
                    snapshotRetentionDays: online.snapshotRetentionDays,
                    authToken: password.result,
                    vpcId: args.network.vpcId,
                    subnetIds: args.network.privateSubnetIds,
                    clientSecurityGroupId: args.cluster.nodeSecurityGroupId,
                    applyImmediately: !protect,
                    protect,
                },
                child,
            );
            redisHost = cache.host;
            redisPeer = { vpcCidr: args.network.vpcCidr };
        }
        this.onlineStoreHost = redisHost;
        const tls = online.kind === "elasticache";

        const credentials = new k8s.core.v1.Secret(
            `${name}-online-store-credentials`,
            {
                metadata: { name: "feast-online-store", namespace: ns, labels: labelsFor("online-store") },
                type: "Opaque",
                stringData: pulumi.secret({ password: password.result }),
            },
            child,
        );

        for (const [policyName, spec] of Object.entries(
            featureStoreNetworkPolicies({ vpcCidr: args.network.vpcCidr, monitoringNamespace: args.cluster.monitoringNamespace, redis: redisPeer }),
        )) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${policyName}`,
                { metadata: { name: policyName, namespace: ns, labels: labelsFor("network-policy") }, spec },
                child,
            );
        }

        // --- Per project -----------------------------------------------------------------------------
        const bucket = { bucketArn: args.artifactStore.bucketArn, kmsKeyArn: args.artifactStore.kmsKeyArn };
        this.serverUrls = {};
        this.registryUris = {};
        this.offlineUris = {};
        this.featureStoreYamls = {};
        this.applyRoleArns = {};
        for (const project of args.projects) {
            const team = project.team;
            const serverName = featureServerName(team);
            const materializeName = dnsName(["feast-materialize", team]);
            const serverSelector = { ...selectorLabels({ name: "feast", instance: `feast-${team}`, component: "feature-server" }) };
            const serverLabels = labelsFor("feature-server", team);
            const materializeLabels = labelsFor("materialize", team);

            const irsa = (purpose: string, serviceAccount: string, policy: PolicyDocument) => {
                const role = new aws.iam.Role(
                    `${name}-${purpose}-role`,
                    {
                        name: args.roleName(purpose),
                        description: `Feast ${purpose}: ${args.namespace}/${serviceAccount}`,
                        assumeRolePolicy: JSON.stringify(irsaTrustPolicy(args.cluster.oidcProviderArn, args.namespace, serviceAccount)),
                        maxSessionDuration: 3600,
                    },
                    child,
                );
                new aws.iam.RolePolicy(`${name}-${purpose}-policy`, { name: purpose, role: role.name, policy: pulumi.jsonStringify(policy) }, child);
                return new k8s.core.v1.ServiceAccount(
                    `${name}-${purpose}-service-account`,
                    {
                        metadata: {
                            name: serviceAccount,
                            namespace: ns,
                            labels: labelsFor(purpose, team),
                            annotations: { "eks.amazonaws.com/role-arn": role.arn },
                        },
                        automountServiceAccountToken: false,
                    },
                    child,
                );
            };
            const serverAccount = irsa(`feast-server-${team}`, serverName, featureServerPolicy(bucket, team));
            const materializeAccount = irsa(`feast-materialize-${team}`, materializeName, materializerPolicy(bucket, team));

            if (project.ciRoleArns.length > 0) {
                const ciRole = new aws.iam.Role(
                    `${name}-feast-apply-${team}-role`,
                    {
                        name: args.roleName(`feast-apply-${team}`),
                        description: `Feast apply of project ${team} from the team's CI: its registry and offline data`,
                        assumeRolePolicy: JSON.stringify(ciTrustPolicy(project.ciRoleArns)),
                        maxSessionDuration: 3600,
                    },
                    child,
                );
                new aws.iam.RolePolicy(
                    `${name}-feast-apply-${team}-policy`,
                    { name: "feast-apply", role: ciRole.name, policy: pulumi.jsonStringify(featureApplyPolicy(bucket, team)) },
                    child,
                );
                this.applyRoleArns[team] = ciRole.arn;
            }

            const yaml = pulumi.all([args.artifactStore.bucketName, redisHost]).apply(([bucketName, host]) =>
                featureStoreYaml({
                    project: team,
                    bucket: bucketName,
                    redisHost: host,
                    redisPort: REDIS_PORT,
                    redisTls: tls,
                    registryCacheTtlSeconds: args.registryCacheTtlSeconds,
                    onlineKeyTtlSeconds: args.onlineKeyTtlSeconds,
                }),
            );
            this.featureStoreYamls[team] = yaml;
            this.registryUris[team] = pulumi.interpolate`s3://${args.artifactStore.bucketName}/${featureRegistryKey(team)}`;
            this.offlineUris[team] = pulumi.interpolate`s3://${args.artifactStore.bucketName}/${featureOfflinePrefix(team)}/`;
            const config = new k8s.core.v1.ConfigMap(
                `${name}-${team}-config`,
                { metadata: { name: dnsName(["feast", team]), namespace: ns, labels: labelsFor("config", team) }, data: { "feature_store.yaml": yaml } },
                child,
            );

            // The pod template both workloads share: the image's feast user, read-only, the config mounted.
            const podSpec = (serviceAccount: pulumi.Input<string>, container: k8s.types.input.core.v1.Container): k8s.types.input.core.v1.PodSpec => ({
                serviceAccountName: serviceAccount,
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: restrictedPodSecurityContext(FEAST_UID),
                containers: [
                    {
                        imagePullPolicy: "IfNotPresent",
                        securityContext: restrictedContainerSecurityContext(FEAST_UID),
                        ...container,
                        env: [
                            { name: REDIS_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: credentials.metadata.name, key: "password" } } },
                            { name: "HOME", value: "/tmp" },
                            { name: "FEAST_USAGE", value: "False" },
                            ...((container.env as k8s.types.input.core.v1.EnvVar[] | undefined) ?? []),
                        ],
                        volumeMounts: [
                            { name: "config", mountPath: FEATURE_REPO_DIR, readOnly: true },
                            { name: "tmp", mountPath: "/tmp" },
                        ],
                    },
                ],
                volumes: [
                    { name: "config", configMap: { name: config.metadata.name } },
                    { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                ],
            });

            const replicas = args.server.replicas;
            new k8s.apps.v1.Deployment(
                `${name}-${team}-server`,
                {
                    metadata: { name: serverName, namespace: ns, labels: serverLabels },
                    spec: {
                        replicas,
                        selector: { matchLabels: serverSelector },
                        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                        template: {
                            metadata: { labels: { ...serverLabels, ...FEAST_CLIENT_SELECTOR } },
                            spec: {
                                ...podSpec(serverAccount.metadata.name, {
                                    name: "feature-server",
                                    image: args.image,
                                    command: ["feast"],
                                    args: featureServeArgs({ workers: args.server.workers, registryTtlSeconds: args.registryCacheTtlSeconds }),
                                    ports: [
                                        { name: "http", containerPort: FEATURE_SERVER_PORT, protocol: "TCP" },
                                        { name: "metrics", containerPort: FEATURE_SERVER_METRICS_PORT, protocol: "TCP" },
                                    ],
                                    resources: containerResources(args.server.resources, FEAST_STORAGE),
                                    ...featureServerProbes(),
                                }),
                                terminationGracePeriodSeconds: 30,
                                topologySpreadConstraints: topologySpread(serverSelector, replicas, args.spreadAcrossZones === true),
                            },
                        },
                    },
                },
                child,
            );
            new k8s.core.v1.Service(
                `${name}-${team}-service`,
                {
                    metadata: { name: serverName, namespace: ns, labels: serverLabels },
                    spec: {
                        type: "ClusterIP",
                        selector: serverSelector,
                        ports: [
                            { name: "http", port: FEATURE_SERVER_PORT, targetPort: "http", protocol: "TCP" },
                            { name: "metrics", port: FEATURE_SERVER_METRICS_PORT, targetPort: "metrics", protocol: "TCP" },
                        ],
                    },
                },
                child,
            );
            if (replicas > 1) {
                new k8s.policy.v1.PodDisruptionBudget(
                    `${name}-${team}-pdb`,
                    {
                        metadata: { name: serverName, namespace: ns, labels: serverLabels },
                        spec: { maxUnavailable: 1, selector: { matchLabels: serverSelector } },
                    },
                    child,
                );
            }
            new k8s.apiextensions.CustomResource(
                `${name}-${team}-service-monitor`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "ServiceMonitor",
                    metadata: { name: serverName, namespace: ns, labels: serverLabels },
                    spec: {
                        selector: { matchLabels: serverSelector },
                        namespaceSelector: { matchNames: [args.namespace] },
                        endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }],
                    },
                },
                { parent: this, ...(args.monitoringCrds ? { dependsOn: [args.monitoringCrds] } : {}) },
            );
            // Only the team's serving namespace calls its feature server.
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${team}-server-ingress`,
                {
                    metadata: { name: dnsName([serverName, "ingress"]), namespace: ns, labels: serverLabels },
                    spec: {
                        podSelector: { matchLabels: serverSelector },
                        policyTypes: ["Ingress"],
                        ingress: [
                            {
                                from: [{ namespaceSelector: { matchLabels: pulumi.output(project.servingNamespace).apply(namespaceNameLabel) } }],
                                ports: [{ protocol: "TCP", port: FEATURE_SERVER_PORT }],
                            },
                        ],
                    },
                },
                child,
            );
            // ... and the serving namespace (default-deny egress) may reach it.
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${team}-serving-egress`,
                {
                    metadata: { name: "allow-feature-server-egress", namespace: project.servingNamespace, labels: labelsFor("network-policy", team) },
                    spec: {
                        podSelector: {},
                        policyTypes: ["Egress"],
                        egress: [
                            {
                                to: [{ namespaceSelector: { matchLabels: namespaceNameLabel(args.namespace) }, podSelector: { matchLabels: serverSelector } }],
                                ports: [{ protocol: "TCP", port: FEATURE_SERVER_PORT }],
                            },
                        ],
                    },
                },
                child,
            );

            new k8s.batch.v1.CronJob(
                `${name}-${team}-materialize`,
                {
                    metadata: { name: materializeName, namespace: ns, labels: materializeLabels },
                    spec: {
                        schedule: args.materialize.schedule,
                        concurrencyPolicy: "Forbid",
                        startingDeadlineSeconds: 600,
                        successfulJobsHistoryLimit: 3,
                        failedJobsHistoryLimit: 3,
                        jobTemplate: {
                            metadata: { labels: materializeLabels },
                            spec: {
                                backoffLimit: 2,
                                activeDeadlineSeconds: 3600,
                                ttlSecondsAfterFinished: 86400,
                                template: {
                                    metadata: { labels: { ...materializeLabels, ...FEAST_CLIENT_SELECTOR } },
                                    spec: {
                                        ...podSpec(materializeAccount.metadata.name, {
                                            name: "materialize",
                                            image: args.image,
                                            command: ["sh", "-c", materializeScript()],
                                            resources: containerResources(args.materialize.resources, FEAST_STORAGE),
                                        }),
                                        restartPolicy: "Never",
                                    },
                                },
                            },
                        },
                    },
                },
                child,
            );
            this.serverUrls[team] = featureServerUrl(args.namespace, team);
        }

        this.namespace = ns;
        this.registerOutputs({
            namespace: this.namespace,
            serverUrls: this.serverUrls,
            registryUris: this.registryUris,
            offlineUris: this.offlineUris,
            applyRoleArns: this.applyRoleArns,
            onlineStoreHost: this.onlineStoreHost,
        });
    }
}

/** Checks the arguments before anything is registered; every problem at once. */
export function validateFeatureStoreArgs(args: FeatureStoreArgs): void {
    const problems: string[] = [];
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace) || args.namespace.length > 63)
        problems.push(`namespace "${args.namespace}" must be a DNS label`);
    if (["kube-system", "kube-public", "kube-node-lease", "default", args.cluster.monitoringNamespace].includes(args.namespace)) {
        problems.push(`namespace "${args.namespace}" is a system or shared namespace; the feature store needs a namespace of its own`);
    }
    const teams = args.projects.map((p) => p.team);
    const duplicate = teams.find((t, i) => teams.indexOf(t) !== i);
    if (duplicate) problems.push(`project "${duplicate}" is listed twice`);
    for (const t of teams)
        if (!/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/.test(t)) problems.push(`project "${t}" must be a team name (2-20 lower-case letters, digits and -)`);
    if (!Number.isInteger(args.server.replicas) || args.server.replicas < 1 || args.server.replicas > 20)
        problems.push(`server.replicas must be an integer from 1 to 20, got ${args.server.replicas}`);
    if (!Number.isInteger(args.server.workers) || args.server.workers < 1 || args.server.workers > 16)
        problems.push(`server.workers must be an integer from 1 to 16, got ${args.server.workers}`);
    for (const [key, value] of [
        ["registryCacheTtlSeconds", args.registryCacheTtlSeconds],
        ["onlineKeyTtlSeconds", args.onlineKeyTtlSeconds],
    ] as const) {
        if (!Number.isInteger(value) || value < 1) problems.push(`${key} must be a positive integer, got ${value}`);
    }
    if (!/^(\S+\s+){4}\S+$/.test(args.materialize.schedule))
        problems.push(`materialize.schedule "${args.materialize.schedule}" must be a five-field cron expression`);
    if (typeof args.image === "string" && !/(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/.test(args.image))
        problems.push(`image "${args.image}" must be pinned by tag or digest`);
    if (problems.length > 0) throw new Error(`FeatureStore "${args.namespace}": ${problems.join("; ")}.`);
}
