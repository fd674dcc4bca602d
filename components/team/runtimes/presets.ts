/**
 * The registry of serving runtime presets, and what ModelService asks of it: the problems of a
 * `runtime` argument and the rendered runtime.
 */
import { customRuntime } from "./custom";
import { mlflowRuntime } from "./mlflow";
import { onnxRuntime } from "./onnx";
import { torchserveRuntime } from "./torchserve";
import { tritonRuntime } from "./triton";
import { type RenderedRuntime, type RuntimeArgs, type RuntimeContext, RUNTIME_KINDS, type RuntimeKind, type RuntimePreset } from "./types";

/** Every preset, by kind. */
export const RUNTIME_PRESETS: { readonly [K in RuntimeKind]: RuntimePreset<Extract<RuntimeArgs, { kind: K }>> } = {
    custom: customRuntime,
    mlflow: mlflowRuntime,
    onnx: onnxRuntime,
    triton: tritonRuntime,
    torchserve: torchserveRuntime,
};

/** The preset of a runtime argument (custom when absent). */
export function runtimePreset(runtime: RuntimeArgs | undefined): RuntimePreset {
    return RUNTIME_PRESETS[runtime?.kind ?? "custom"] as RuntimePreset;
}

/** Problems of a ModelService's runtime and the arguments that depend on it (empty when fine). */
export function runtimeProblems(o: {
    runtime: RuntimeArgs | undefined;
    /** Plain, or the platform's output (present when given; what it resolves to is checked when ModelService renders it). */
    fetchImage: unknown;
    image: unknown;
    inputSchema: unknown;
    predictionLoggingEnabled: boolean;
    port?: number;
    metricsPort?: number;
    health?: unknown;
    env?: Readonly<Record<string, unknown>>;
}): string[] {
    const kind = o.runtime?.kind ?? "custom";
    if (!RUNTIME_KINDS.includes(kind)) return [`runtime.kind "${kind}" must be one of ${RUNTIME_KINDS.join(", ")}`];
    if (kind === "custom") return [];
    const preset = runtimePreset(o.runtime);
    const problems = preset.problems(o.runtime as never);
    if (preset.downloads && !o.fetchImage) {
        problems.push(`runtime ${kind} downloads its model with the AWS CLI: set platform.modelFetchImage (an AWS CLI image, pinned by digest outside dev)`);
    }
    if (typeof o.image === "object" && o.image !== null && "build" in o.image) {
        problems.push(
            `runtime ${kind} serves with the runtime's own image: image must be { reference } to a ${kind === "mlflow" ? "MLServer (with mlserver-mlflow)" : kind === "torchserve" ? "TorchServe" : "Triton"} image, not a build`,
        );
    }
    if (o.inputSchema !== undefined)
        problems.push(
            `inputSchema is read by custom servers only; runtime ${kind} validates requests against the model's own signature or configuration: remove it`,
        );
    if (o.predictionLoggingEnabled)
        problems.push(`predictionLogging is written by custom servers only; runtime ${kind} logs no predictions: set enabled: false`);
    for (const key of ["port", "metricsPort", "health"] as const) {
        if (o[key] !== undefined) problems.push(`${key} is set by runtime ${kind}: remove it`);
    }
    for (const k of Object.keys(o.env ?? {})) if (preset.reservedEnv.includes(k)) problems.push(`env "${k}" is set by runtime ${kind}; remove it`);
    return problems;
}

/** Renders the runtime of a ModelService. */
export function renderRuntime(runtime: RuntimeArgs | undefined, ctx: RuntimeContext): RenderedRuntime {
    return runtimePreset(runtime).render(runtime ?? { kind: "custom" }, ctx);
}
