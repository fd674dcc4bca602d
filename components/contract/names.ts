/**
 * Names the platform's objects have and a team's workloads rely on: serving namespaces, service
 * accounts, Secrets, ports, and the team's prefixes in the artifact bucket. The platform stack creates
 * them (ServingNamespace, MlflowTracking); ModelService and BatchInference refer to them.
 */

/** Prefix of a team's serving namespace. */
const SERVING_NAMESPACE_PREFIX = "ml-";

/** Name of a team's serving namespace: `ml-<team>`. */
export function servingNamespaceName(team: string): string {
    return `${SERVING_NAMESPACE_PREFIX}${team}`;
}

/** The team whose serving namespace `namespace` is (`ml-<team>`), or undefined when it is none. */
export function teamOfServingNamespace(namespace: string | undefined): string | undefined {
    if (!namespace?.startsWith(SERVING_NAMESPACE_PREFIX)) return undefined;
    const team = namespace.slice(SERVING_NAMESPACE_PREFIX.length);
    return team.length > 0 ? team : undefined;
}

/** Service account of a team's model servers (and the default of its workloads). */
export const WORKLOAD_SERVICE_ACCOUNT = "workload";
/** Service account of a team's batch-scoring jobs (BatchInference). */
export const BATCH_SERVICE_ACCOUNT = "batch";
/** Service account of a team's drift checks. */
export const DRIFT_CHECK_SERVICE_ACCOUNT = "drift-check";

/** Secret in each serving namespace with a team's MLflow credentials, keys `username` and `password` (present when MLflow auth is on). */
export const MLFLOW_CREDENTIALS_SECRET = "mlflow-credentials";
/** Port the MLflow tracking server listens on (its pods; NetworkPolicies name it). */
export const MLFLOW_PORT = 5000;
/** Named container ports the metrics contract asks model servers to use (docs/metrics-contract.md). */
export const SERVING_PORT_NAME = "http";
export const METRICS_PORT_NAME = "metrics";

/** S3 prefix of a team's model artifacts (read by its servers). */
export function modelPrefix(team: string): string {
    return `models/${team}`;
}

/** S3 prefix of a team's logged predictions and inputs (written by its servers, read by its drift checks). */
export function predictionLogPrefix(team: string): string {
    return `prediction-logs/${team}`;
}

/** S3 prefix of a team's batch-scoring inputs (read by its batch jobs through the batch role). */
export function batchInputPrefix(team: string): string {
    return `batch-inputs/${team}`;
}

/** S3 prefix of a team's batch-scoring outputs (written, not read, by its batch jobs through the batch role). */
export function batchOutputPrefix(team: string): string {
    return `batch-outputs/${team}`;
}

/** Role (and RoleBinding) in a serving namespace that lets the team's orchestrators start runs of its batch jobs. */
export const BATCH_RUN_STARTER_ROLE = "batch-run-starter";
