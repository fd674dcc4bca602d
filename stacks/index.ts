/**
 * Entry point of the platform program (`main` in Pulumi.yaml): `pulumi up` runs this module, and so do
 * the offline plan and the tests. Configuration is parsed first, so bad input fails before any resource
 * is registered. The exports are the stack outputs that team stacks read with a StackReference.
 */
import * as pulumi from "@pulumi/pulumi";
import { dvcRemoteSettings } from "../components/shared/dvcRemote";
import { loadModelApprovals } from "./approvals";
import { loadPlatformConfig, teamsIn } from "./config";
import { createPlatform } from "./platform";

const cfg = loadPlatformConfig();
// Compliance's approvals of this environment (approvals/<environment>.yaml), validated before any resource.
const approvals = loadModelApprovals(
    cfg.environment,
    teamsIn(cfg).map((t) => t.name),
);
const platform = createPlatform(cfg, approvals);

/** dev, test or prod. */
export const environment = cfg.environment;
/** AWS region of the platform. */
export const region = cfg.aws.region;
/** Artifact bucket name, ARN and KMS key. */
export const artifactBucketName = platform.artifactStore.bucketName;
export const artifactBucketArn = platform.artifactStore.bucketArn;
export const artifactKmsKeyArn = platform.artifactStore.kmsKeyArn;
/** What a team stack needs to build its own Kubernetes provider for the same cluster. */
export const kubernetes = {
    clusterName: cfg.cluster.name,
    endpoint: cfg.cluster.endpoint,
    certificateAuthorityData: cfg.cluster.certificateAuthorityData,
    oidcProviderArn: cfg.cluster.oidcProviderArn,
    gatewayNamespace: cfg.cluster.gatewayNamespace,
};
/**
 * The Gateway teams' ModelRoutes attach to: its name and namespace, the HTTPS listener (TLS ends there)
 * and the hostname suffix (`<service>.<team>.<hostnameSuffix>`); absent when mlops:serving.gateway is unset.
 */
export const gateway = cfg.serving.gateway ? { ...cfg.serving.gateway, namespace: cfg.cluster.gatewayNamespace } : undefined;
/** The AWS CLI image that downloads models for the onnx, triton and torchserve runtimes; absent when unset. */
export const modelFetchImage = cfg.serving.modelFetchImage;
/**
 * Approvals of model versions in this environment, as compliance recorded them (approvals/<environment>.yaml):
 * team stacks read them through readPlatform; ModelService and BatchInference deploy only approved versions in prod.
 */
export const modelApprovals = approvals;
/** Label domain used for the platform's own label keys. */
export const labelDomain = cfg.labelDomain;
/** MLflow tracking server and registry: in-cluster URL, namespace, identity and image. */
export const mlflowTrackingUri = platform.mlflow.trackingUri;
export const mlflowNamespace = platform.mlflow.namespace;
export const mlflowServiceAccount = platform.mlflow.serviceAccountName;
export const mlflowRoleArn = platform.mlflow.roleArn;
export const mlflowImage = platform.mlflow.image;
/** Host of the MLflow backend database (not secret). */
export const mlflowDatabaseEndpoint = platform.mlflow.databaseEndpoint;
/** Secret (in mlflowNamespace) with the basic-auth admin credentials, and the admin password itself (secret); unset with auth off. */
export const mlflowAdminSecretName = platform.mlflow.adminSecretName;
export const mlflowAdminPassword = platform.mlflow.adminPassword;
/** Monitoring: in-cluster URLs (Grafana is reached with kubectl port-forward) and the Grafana admin Secret. */
export const monitoring = {
    namespace: platform.monitoring.namespace,
    prometheusUrl: platform.monitoring.prometheusUrl,
    grafanaUrl: platform.monitoring.grafanaUrl,
    grafanaAdminSecretName: platform.monitoring.grafanaAdminSecretName,
    pushgatewayUrl: platform.monitoring.pushgatewayUrl,
};
/**
 * What each team's stack needs, by team: namespace, identities, S3 prefixes, the labels to put on its
 * objects, and its DVC remote (`dvc`: URL, region, endpoint, the training role that alone reaches it, and
 * the `.dvc/config` of a project using it).
 */
export const teams = Object.fromEntries(
    Object.entries(platform.servingNamespaces).map(([team, s]) => [
        team,
        {
            namespace: s.namespaceName,
            serviceAccountName: s.serviceAccountName,
            roleArn: s.roleArn,
            driftCheckServiceAccountName: s.driftCheckServiceAccountName,
            driftCheckRoleArn: s.driftCheckRoleArn,
            batchServiceAccountName: s.batchServiceAccountName,
            batchRoleArn: s.batchRoleArn,
            modelPrefix: s.modelPrefix,
            predictionLogPrefix: s.predictionLogPrefix,
            batchInputPrefix: s.batchInputPrefix,
            batchOutputPrefix: s.batchOutputPrefix,
            trainingServiceAccountName: s.trainingServiceAccountName,
            trainingRoleArn: s.trainingRoleArn,
            dvcPrefix: s.dvcPrefix,
            dvc: pulumi
                .all([platform.artifactStore.bucketName, s.trainingRoleArn, s.trainingServiceAccountName])
                .apply(([bucketName, roleArn, serviceAccountName]) =>
                    dvcRemoteSettings({ bucketName, team, region: cfg.aws.region, roleArn, serviceAccountName }),
                ),
            labels: s.labels,
        },
    ]),
);
/**
 * The feature store (Feast), by team: the feature server's in-cluster URL, the registry and offline-data
 * URIs, the project's feature_store.yaml (no secret in it), and the role the team's CI assumes to
 * `feast apply` (teams with deployRoleArns). Unset when the feature store is off.
 */
export const featureStore = platform.featureStore && {
    namespace: platform.featureStore.namespace,
    serverUrls: platform.featureStore.serverUrls,
    registryUris: platform.featureStore.registryUris,
    offlineUris: platform.featureStore.offlineUris,
    featureStoreYamls: platform.featureStore.featureStoreYamls,
    applyRoleArns: platform.featureStore.applyRoleArns,
};
/** Each team's TensorBoard: in-cluster URL (behind its signing-in proxy), user name, password (secret), and the s3:// prefix its runs log to. */
export const tensorboards = Object.fromEntries(
    Object.entries(platform.tensorboards).map(([team, tb]) => [team, { url: tb.url, username: tb.username, password: tb.password, logdir: tb.logdir }]),
);
