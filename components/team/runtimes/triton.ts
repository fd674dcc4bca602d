/**
 * The `triton` runtime: NVIDIA Triton Inference Server serving a model repository copied from the
 * team's model prefix (ONNX Runtime, PyTorch, Python and the other backends of the image). The
 * repository is downloaded by an init container (modelFetch.ts) and served read-only with the models it
 * holds (`--model-control-mode=none`), ready only when every model loaded (`--strict-readiness`).
 *
 * Ports are Triton's defaults: HTTP/REST (KServe v2 protocol) 8000, metrics 8002; gRPC is off (the
 * gateway routes HTTP). Metrics adapter: Triton counts successful and failed inference requests per
 * model (`nv_inference_request_success`, `nv_inference_request_failure`) and their cumulative duration in
 * microseconds (`nv_inference_request_duration_us`); it has no latency histogram, so the adapter records
 * the request counter (status 200 and 500) and the duration's `_sum` and `_count`, not `_bucket`.
 */
import type { ArtifactRuntimeArgs, RenderedRuntime, RuntimeContext, RuntimePreset } from "./types";
import { artifactPathProblems, artifactS3Uri, DEFAULT_MODEL_VOLUME_SIZE, MODEL_DIR, modelFetch } from "./modelFetch";
import { CONTRACT_SERIES, nativeSelector, type RecordingRule } from "./metricsAdapter";

export const TRITON_HTTP_PORT = 8000;
export const TRITON_METRICS_PORT = 8002;
/** Where the repository is downloaded to. */
export const TRITON_REPOSITORY = `${MODEL_DIR}/repository`;

/** The native metrics the adapter reads (Triton's metrics endpoint). */
export const TRITON_METRICS = {
    success: "nv_inference_request_success",
    failure: "nv_inference_request_failure",
    durationUs: "nv_inference_request_duration_us",
} as const;

/** The adapter: Triton's request counters and cumulative duration as the contract's series. */
export function tritonRecordingRules(namespace: string, serviceName: string): RecordingRule[] {
    const s = nativeSelector(namespace, serviceName);
    return [
        { record: CONTRACT_SERIES.requests, expr: s(TRITON_METRICS.success), labels: { status: "200" } },
        { record: CONTRACT_SERIES.requests, expr: s(TRITON_METRICS.failure), labels: { status: "500" } },
        { record: CONTRACT_SERIES.durationSum, expr: `${s(TRITON_METRICS.durationUs)} / 1e6` },
        { record: CONTRACT_SERIES.durationCount, expr: s(TRITON_METRICS.success) },
    ];
}

/** The arguments of `tritonserver` for a repository. */
export function tritonArgs(repository: string): string[] {
    return [
        `--model-repository=${repository}`,
        "--model-control-mode=none",
        "--strict-readiness=true",
        "--exit-on-error=true",
        "--allow-http=true",
        `--http-port=${TRITON_HTTP_PORT}`,
        "--allow-grpc=false",
        "--allow-metrics=true",
        `--metrics-port=${TRITON_METRICS_PORT}`,
    ];
}

/** What a Triton-served preset renders, given how its repository is filled. */
export function renderTriton(
    kind: "triton" | "onnx",
    args: ArtifactRuntimeArgs,
    ctx: RuntimeContext,
    fetch: { target: string; mode: "file" | "directory" },
): RenderedRuntime {
    const sizeLimit = args.modelVolumeSize ?? DEFAULT_MODEL_VOLUME_SIZE;
    const f = modelFetch({
        image: ctx.fetchImage!,
        source: artifactS3Uri(ctx.bucket, ctx.team, args.artifactPath),
        target: fetch.target,
        mode: fetch.mode,
        uid: ctx.uid,
        sizeLimit,
    });
    return {
        kind,
        port: TRITON_HTTP_PORT,
        metricsPort: TRITON_METRICS_PORT,
        metricsPath: "/metrics",
        readinessPath: "/v2/health/ready",
        livenessPath: "/v2/health/live",
        predictPath: `/v2/models/${ctx.modelName}/infer`,
        command: ["tritonserver"],
        args: tritonArgs(TRITON_REPOSITORY),
        env: [],
        initContainers: [f.initContainer],
        volumes: [f.volume],
        mounts: [f.mount],
        scratchSizeLimits: [sizeLimit],
        recordingRules: tritonRecordingRules(ctx.namespace, ctx.serviceName),
        relabelModelLabels: true,
        provides: [CONTRACT_SERIES.requests, CONTRACT_SERIES.durationSum, CONTRACT_SERIES.durationCount],
        platformContract: false,
    };
}

export const tritonRuntime: RuntimePreset<{ kind: "triton" } & ArtifactRuntimeArgs> = {
    kind: "triton",
    description: "a Triton model repository from the artifact store, served by NVIDIA Triton Inference Server",
    downloads: true,
    reservedEnv: [],
    problems: (args) => artifactPathProblems(args.artifactPath, undefined, "Triton model repository directory"),
    // The repository's directory is the prefix: `<artifactPath>/<model>/config.pbtxt`, `<model>/1/...`.
    render: (args, ctx) => renderTriton("triton", args, ctx, { target: TRITON_REPOSITORY, mode: "directory" }),
};
