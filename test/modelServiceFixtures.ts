/** Shared fixtures of the ModelService and BatchInference tests: platform references as a team stack gets them. */
import type { Environment } from "../stacks/config";
import type { ModelServiceArgs } from "../components/team/modelService";
import type { PlatformRefs } from "../components/team/modelWorkload";
import type { ModelApproval } from "../components/contract";

export const RUNBOOKS = "https://github.com/acme/mlops-platform/blob/main/docs/runbooks";

/** A prebuilt scorer image pinned by digest, as test and prod require. */
export const DIGEST_REF = `410987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-scorer:1.4.0@sha256:${"a".repeat(64)}`;

/** Compliance's approval of fraud-scorer version 12 with both images (as approvals/prod.yaml records it). */
export const APPROVAL_12: ModelApproval = {
    team: "fraud",
    model: "fraud-scorer",
    version: 12,
    imageDigests: [`sha256:${"a".repeat(64)}`, `sha256:${"b".repeat(64)}`],
    approvedBy: "jane.doe",
    ticket: "CHG-10423",
    date: "2026-11-02",
    expires: "2027-01-31",
};

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
        batchServiceAccountName: "batch",
        approvals: environment === "prod" ? [APPROVAL_12] : [],
    };
}

/** The scorer's request schema. */
export const SCHEMA = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    required: ["amount"],
    properties: { amount: { type: "number", minimum: 0 } },
};

/** Valid arguments of the fraud scorer in prod; `change` replaces top-level fields. */
export function prodArgs(change: Partial<ModelServiceArgs> = {}): ModelServiceArgs {
    return {
        team: "fraud",
        owners: ["fraud-ml@acme.io"],
        platform: platformRefs("prod"),
        modelUri: "models:/fraud-scorer/12",
        alias: "champion",
        previousVersion: 11,
        image: { reference: DIGEST_REF },
        resources: { cpuRequest: "1", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "3Gi" },
        replicas: { min: 3, max: 12 },
        autoscaling: { targetCpuUtilization: 60, targetRequestsPerSecond: 40 },
        inputSchema: SCHEMA,
        predictionLogging: { enabled: true, sampleRate: 0.1 },
        slo: { latencyP95Seconds: 0.25, errorRatio: 0.005 },
        ...change,
    };
}
