/**
 * What the MLflow server and its gc job share: the environment that hands them the backend store URI
 * (from the database Secret, never argv), the gc pods' selector, and their egress rules.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { selectorLabels } from "../../shared/naming";
import { POSTGRES_PORT } from "../rdsPostgres";
import { MLFLOW_NAME } from "../mlflowTracking";

/** `HOME` and `TMPDIR` on the /tmp volume, and `MLFLOW_BACKEND_STORE_URI` from the database Secret's `backend-store-uri`. */
export function backendStoreEnv(databaseSecretName: pulumi.Input<string>): k8s.types.input.core.v1.EnvVar[] {
    return [
        { name: "HOME", value: "/tmp" },
        { name: "TMPDIR", value: "/tmp" },
        { name: "MLFLOW_BACKEND_STORE_URI", valueFrom: { secretKeyRef: { name: databaseSecretName, key: "backend-store-uri" } } },
    ];
}

/** Labels selecting the pods of the `mlflow gc` CronJob. */
export function mlflowGcSelector(): Record<string, string> {
    return selectorLabels({ name: MLFLOW_NAME, component: "garbage-collector" });
}

/** Egress to Postgres on its port, at `peer` (the VPC CIDR for RDS, the Postgres pods in-cluster). */
export function postgresEgressRule(peer: k8s.types.input.networking.v1.NetworkPolicyPeer): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
    return { to: [peer], ports: [{ protocol: "TCP", port: POSTGRES_PORT }] };
}

/** Egress to S3 and STS (IRSA): public AWS endpoints, HTTPS only. */
export function s3HttpsEgressRule(): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
    return { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] };
}
