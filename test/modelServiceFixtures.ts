/** Shared fixtures of the ModelService and BatchInference tests: platform references as a team stack gets them. */
import type { Environment } from "../components/config";
import type { PlatformRefs } from "../components/modelWorkload";

export const RUNBOOKS = "https://github.com/acme/mlops-platform/blob/main/docs/runbooks";

/** Platform references as a team stack reads them from the platform stack of `environment`. */
export function platformRefs(environment: Environment): PlatformRefs {
    return {
        environment,
        labelDomain: "acme.io",
        costCentre: "CC-5120",
        runbookBaseUrl: RUNBOOKS,
        mlflowTrackingUri: "http://mlflow.mlflow.svc.cluster.local",
        artifactBucketName: `acme-mlops-${environment}-artifacts`,
        gatewayNamespace: "ingress-nginx",
        monitoringNamespace: "monitoring",
        pushgatewayUrl: "http://pushgateway.monitoring.svc.cluster.local:9091",
        serviceAccountName: "workload",
    };
}
