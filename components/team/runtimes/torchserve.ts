/**
 * The `torchserve` runtime: TorchServe serving one model archive (`.mar`) copied from the team's model
 * prefix by the init container (modelFetch.ts). Its configuration (config.properties) is a ConfigMap the
 * preset renders: inference on 8080, the management API on loopback only (models are not registered at
 * run time), metrics in Prometheus mode on 8082, token authorisation off (the gateway and the
 * namespace's network policies decide who calls), one worker per requested CPU.
 *
 * Readiness: TorchServe's `/ping` answers 200 while the model's worker is still loading, and for
 * `maxRetryTimeoutInSec` (300 s) of a worker that fails to load; it answers 500 only after that. The
 * startup and readiness probes therefore ask the management API (loopback) whether the model has a READY
 * worker; liveness stays `/ping` (the server, and a model that never recovers, after those 300 s).
 *
 * Stop: the `torchserve` launcher is the container's first process and has no SIGTERM handler, so the
 * kernel discards the kubelet's SIGTERM and the Java frontend it started runs on until the grace period
 * ends in SIGKILL. The preStop hook runs `torchserve --stop` after the drain: the frontend gets SIGTERM,
 * shuts down, and the launcher exits with it.
 *
 * Metrics adapter: TorchServe counts every inference request that reaches a model, answered or failed
 * (`ts_inference_requests_total`), the cumulative latency of the answered ones in microseconds
 * (`ts_inference_latency_microseconds`), and 4xx/5xx answers of the whole server (`Requests4XX`,
 * `Requests5XX`, which appear at the server's first such answer); it has no latency histogram and no
 * per-model failure counter. The adapter records the model's counter as status 200 and the server's
 * 4xx and 5xx beside it (so a failed prediction counts under 200 and again under 5xx), and the duration's
 * `_sum` and `_count` (all requests of the model), not `_bucket`.
 */
import { CONTRACT_SERIES, nativeSelector, type RecordingRule } from "./metricsAdapter";
import { artifactPathProblems, artifactS3Uri, DEFAULT_MODEL_VOLUME_SIZE, MODEL_DIR, modelFetch } from "./modelFetch";
import type { ArtifactRuntimeArgs, RuntimePreset } from "./types";

export const TORCHSERVE_HTTP_PORT = 8080;
export const TORCHSERVE_MANAGEMENT_PORT = 8081;
export const TORCHSERVE_METRICS_PORT = 8082;
/** Where the archive is downloaded to (the model store). */
export const TORCHSERVE_MODEL_STORE = `${MODEL_DIR}/store`;
export const TORCHSERVE_ARCHIVE = "model.mar";
/** Where config.properties is mounted. */
export const TORCHSERVE_CONFIG_DIR = "/etc/mlops/runtime";

/** Environment of the server: logs and the worker's sockets under /tmp (the root filesystem is read-only). */
export const TORCHSERVE_ENV_VALUES = { LOG_LOCATION: "/tmp/torchserve/logs", METRICS_LOCATION: "/tmp/torchserve/logs", TEMP: "/tmp" } as const;
const TORCHSERVE_ENV = Object.keys(TORCHSERVE_ENV_VALUES);

/** The native metrics the adapter reads (TorchServe's metrics API in Prometheus mode). */
export const TORCHSERVE_METRICS = {
    requests: "ts_inference_requests_total",
    latencyUs: "ts_inference_latency_microseconds",
    requests4xx: "Requests4XX",
    requests5xx: "Requests5XX",
} as const;

/** The adapter: TorchServe's counters as the contract's series. */
export function torchserveRecordingRules(namespace: string, serviceName: string): RecordingRule[] {
    const s = nativeSelector(namespace, serviceName);
    return [
        { record: CONTRACT_SERIES.requests, expr: s(TORCHSERVE_METRICS.requests), labels: { status: "200" } },
        { record: CONTRACT_SERIES.requests, expr: s(TORCHSERVE_METRICS.requests4xx), labels: { status: "4xx" } },
        { record: CONTRACT_SERIES.requests, expr: s(TORCHSERVE_METRICS.requests5xx), labels: { status: "5xx" } },
        { record: CONTRACT_SERIES.durationSum, expr: `${s(TORCHSERVE_METRICS.latencyUs)} / 1e6` },
        { record: CONTRACT_SERIES.durationCount, expr: s(TORCHSERVE_METRICS.requests) },
    ];
}

/** config.properties of the server. */
export function torchserveConfig(workers: number): string {
    return [
        `inference_address=http://0.0.0.0:${TORCHSERVE_HTTP_PORT}`,
        `management_address=http://127.0.0.1:${TORCHSERVE_MANAGEMENT_PORT}`,
        `metrics_address=http://0.0.0.0:${TORCHSERVE_METRICS_PORT}`,
        "metrics_mode=prometheus",
        "enable_metrics_api=true",
        "disable_token_authorization=true",
        "install_py_dep_per_model=false",
        `default_workers_per_model=${workers}`,
        `model_store=${TORCHSERVE_MODEL_STORE}`,
        "",
    ].join("\n");
}

/**
 * The readiness check: the management API (on loopback) lists a READY worker of the model. Python's
 * standard library only: the image's `python3` is the interpreter TorchServe runs on.
 */
export function torchserveReadinessCommand(modelName: string): string[] {
    const script = [
        "import json, sys, urllib.request",
        `m = json.load(urllib.request.urlopen("http://127.0.0.1:${TORCHSERVE_MANAGEMENT_PORT}/models/${modelName}", timeout=2))`,
        'sys.exit(0 if any(w["status"] == "READY" for v in m for w in v["workers"]) else 1)',
    ].join("\n");
    return ["python3", "-c", script];
}

/**
 * TorchServe's own stop: SIGTERM to the frontend whose pid the launcher wrote under TMPDIR; it returns at
 * once (with `--foreground` it would wait for the frontend, and be killed with the container's processes
 * when the launcher exits first: a failed hook).
 */
export const TORCHSERVE_STOP_COMMAND = ["torchserve", "--stop"];

/** The arguments of `torchserve`: in the foreground, the one archive, no config snapshots (read-only root). */
export function torchserveArgs(modelName: string): string[] {
    return [
        "--start",
        "--foreground",
        "--ncs",
        "--disable-token-auth",
        `--ts-config=${TORCHSERVE_CONFIG_DIR}/config.properties`,
        `--model-store=${TORCHSERVE_MODEL_STORE}`,
        `--models=${modelName}=${TORCHSERVE_ARCHIVE}`,
    ];
}

export const torchserveRuntime: RuntimePreset<{ kind: "torchserve" } & ArtifactRuntimeArgs> = {
    kind: "torchserve",
    description: "a TorchServe model archive (.mar) from the artifact store, served by TorchServe",
    downloads: true,
    reservedEnv: TORCHSERVE_ENV,
    problems: (args) => artifactPathProblems(args.artifactPath, ".mar", "TorchServe model archive"),
    render: (args, ctx) => {
        const sizeLimit = args.modelVolumeSize ?? DEFAULT_MODEL_VOLUME_SIZE;
        const f = modelFetch({
            image: ctx.fetchImage!,
            source: artifactS3Uri(ctx.bucket, ctx.team, args.artifactPath),
            target: `${TORCHSERVE_MODEL_STORE}/${TORCHSERVE_ARCHIVE}`,
            mode: "file",
            uid: ctx.uid,
            sizeLimit,
        });
        return {
            kind: "torchserve",
            port: TORCHSERVE_HTTP_PORT,
            metricsPort: TORCHSERVE_METRICS_PORT,
            metricsPath: "/metrics",
            readinessPath: "/ping",
            livenessPath: "/ping",
            readinessCommand: torchserveReadinessCommand(ctx.modelName),
            stopCommand: TORCHSERVE_STOP_COMMAND,
            predictPath: `/predictions/${ctx.modelName}`,
            command: ["torchserve"],
            args: torchserveArgs(ctx.modelName),
            env: Object.entries(TORCHSERVE_ENV_VALUES).map(([name, value]) => ({ name, value })),
            initContainers: [f.initContainer],
            volumes: [f.volume],
            mounts: [f.mount],
            scratchSizeLimits: [sizeLimit],
            configFiles: { "config.properties": torchserveConfig(Math.max(1, Math.floor(ctx.cpuCores))) },
            configDir: TORCHSERVE_CONFIG_DIR,
            recordingRules: torchserveRecordingRules(ctx.namespace, ctx.serviceName),
            relabelModelLabels: true,
            provides: [CONTRACT_SERIES.requests, CONTRACT_SERIES.durationSum, CONTRACT_SERIES.durationCount],
            platformContract: false,
        };
    },
};
