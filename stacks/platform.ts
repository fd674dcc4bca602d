/**
 * Composes the platform for one environment from its validated configuration.
 */
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ArtifactStore } from "../components/artifactStore";
import type { PlatformConfig } from "../components/config";
import { ContainerImage } from "../components/containerImage";
import { MlflowTracking } from "../components/mlflowTracking";
import { artifactBucketName, dnsName, iamRoleName } from "../components/naming";
import { createProviders, type PlatformProviders } from "../components/providers";

export interface Platform {
    readonly providers: PlatformProviders;
    readonly artifactStore: ArtifactStore;
    readonly mlflow: MlflowTracking;
}

/** Build context of the MLflow server image, relative to the project directory (stable across machines). */
const MLFLOW_IMAGE_CONTEXT = path.relative(process.cwd(), path.resolve(__dirname, "..", "images", "mlflow"));
/** Namespace of Prometheus, admitted to scrape the platform's services. */
const MONITORING_NAMESPACE = "monitoring";

/** Creates every component of the platform for `cfg.environment`. */
export function createPlatform(cfg: PlatformConfig): Platform {
    const providers = createProviders(cfg);
    const isProd = cfg.environment === "prod";
    const withProviders: pulumi.ComponentResourceOptions = { providers: [providers.aws, providers.kubernetes] };

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
            { providers: [providers.aws, providers.kubernetes, new docker.Provider(`docker-${cfg.environment}`, {})] },
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
                monitoringNamespace: MONITORING_NAMESPACE,
            },
            network: cfg.network,
            spreadAcrossZones: isProd,
            performanceInsights: isProd,
            applyImmediately: !isProd,
            protect: isProd,
        },
        withProviders,
    );

    return { providers, artifactStore, mlflow };
}
