/** Serving runtime presets of ModelService: one file per preset, presets.ts is the registry. */
export * from "./types";
export * from "./presets";
export * from "./metricsAdapter";
export * from "./modelFetch";
export * from "./custom";
export * from "./mlflow";
export * from "./onnx";
export * from "./triton";
export * from "./torchserve";
