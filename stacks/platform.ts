/**
 * Composes the platform for one environment from its validated configuration.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ArtifactStore } from "../components/platform/artifactStore";
import { AdmissionPolicies } from "../components/platform/admissionPolicies";
import { approvalParameterData, type ModelApproval } from "../components/contract";
import { admissionRules } from "../policy/framework/admission";
import { readPackConfig } from "../policy/framework/configFiles";
import { PACKS } from "../policy/packs";
import { type PlatformConfig, teamQuota, teamSlo, teamsIn } from "./config";
import { ContainerImage } from "../components/team/containerImage";
import { DriftCheck } from "../components/platform/driftCheck";
import { FeatureStore } from "../components/platform/featureStore";
import { TensorBoard } from "../components/platform/tensorBoard";
import { MLFLOW_CREDENTIALS_KEYS, MLFLOW_METRICS_SECRET, MlflowTeamAccess } from "../components/platform/mlflowTeamAccess";
import { MLFLOW_NAME, MlflowTracking, mlflowTrackingUri } from "../components/platform/mlflowTracking";
import { MonitoringStack } from "../components/platform/monitoringStack";
import { artifactBucketName, iamRoleName } from "../components/platform/awsNames";
import { dnsName } from "../components/shared/naming";
import { createProviders, type PlatformProviders } from "../components/platform/providers";
import { ServingNamespace, servingNamespaceLabel, servingNamespaceName } from "../components/platform/servingNamespace";

export interface Platform {
    readonly providers: PlatformProviders;
    readonly artifactStore: ArtifactStore;
    readonly mlflow: MlflowTracking;
    readonly monitoring: MonitoringStack;
    /** Serving namespaces of the teams of this environment, by team name. */
    readonly servingNamespaces: Readonly<Record<string, ServingNamespace>>;
    readonly driftChecks: readonly DriftCheck[];
    /** MLflow users and `mlflow-credentials` Secrets of the teams; undefined with auth off or no teams. */
    readonly mlflowTeamAccess: MlflowTeamAccess | undefined;
    /** The admission policies of the teams' namespaces and the approvals they check workloads against. */
    readonly admission: AdmissionPolicies;
    /** The feature store (Feast) of the teams; undefined when `mlops:featureStore.enabled` is false. */
    readonly featureStore: FeatureStore | undefined;
    /** Each team's TensorBoard, by team; empty when `mlops:tensorboard.enabled` is false. */
    readonly tensorboards: Readonly<Record<string, TensorBoard>>;
}

/** Build context of the MLflow server image, relative to the project directory (stable across machines). */
const MLFLOW_IMAGE_CONTEXT = path.relative(process.cwd(), path.resolve(__dirname, "..", "images", "mlflow"));

/** Build context of the drift-check image, relative to the project directory. */
const DRIFT_CHECK_IMAGE_CONTEXT = path.relative(process.cwd(), path.resolve(__dirname, "..", "images", "drift-check"));
/** Build context of the Feast image, relative to the project directory. */
const FEAST_IMAGE_CONTEXT = path.relative(process.cwd(), path.resolve(__dirname, "..", "images", "feast"));

/** Build context of the TensorBoard image, relative to the project directory. */
const TENSORBOARD_IMAGE_CONTEXT = path.relative(process.cwd(), path.resolve(__dirname, "..", "images", "tensorboard"));

/** Release of the drift-check program (images/drift-check/drift_check/__init__.py): the start of its image tag. */
export const DRIFT_CHECK_VERSION = "1.0.0";

/** Creates every component of the platform for `cfg.environment`. */
export function createPlatform(cfg: PlatformConfig, approvals: readonly ModelApproval[] = []): Platform {
    const providers = createProviders(cfg);
    const isProd = cfg.environment === "prod";
    // Every component gets the explicit providers: no resource uses a default provider.
    const withProviders: pulumi.ComponentResourceOptions = { providers: [...providers.all] };

    const artifactStore = new ArtifactStore(
        "artifacts",
        {
            bucketName: artifactBucketName(cfg),
            noncurrentVersionExpirationDays: cfg.artifactStore.noncurrentVersionExpirationDays,
            abortIncompleteUploadDays: cfg.artifactStore.abortIncompleteUploadDays,
            accessLogBucket: cfg.artifactStore.accessLogBucket,
            protect: isProd,
        },
        withProviders,
    );

    // The MLflow server image: a prebuilt, digest-pinned image when configured, else built from images/mlflow.
    const mlflowImage =
        cfg.mlflow.image ??
        new ContainerImage(
            "mlflow-image",
            {
                repositoryName: `${cfg.organization}/mlops/mlflow`,
                context: MLFLOW_IMAGE_CONTEXT,
                buildArgs: { MLFLOW_VERSION: cfg.mlflow.version },
                tagPrefix: cfg.mlflow.version,
                protect: isProd,
            },
            // Building needs a Docker daemon: an explicit provider, only when an image is built.
            { providers: [...providers.all, providers.docker()] },
        ).imageRef;

    const mlflow = new MlflowTracking(
        "mlflow",
        {
            labels: { labelDomain: cfg.labelDomain, owner: cfg.owner, environment: cfg.environment, costCentre: cfg.costCentre },
            namespace: cfg.mlflow.namespace,
            version: cfg.mlflow.version,
            image: mlflowImage,
            replicas: cfg.mlflow.replicas,
            resources: cfg.mlflow.resources,
            artifactStore,
            artifactPrefix: cfg.mlflow.artifactPrefix,
            auth: cfg.mlflow.auth,
            authDefaultPermission: cfg.mlflow.authDefaultPermission,
            gcSchedule: cfg.mlflow.gcSchedule,
            gcOlderThanDays: cfg.mlflow.gcOlderThanDays,
            database: cfg.mlflow.database,
            databaseIdentifier: dnsName([cfg.organization, cfg.environment, "mlflow"]),
            iamRoleName: iamRoleName(cfg, "mlflow"),
            cluster: {
                oidcProviderArn: cfg.cluster.oidcProviderArn,
                nodeSecurityGroupId: cfg.cluster.nodeSecurityGroupId,
                gatewayNamespace: cfg.cluster.gatewayNamespace,
                monitoringNamespace: cfg.monitoring.namespace,
            },
            network: cfg.network,
            spreadAcrossZones: isProd,
            performanceInsights: isProd,
            applyImmediately: !isProd,
            protect: isProd,
        },
        withProviders,
    );

    // --- Monitoring, team serving namespaces and their drift checks --------------------------------
    const labels = { labelDomain: cfg.labelDomain, owner: cfg.owner, environment: cfg.environment, costCentre: cfg.costCentre };
    const teams = teamsIn(cfg);
    const monitoring = new MonitoringStack(
        "monitoring",
        {
            labels,
            namespace: cfg.monitoring.namespace,
            clusterName: cfg.cluster.name,
            prometheus: cfg.monitoring.prometheus,
            alertmanager: cfg.monitoring.alertmanager,
            grafana: cfg.monitoring.grafana,
            pushgateway: cfg.monitoring.pushgateway,
            metricsServer: cfg.cluster.installMetricsServer,
            runbookBaseUrl: cfg.monitoring.runbookBaseUrl,
            platformReceiver: cfg.monitoring.platformAlerts,
            teams: teams.map((t) => ({ name: t.name, namespace: servingNamespaceName(t.name), receiver: t.alerts, slo: teamSlo(cfg, t) })),
            // Webhook URLs and routing keys: secrets from the moment they leave the config.
            receiverCredentials: Object.fromEntries(Object.entries(cfg.alertmanagerCredentials ?? {}).map(([k, v]) => [k, pulumi.secret(v)])),
            repeatIntervalHours: cfg.monitoring.repeatIntervalHours,
            mlflow: {
                namespace: mlflow.namespace,
                namespaceName: cfg.mlflow.namespace,
                serviceName: MLFLOW_NAME,
                serviceSelector: mlflow.serverSelector,
                portName: "http",
                // With auth on, Prometheus scrapes as the metrics user (created below), not as the admin.
                basicAuth: cfg.mlflow.auth
                    ? { secretName: MLFLOW_METRICS_SECRET, usernameKey: MLFLOW_CREDENTIALS_KEYS.username, passwordKey: MLFLOW_CREDENTIALS_KEYS.password }
                    : undefined,
            },
            protect: isProd,
        },
        withProviders,
    );

    // The drift-check image: a prebuilt, digest-pinned image when configured, else built from
    // images/drift-check, once, when a team of this environment has drift checks.
    let driftCheckImage: pulumi.Input<string> | undefined = cfg.monitoring.driftCheckImage;
    const driftImage = (): pulumi.Input<string> =>
        (driftCheckImage ??= new ContainerImage(
            "drift-check-image",
            {
                repositoryName: `${cfg.organization}/mlops/drift-check`,
                context: DRIFT_CHECK_IMAGE_CONTEXT,
                tagPrefix: DRIFT_CHECK_VERSION,
                protect: isProd,
            },
            { providers: [...providers.all, providers.docker()] },
        ).imageRef);

    const servingNamespaces: Record<string, ServingNamespace> = {};
    const driftChecks: DriftCheck[] = [];
    for (const team of teams) {
        const serving = new ServingNamespace(
            `team-${team.name}`,
            {
                team: team.name,
                owners: team.owners,
                deployGroup: team.deployGroup,
                deployRoleArns: team.deployRoleArns,
                clusterName: cfg.cluster.name,
                labels,
                enforce: cfg.environment === "dev" ? "baseline" : "restricted",
                quota: teamQuota(cfg, team),
                limitRange: cfg.serving.limitRange,
                artifactStore: { bucketArn: artifactStore.bucketArn, kmsKeyArn: artifactStore.kmsKeyArn },
                oidcProviderArn: cfg.cluster.oidcProviderArn,
                roleNames: {
                    workload: iamRoleName(cfg, `serve-${team.name}`),
                    driftCheck: iamRoleName(cfg, `drift-${team.name}`),
                    batch: iamRoleName(cfg, `batch-${team.name}`),
                    training: iamRoleName(cfg, `train-${team.name}`),
                },
                network: {
                    vpcCidr: cfg.network.vpcCidr,
                    gatewayNamespace: cfg.cluster.gatewayNamespace,
                    monitoringNamespace: cfg.monitoring.namespace,
                    mlflowNamespace: cfg.mlflow.namespace,
                    mlflowServerSelector: mlflow.serverSelector,
                },
                protect: isProd,
                orchestrators: team.orchestrators,
            },
            withProviders,
        );
        servingNamespaces[team.name] = serving;
        for (const check of team.driftChecks) {
            driftChecks.push(
                new DriftCheck(
                    dnsName([team.name, "drift", check.model]),
                    {
                        team: team.name,
                        namespace: serving.namespaceName,
                        serviceAccountName: serving.driftCheckServiceAccountName,
                        labels,
                        model: check.model,
                        alias: check.alias,
                        schedule: check.schedule,
                        intervalMinutes: check.intervalMinutes,
                        windowHours: check.windowHours,
                        image: driftImage(),
                        resources: cfg.monitoring.driftCheckResources,
                        bucketName: artifactStore.bucketName,
                        modelPrefix: serving.modelPrefix,
                        predictionLogPrefix: serving.predictionLogPrefix,
                        mlflowTrackingUri: mlflowTrackingUri(cfg.mlflow.namespace),
                        pushgatewayUrl: monitoring.pushgatewayUrl,
                    },
                    withProviders,
                ),
            );
        }
    }

    // --- The feature store: a Feast project per team, its feature server and materialization job -----
    let featureStore: FeatureStore | undefined;
    const fs = cfg.featureStore;
    if (fs.enabled) {
        const feastImage =
            fs.image ??
            new ContainerImage(
                "feast-image",
                {
                    repositoryName: `${cfg.organization}/mlops/feast`,
                    context: FEAST_IMAGE_CONTEXT,
                    buildArgs: { FEAST_VERSION: fs.version },
                    tagPrefix: fs.version,
                    protect: isProd,
                },
                { providers: [...providers.all, providers.docker()] },
            ).imageRef;
        const online = fs.onlineStore;
        featureStore = new FeatureStore(
            "feature-store",
            {
                labels,
                namespace: fs.namespace,
                version: fs.version,
                image: feastImage,
                projects: teams.map((t) => ({ team: t.name, servingNamespace: servingNamespaces[t.name].namespaceName, ciRoleArns: t.deployRoleArns })),
                artifactStore: { bucketName: artifactStore.bucketName, bucketArn: artifactStore.bucketArn, kmsKeyArn: artifactStore.kmsKeyArn },
                server: fs.server,
                registryCacheTtlSeconds: fs.registryCacheTtlSeconds,
                onlineKeyTtlSeconds: fs.onlineKeyTtlDays * 86400,
                materialize: fs.materialize,
                onlineStore:
                    online.kind === "in-cluster"
                        ? {
                              kind: "in-cluster",
                              image: online.image,
                              storageGiB: online.storageGiB,
                              maxMemoryMiB: online.maxMemoryMiB,
                              resources: online.resources,
                          }
                        : {
                              kind: "elasticache",
                              replicationGroupId: dnsName([cfg.organization, cfg.environment, "feast"], 40),
                              nodeType: online.nodeType,
                              engineVersion: online.engineVersion,
                              nodes: online.nodes,
                              snapshotRetentionDays: online.snapshotRetentionDays,
                          },
                roleName: (purpose) => iamRoleName(cfg, purpose),
                cluster: {
                    oidcProviderArn: cfg.cluster.oidcProviderArn,
                    nodeSecurityGroupId: cfg.cluster.nodeSecurityGroupId,
                    monitoringNamespace: cfg.monitoring.namespace,
                },
                network: cfg.network,
                monitoringCrds: monitoring.crds,
                spreadAcrossZones: isProd,
                protect: isProd,
            },
            withProviders,
        );
    }

    // --- A TensorBoard per team, reading its run logs read-only, behind its signing-in proxy --------
    const tensorboards: Record<string, TensorBoard> = {};
    if (cfg.tensorboard.enabled && teams.length > 0) {
        const tensorboardImage =
            cfg.tensorboard.image ??
            new ContainerImage(
                "tensorboard-image",
                { repositoryName: `${cfg.organization}/mlops/tensorboard`, context: TENSORBOARD_IMAGE_CONTEXT, tagPrefix: "2.21.0", protect: isProd },
                { providers: [...providers.all, providers.docker()] },
            ).imageRef;
        for (const team of teams) {
            tensorboards[team.name] = new TensorBoard(
                `team-${team.name}-tensorboard`,
                {
                    team: team.name,
                    namespace: servingNamespaces[team.name].namespaceName,
                    labels,
                    image: tensorboardImage,
                    artifactStore: { bucketName: artifactStore.bucketName, bucketArn: artifactStore.bucketArn, kmsKeyArn: artifactStore.kmsKeyArn },
                    oidcProviderArn: cfg.cluster.oidcProviderArn,
                    roleName: iamRoleName(cfg, `tensorboard-${team.name}`),
                    reloadIntervalSeconds: cfg.tensorboard.reloadIntervalSeconds,
                    replicas: cfg.tensorboard.replicas,
                    resources: cfg.tensorboard.resources,
                },
                withProviders,
            );
        }
    }

    // --- MLflow users (auth on): the teams' `mlflow-credentials` Secrets, and Prometheus' metrics user ----
    let mlflowTeamAccess: MlflowTeamAccess | undefined;
    if (cfg.mlflow.auth && mlflow.adminSecretName) {
        mlflowTeamAccess = new MlflowTeamAccess(
            "mlflow-team-access",
            {
                labels,
                mlflowNamespace: mlflow.namespace,
                trackingUri: mlflow.trackingUri,
                adminSecretName: mlflow.adminSecretName,
                image: mlflow.image,
                serverSelector: mlflow.serverSelector,
                teams: teams.map((t) => ({ name: t.name, namespace: servingNamespaces[t.name].namespaceName })),
                metricsUser: true,
            },
            // The Job needs the server up: it runs after everything of MLflow is created.
            { ...withProviders, dependsOn: [mlflow] },
        );
    }

    // --- What the cluster enforces for every client: the packs' single-object rules, bound to the serving namespaces ---
    const admission = new AdmissionPolicies(
        "admission",
        {
            labels,
            rules: admissionRules({
                packs: PACKS,
                environment: cfg.environment,
                labelDomain: cfg.labelDomain,
                config: (pack) => readPackConfig(cfg.environment, pack),
            }),
            approvals: approvalParameterData(approvals, new Date()),
            namespaceSelector: servingNamespaceLabel(cfg.labelDomain),
            protect: isProd,
        },
        withProviders,
    );

    return { providers, artifactStore, mlflow, monitoring, servingNamespaces, driftChecks, mlflowTeamAccess, admission, featureStore, tensorboards };
}
