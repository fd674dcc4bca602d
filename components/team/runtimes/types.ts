/**
 * What a serving runtime preset of ModelService is: the arguments a team gives (`runtime`), what the
 * preset is rendered from, and what it renders (ports, probes, command, model download, volumes,
 * resource defaults and the metrics adapter). Each preset lives in its own file (custom.ts, mlflow.ts,
 * onnx.ts, triton.ts, torchserve.ts); presets.ts is the registry.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { RecordingRule } from "./metricsAdapter";

/** The serving runtimes a ModelService can run. */
export const RUNTIME_KINDS = ["custom", "mlflow", "onnx", "triton", "torchserve"] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

/** A model artifact in the team's model prefix of the artifact bucket, downloaded before the server starts. */
export interface ArtifactRuntimeArgs {
    /**
     * Path of the artifact under the team's model prefix `models/<team>/` of the artifact bucket (the only
     * prefix its workload role may read): a `.onnx` file (onnx), a Triton model repository directory
     * (triton), a `.mar` archive (torchserve). Relative, no `..`.
     */
    readonly artifactPath: string;
    /** Size limit of the volume the artifact is downloaded to. Default 4Gi. */
    readonly modelVolumeSize?: string;
}

/**
 * The `runtime` argument of ModelService:
 * - `custom`: the team's image follows the platform's server contract (docs/team-guide.md). The default.
 * - `mlflow`: the registered pyfunc model served from the registry by MLServer's MLflow runtime; `image` is
 *   an MLServer image with `mlserver-mlflow` (e.g. `seldonio/mlserver:<version>-mlflow`).
 * - `onnx`: one ONNX file served by Triton's ONNX Runtime backend (configuration completed by Triton);
 *   `image` is a Triton image.
 * - `triton`: a Triton model repository; `image` is a Triton image.
 * - `torchserve`: a TorchServe model archive; `image` is a TorchServe image.
 */
export type RuntimeArgs =
    | { readonly kind: "custom" }
    | { readonly kind: "mlflow" }
    | ({ readonly kind: "onnx" } & ArtifactRuntimeArgs)
    | ({ readonly kind: "triton" } & ArtifactRuntimeArgs)
    | ({ readonly kind: "torchserve" } & ArtifactRuntimeArgs);

/** What a preset is rendered from (all known before anything is registered, except the bucket). */
export interface RuntimeContext {
    /** The ModelService's name (Deployment, Service): the `service` label of its scraped series. */
    readonly serviceName: string;
    readonly team: string;
    /** The serving namespace. */
    readonly namespace: string;
    /** The registered model name (the name the runtime serves the model under). */
    readonly modelName: string;
    /** The `models:/` URI of the version. */
    readonly modelUri: string;
    /** The artifact bucket. */
    readonly bucket: pulumi.Input<string>;
    /** The image of the download init container (an image with the AWS CLI), when the preset downloads: plain, or the platform's output. */
    readonly fetchImage?: pulumi.Input<string>;
    /** uid/gid the containers run as. */
    readonly uid: number;
    /** `port`/`metricsPort` of the arguments (custom only: the other presets own their ports). */
    readonly port: number;
    readonly metricsPort: number;
    /** CPU cores requested by the server container (TorchServe sizes its workers by it). */
    readonly cpuCores: number;
    /** `health` paths of the arguments (custom only). */
    readonly readinessPath: string;
    readonly livenessPath: string;
}

/** What a preset renders into the Deployment and its monitoring. */
export interface RenderedRuntime {
    readonly kind: RuntimeKind;
    /** Container port of predictions and health checks (named `http`). */
    readonly port: number;
    /** Container port of the runtime's metrics (named `metrics`). */
    readonly metricsPort: number;
    /** Path of the metrics on `metricsPort`. */
    readonly metricsPath: string;
    /** Path of the readiness (and startup) probe on `port`, unless {@link readinessCommand} replaces it. */
    readonly readinessPath: string;
    readonly livenessPath: string;
    /**
     * A command the startup and readiness probes run in the server container instead of GET
     * {@link readinessPath}: for a runtime whose HTTP health answers before the model can serve
     * (TorchServe's /ping).
     */
    readonly readinessCommand?: string[];
    /**
     * The runtime's own stop command, run by the preStop hook after the drain: for a server that does not
     * stop on SIGTERM to the container's first process (the `torchserve` launcher, PID 1, has no SIGTERM
     * handler, so the kernel discards the signal, and the Java frontend it started never hears of it).
     */
    readonly stopCommand?: string[];
    /** Path a prediction is POSTed to (in the operating note). */
    readonly predictPath: string;
    /** Command and arguments of the server container; undefined: the image's. */
    readonly command?: string[];
    readonly args?: string[];
    /** Environment of the server container the preset sets (beyond the platform's MLOPS_* and HOME/TMPDIR). */
    readonly env: k8s.types.input.core.v1.EnvVar[];
    /** Init containers (the model download). */
    readonly initContainers: k8s.types.input.core.v1.Container[];
    /** Extra volumes and mounts of the server container (the model volume). */
    readonly volumes: k8s.types.input.core.v1.Volume[];
    readonly mounts: k8s.types.input.core.v1.VolumeMount[];
    /** Size limits of the preset's disk-backed volumes (counted in the containers' ephemeral-storage limits). */
    readonly scratchSizeLimits: string[];
    /** Files of a ConfigMap the preset mounts (`<service>-runtime-config`) at {@link configDir}. */
    readonly configFiles?: Record<string, string>;
    readonly configDir?: string;
    /**
     * Recording rules that map the runtime's native metrics onto the metrics contract (empty for custom:
     * the team's server exposes the contract itself).
     */
    readonly recordingRules: RecordingRule[];
    /** Does the ServiceMonitor attach `model`, `version` and `team` to the scraped series from the pod labels? */
    readonly relabelModelLabels: boolean;
    /** The contract series the runtime provides (through its adapter or natively). */
    readonly provides: readonly string[];
    /** Does the server read the platform's input schema and write prediction logs (the custom contract)? */
    readonly platformContract: boolean;
}

/** A runtime preset: validates its arguments, renders the server. */
export interface RuntimePreset<A extends RuntimeArgs = RuntimeArgs> {
    readonly kind: A["kind"];
    /** What it serves, with which server, in words (docs and the operating note). */
    readonly description: string;
    /** Does it need the download init container (and so `platform.modelFetchImage`)? */
    readonly downloads: boolean;
    /** Environment variable names the preset sets (a team's `env` may not override them). */
    readonly reservedEnv: readonly string[];
    /** Problems of the preset's own arguments (empty when fine). */
    problems(args: A): string[];
    render(args: A, ctx: RuntimeContext): RenderedRuntime;
}
