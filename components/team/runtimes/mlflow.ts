/**
 * The `mlflow` runtime: the registered pyfunc model served straight from the MLflow registry by
 * MLServer's MLflow runtime (`mlserver-mlflow`), no team image. MLServer resolves the `models:/` URI
 * through the tracking server with the team's MLflow credentials (the same as a custom server's
 * `MODEL_URI`), serves MLflow's scoring protocol at `POST /invocations` and the KServe v2 protocol at
 * `POST /v2/models/<model>/infer`, and has a latency histogram, so the adapter maps every serving
 * series of the contract.
 *
 * Why MLServer rather than `mlflow models serve`: MLServer exposes Prometheus metrics (request counts by
 * status and a latency histogram) and per-model readiness, which `mlflow models serve` has neither of;
 * it also speaks the same v2 protocol as Triton.
 *
 * Settings (checked against MLServer 1.7 in e2e/runtimes.e2e.test.ts): inference runs in the server
 * process (`MLSERVER_PARALLEL_WORKERS=0`: one process per pod, replicas scale it); readiness is the model's own
 * (`/v2/models/<model>/ready`: 200 once the model is loaded, 404 before); a model that cannot load makes
 * the server exit, so the pod restarts and never becomes ready.
 */
import { CONTRACT_SERIES, nativeSelector, type RecordingRule } from "./metricsAdapter";
import type { RuntimePreset } from "./types";

export const MLSERVER_HTTP_PORT = 8080;
export const MLSERVER_GRPC_PORT = 8081;
export const MLSERVER_METRICS_PORT = 8082;

/** The native metrics the adapter reads (MLServer's REST middleware, starlette_exporter). */
export const MLSERVER_METRICS = {
    requests: "rest_server_requests_total",
    durationBucket: "rest_server_request_duration_seconds_bucket",
    durationSum: "rest_server_request_duration_seconds_sum",
    durationCount: "rest_server_request_duration_seconds_count",
} as const;

/** The prediction routes, as MLServer labels them (route templates): MLflow's and the v2 protocol's. */
export const MLSERVER_PREDICT_PATHS = 'path=~"/invocations|/v2/models/[^/]+(/versions/[^/]+)?/infer"';

/** The adapter: the REST server's request counter and latency histogram of the prediction routes. */
export function mlserverRecordingRules(namespace: string, serviceName: string): RecordingRule[] {
    const s = nativeSelector(namespace, serviceName);
    return [
        {
            record: CONTRACT_SERIES.requests,
            expr: `label_replace(${s(MLSERVER_METRICS.requests, MLSERVER_PREDICT_PATHS)}, "status", "$1", "status_code", "(.+)")`,
        },
        { record: CONTRACT_SERIES.durationBucket, expr: s(MLSERVER_METRICS.durationBucket, MLSERVER_PREDICT_PATHS) },
        { record: CONTRACT_SERIES.durationSum, expr: s(MLSERVER_METRICS.durationSum, MLSERVER_PREDICT_PATHS) },
        { record: CONTRACT_SERIES.durationCount, expr: s(MLSERVER_METRICS.durationCount, MLSERVER_PREDICT_PATHS) },
    ];
}

/** MLServer's settings, all as environment variables (no settings files). */
export function mlserverEnv(modelName: string, modelUri: string): { name: string; value: string }[] {
    return [
        { name: "MLSERVER_HTTP_PORT", value: String(MLSERVER_HTTP_PORT) },
        { name: "MLSERVER_GRPC_PORT", value: String(MLSERVER_GRPC_PORT) },
        { name: "MLSERVER_METRICS_PORT", value: String(MLSERVER_METRICS_PORT) },
        { name: "MLSERVER_METRICS_ENDPOINT", value: "/metrics" },
        { name: "MLSERVER_METRICS_DIR", value: "/tmp/mlserver-metrics" },
        { name: "MLSERVER_PARALLEL_WORKERS", value: "0" },
        { name: "MLSERVER_MODEL_NAME", value: modelName },
        { name: "MLSERVER_MODEL_IMPLEMENTATION", value: "mlserver_mlflow.MLflowRuntime" },
        { name: "MLSERVER_MODEL_URI", value: modelUri },
        // MLflow 3 reports usage to mlflow.org unless told not to; the namespace's egress would refuse it anyway.
        { name: "MLFLOW_DISABLE_TELEMETRY", value: "true" },
    ];
}

/** The server's command: MLServer with its settings from the environment (the folder holds no settings files). */
export const MLSERVER_COMMAND = ["mlserver", "start", "/tmp"];

export const mlflowRuntime: RuntimePreset<{ kind: "mlflow" }> = {
    kind: "mlflow",
    description: "the registered pyfunc model served from the MLflow registry by MLServer's MLflow runtime",
    downloads: false,
    reservedEnv: mlserverEnv("", "").map((e) => e.name),
    problems: () => [],
    render: (_args, ctx) => {
        const env = mlserverEnv(ctx.modelName, ctx.modelUri);
        return {
            kind: "mlflow",
            port: MLSERVER_HTTP_PORT,
            metricsPort: MLSERVER_METRICS_PORT,
            metricsPath: "/metrics",
            readinessPath: `/v2/models/${ctx.modelName}/ready`,
            livenessPath: "/v2/health/live",
            predictPath: "/invocations",
            command: MLSERVER_COMMAND,
            env,
            initContainers: [],
            volumes: [],
            mounts: [],
            scratchSizeLimits: [],
            recordingRules: mlserverRecordingRules(ctx.namespace, ctx.serviceName),
            relabelModelLabels: true,
            provides: Object.values(CONTRACT_SERIES),
            platformContract: false,
        };
    },
};
