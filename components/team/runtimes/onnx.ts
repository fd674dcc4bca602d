/**
 * The `onnx` runtime: one ONNX file served by Triton's ONNX Runtime backend, no team image. The init
 * container copies the file into a one-model repository (`<model>/1/model.onnx`); Triton completes the
 * model configuration (inputs, outputs, types, shapes) from the ONNX file itself, so the team writes
 * none. Ports, probes and the metrics adapter are Triton's (triton.ts).
 *
 * Why Triton and not a small ONNX Runtime server or MLServer: the same production server as the
 * `triton` preset (CPU and GPU execution, dynamic batching, the KServe v2 protocol, Prometheus metrics)
 * with nothing for the platform to write or maintain; MLServer has no ONNX runtime of its own, and a
 * platform-written server would be one more image to build, patch and instrument.
 */
import { renderTriton, TRITON_REPOSITORY } from "./triton";
import { artifactPathProblems } from "./modelFetch";
import type { ArtifactRuntimeArgs, RuntimePreset } from "./types";

/** Where the ONNX file lands: version 1 of the model named after the registered model. */
export function onnxModelFile(modelName: string): string {
    return `${TRITON_REPOSITORY}/${modelName}/1/model.onnx`;
}

export const onnxRuntime: RuntimePreset<{ kind: "onnx" } & ArtifactRuntimeArgs> = {
    kind: "onnx",
    description: "one ONNX file from the artifact store, served by Triton's ONNX Runtime backend (configuration completed from the file)",
    downloads: true,
    reservedEnv: [],
    problems: (args) => artifactPathProblems(args.artifactPath, ".onnx", "ONNX model"),
    render: (args, ctx) => renderTriton("onnx", args, ctx, { target: onnxModelFile(ctx.modelName), mode: "file" }),
};
