/**
 * The `custom` runtime: the team's image follows the platform's server contract (docs/team-guide.md):
 * `POST /invocations` and the health endpoints on `port`, the metrics contract on `metricsPort` at
 * `/metrics`, the model loaded from MLflow (`MODEL_URI`), the input schema and prediction logging read
 * from the environment ModelService sets. Nothing to adapt: the server exposes the contract itself.
 */
import { METRICS, seriesNames } from "../../shared/metricsContract";
import type { RuntimePreset } from "./types";

export const customRuntime: RuntimePreset<{ kind: "custom" }> = {
    kind: "custom",
    description: "the team's own image, following the platform's server contract (e.g. a FastAPI server)",
    downloads: false,
    reservedEnv: [],
    problems: () => [],
    render: (_args, ctx) => ({
        kind: "custom",
        port: ctx.port,
        metricsPort: ctx.metricsPort,
        metricsPath: "/metrics",
        readinessPath: ctx.readinessPath,
        livenessPath: ctx.livenessPath,
        predictPath: "/invocations",
        env: [],
        initContainers: [],
        volumes: [],
        mounts: [],
        scratchSizeLimits: [],
        recordingRules: [],
        relabelModelLabels: false,
        provides: Object.values(METRICS)
            .filter((m) => m.source === "model-server")
            .flatMap((m) => seriesNames(m)),
        platformContract: true,
    }),
};
