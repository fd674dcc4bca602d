/**
 * An online prediction API for one registered model version, in the owning team's serving namespace.
 *
 * It renders a Deployment (zero-downtime rolling updates, startup/readiness/liveness probes, restricted
 * pods, spread over zones and nodes, drained before it stops), a ClusterIP Service with the named ports
 * `http` and `metrics`, an HPA (a fixed replica count when min = max), a PodDisruptionBudget, a
 * ServiceMonitor, a PrometheusRule with this service's SLO thresholds (the platform's model alerts narrowed to this
 * service), a ConfigMap with the JSON Schema of its requests, and its operating note (a ConfigMap, and
 * the {@link ModelService.operatingNote} output).
 *
 * Network access is the serving namespace's (servingNamespace.ts): default deny, the gateway on `http`,
 * Prometheus on `http` and `metrics`. The service adds no NetworkPolicy of its own: the team's deploy
 * group may not create any (an allow rule of a team could undo the namespace's default deny), and one
 * that admits the same peers would add nothing.
 *
 * The server contract (docs/team-guide.md): the image serves `POST /invocations` and the health
 * endpoints on `port`, the metrics of docs/metrics-contract.md on `metricsPort` at `/metrics`, loads
 * `MODEL_URI` from MLflow, validates requests against the schema at `MODEL_INPUT_SCHEMA_PATH`, logs a
 * `PREDICTION_LOG_SAMPLE_RATE` share of requests and responses under `PREDICTION_LOG_URI`, and writes
 * only under /tmp.
 *
 * Every argument is checked before anything is registered: misuse fails `pulumi preview` with one
 * message listing every problem.
 */
import { approvalsFile } from "../contract";
import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import Ajv from "ajv";
import Ajv2019 from "ajv/dist/2019";
import Ajv2020 from "ajv/dist/2020";
import {
    type AlertName,
    alertSignals,
    formatPercent,
    formatSeconds,
    type ModelSlo,
    ROLLOUT_ALERTS,
    type RuleGroup,
    type RuleScope,
    validateModelAlertArgs,
    workloadAlertGroups,
} from "../shared/alertRules";
import { opt, req, type Shape, type ShapeOf } from "./argShape";
import type { ResourceSettings } from "../shared/resources";
import { containerResources, ephemeralStorage, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../shared/k8sHelpers";
import {
    checkWorkloadArgs,
    commonProblems,
    DEFAULT_SERVICE_ACCOUNT,
    DEFAULT_WORKLOAD_UID,
    defaultRepositoryName,
    deployedImage,
    extraEnvProblems,
    imageDescription,
    type ImageSource,
    imageProblems,
    mlflowEnv,
    modelEnv,
    modelWorkloadAnnotations,
    modelWorkloadLabels,
    type PlatformRefs,
    prometheusRuleSpec,
    stampedMetadata,
    teamLabelContext,
    workloadNoteFacts,
    type WorkloadNoteInput,
    workloadApproval,
    workloadNoteInput,
    WORKLOAD_COMMON_SHAPE,
    RESOURCES_SHAPE,
} from "./modelWorkload";
import { RPS_METRIC } from "../shared/metricsContract";
import { type ApprovalRecord, isUnderPrefix, modelVersionUri, parseModelUri } from "./modelUri";
import { selectorLabels } from "../shared/naming";
import { type NoteSignal, type OperatingNote, renderOperatingNote } from "./operatingNote";
import { METRICS_PORT_NAME, ORG_ANNOTATIONS, ORG_LABELS, orgKey, predictionLogPrefix, SERVING_PORT_NAME, servingNamespaceName } from "../contract";
import { adapterRuleSpec, runtimeConfigMapName, runtimeInitContainers, runtimeProblemsOf, serviceMonitorEndpoint, serviceRuntime } from "./runtimeWiring";
import { type RuntimeArgs, runtimePreset } from "./runtimes";
import { rolloutNote, trackLabel, trackProblems } from "./rolloutTrack";
import { gpuPlacement, gpuProblems, withGpu } from "./gpu";
import type { RolloutTrack } from "../contract";

/** Longest object name: pods of a Deployment are `<name>-<10-char hash>-<5 chars>`, within 63 characters. */
export const SERVICE_NAME_MAX = 46;
/** Port of the Service in front of the `http` container port: the gateway calls `http://<name>.<namespace>.svc`. */
export const SERVICE_HTTP_PORT = 80;
/** Where the input schema is mounted. */
export const INPUT_SCHEMA_DIR = "/etc/mlops/input-schema";
export const INPUT_SCHEMA_FILE = "schema.json";
/** Largest input schema accepted (a ConfigMap holds at most 1 MiB). */
export const INPUT_SCHEMA_MAX_BYTES = 256 * 1024;
/** Seconds between SIGTERM and SIGKILL beyond the drain: in-flight requests finish. */
export const SHUTDOWN_SECONDS = 30;

/** Thresholds of the service's alerts. */
export interface ServiceSlo {
    /** p95 request latency above which ModelLatencyP95High fires, in seconds (above 0, at most 60). */
    readonly latencyP95Seconds: number;
    /** Share of 5xx responses above which ModelErrorRatioHigh fires (strictly between 0 and 1). */
    readonly errorRatio: number;
    /** Input validation failures per request above which ModelInputValidationFailuresHigh fires. Default 0.05. */
    readonly inputValidationFailureRatio?: number;
    /** Drift score (PSI) of a feature above which ModelFeatureDriftHigh fires. Default 0.2. */
    readonly driftScore?: number;
    /** Tolerated shift of the prediction distribution from the reference week (0-1). Default 0.2. */
    readonly predictionShift?: number;
}

/** Defaults of the SLO fields a team may leave out (the platform's prod defaults). */
export const DEFAULT_QUALITY_SLO = { inputValidationFailureRatio: 0.05, driftScore: 0.2, predictionShift: 0.2 } as const;

/** The alerts of a model service, in the order the operating note lists them. */
export const SERVICE_ALERTS: readonly AlertName[] = [
    "ModelServiceDown",
    "ModelErrorRatioHigh",
    "ModelLatencyP95High",
    "ModelReplicasUnavailable",
    "ModelPodCrashLooping",
    "ModelArtifactStoreErrors",
    "ModelInputValidationFailuresHigh",
    "ModelFeatureDriftHigh",
    "ModelPredictionClassShift",
    "ModelPredictionValueShift",
];

/** Environment variables the component sets (a team's `env` may not override them). */
export const MODEL_SERVICE_ENV = [
    "MODEL_URI",
    "MODEL_NAME",
    "MODEL_VERSION",
    "MODEL_ALIAS",
    "MLOPS_TEAM",
    "MLOPS_SERVICE",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "PORT",
    "METRICS_PORT",
    "MODEL_INPUT_SCHEMA_PATH",
    "PREDICTION_LOG_ENABLED",
    "PREDICTION_LOG_SAMPLE_RATE",
    "PREDICTION_LOG_URI",
    "HOME",
    "TMPDIR",
] as const;

// ---------------------------------------------------------------------------------------------
// Pure helpers: names, replica math, rules, the operating note.
// ---------------------------------------------------------------------------------------------

/** Rolling update that never drops below the desired replicas: no pod goes before its successor is ready. */
export function rollingUpdateFor(minReplicas: number): { maxUnavailable: number; maxSurge: number } {
    return { maxUnavailable: 0, maxSurge: Math.max(1, Math.ceil(minReplicas / 4)) };
}

/**
 * The disruption budget: with two or more replicas at least `min - 1` stay available, so a node drain
 * proceeds one pod at a time at the floor and never takes every replica; a single replica (dev) may be
 * evicted (`maxUnavailable: 1`), or a drain would block forever.
 */
export function disruptionBudgetFor(minReplicas: number): { minAvailable: number } | { maxUnavailable: number } {
    return minReplicas >= 2 ? { minAvailable: minReplicas - 1 } : { maxUnavailable: 1 };
}

/** Startup probe failures allowed at a period: the model may take `timeoutSeconds` to load. */
export function startupFailureThreshold(timeoutSeconds: number, periodSeconds: number): number {
    return Math.max(1, Math.ceil(timeoutSeconds / periodSeconds));
}

/** The full SLO with defaults. */
export function fullSlo(slo: ServiceSlo): ModelSlo {
    return { ...DEFAULT_QUALITY_SLO, ...Object.fromEntries(Object.entries(slo).filter(([, v]) => v !== undefined)) } as ModelSlo;
}

/** HPA metrics: CPU utilisation, and requests per second per pod when asked. */
export function hpaMetrics(targetCpuUtilization: number, targetRequestsPerSecond?: number): k8s.types.input.autoscaling.v2.MetricSpec[] {
    const metrics: k8s.types.input.autoscaling.v2.MetricSpec[] = [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: targetCpuUtilization } } },
    ];
    if (targetRequestsPerSecond !== undefined) {
        metrics.push({ type: "Pods", pods: { metric: { name: RPS_METRIC }, target: { type: "AverageValue", averageValue: String(targetRequestsPerSecond) } } });
    }
    return metrics;
}

/** HPA behaviour: scale up fast (double, or 4 pods, every 30 s), down slowly (half every minute after the stabilisation window). */
export function hpaBehavior(scaleDownStabilizationSeconds: number): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerBehavior {
    return {
        scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: "Max",
            policies: [
                { type: "Percent", value: 100, periodSeconds: 30 },
                { type: "Pods", value: 4, periodSeconds: 30 },
            ],
        },
        scaleDown: {
            stabilizationWindowSeconds: scaleDownStabilizationSeconds,
            selectPolicy: "Max",
            policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
        },
    };
}

/** Spread over zones (a hard rule in prod) and nodes (best effort), counting only pods of the same revision. */
export function modelTopologySpread(selector: Record<string, string>, hardZoneSpread: boolean): k8s.types.input.core.v1.TopologySpreadConstraint[] {
    const base = { maxSkew: 1, labelSelector: { matchLabels: selector }, matchLabelKeys: ["pod-template-hash"] };
    return [
        { ...base, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: hardZoneSpread ? "DoNotSchedule" : "ScheduleAnyway" },
        { ...base, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" },
    ];
}

/** How the platform's model alerts are narrowed to one service: its scraped series (`service`), drift scores (`model`), its Deployment and pods. */
export function serviceRuleScope(serviceName: string, modelName: string): RuleScope {
    return [
        ["mlops_feature_drift_score", `model="${modelName}"`],
        ["mlops_", `service="${serviceName}"`],
        ["kube_deployment_", `deployment="${serviceName}"`],
        ["kube_pod_", `pod=~"${serviceName}-[a-z0-9]+-[a-z0-9]+"`],
    ];
}

/** The rule groups of one service: the registry's model alerts with its SLO thresholds, narrowed to it. */
export function serviceRuleGroups(o: { team: string; serviceName: string; modelName: string; slo: ModelSlo; runbookBaseUrl: string }): RuleGroup[] {
    const namespace = servingNamespaceName(o.team);
    validateModelAlertArgs({ team: o.team, namespace, slo: o.slo, runbookBaseUrl: o.runbookBaseUrl });
    const scope = serviceRuleScope(o.serviceName, o.modelName);
    return workloadAlertGroups({
        team: o.team,
        namespace,
        instance: o.serviceName,
        alerts: SERVICE_ALERTS,
        scope,
        slo: o.slo,
        runbookBaseUrl: o.runbookBaseUrl,
    });
}

/**
 * When each alert of a service fires, in words, with its thresholds (the registry's sentences); a
 * candidate (canary or shadow) adds the alerts its ModelRoute compares it with the stable version by.
 */
export function serviceSignals(slo: ModelSlo, rules: readonly { alert: string; for: string }[], track?: RolloutTrack): NoteSignal[] {
    const deployed = SERVICE_ALERTS.filter((alert) => rules.some((r) => r.alert === alert));
    const candidate = track === "canary" || track === "shadow" ? ROLLOUT_ALERTS : [];
    return alertSignals([...deployed, ...candidate], slo, { namespace: "" });
}

/** What the operating note of a service says. */
export interface ModelServiceNoteInput extends WorkloadNoteInput {
    readonly serviceName: string;
    readonly replicas: { readonly min: number; readonly max: number };
    readonly targetCpuUtilization: number;
    readonly targetRequestsPerSecond?: number;
    readonly port: number;
    readonly metricsPort: number;
    readonly inputSchema: boolean;
    readonly logging: { readonly enabled: boolean; readonly sampleRate: number; readonly prefix: string };
    readonly slo: ModelSlo;
    readonly rules: readonly { alert: string; for: string }[];
    readonly runbookBaseUrl: string;
    /** The serving runtime (custom when absent). */
    readonly runtime?: { readonly kind: string; readonly description: string; readonly predictPath: string };
    /** The rollout track behind a ModelRoute, when it has one. */
    readonly track?: RolloutTrack;
}

/** The operating note of a model service. */
export function modelServiceNote(i: ModelServiceNoteInput): OperatingNote {
    const ns = servingNamespaceName(i.team);
    const deploy = `deployment/${i.serviceName}`;
    const scaling =
        i.replicas.min === i.replicas.max
            ? `${i.replicas.min} (fixed)`
            : `${i.replicas.min} to ${i.replicas.max} (HPA: ${i.targetCpuUtilization}% CPU${i.targetRequestsPerSecond !== undefined ? `, ${i.targetRequestsPerSecond} requests/s per pod` : ""})`;
    const rollback: string[] = [...rolloutNote(i.track, i.serviceName, ns)];
    if (i.track === "canary" || i.track === "shadow") {
        // A candidate is rolled back by taking it out of its route: nothing else to undo.
    } else if (i.previousVersion !== undefined && "version" in i.model) {
        const previousUri = modelVersionUri(i.model.name, i.previousVersion);
        rollback.push(
            `**Roll back the model** to version ${i.previousVersion}: in the team's stack, set this service's \`modelUri\` to \`${previousUri}\` and \`previousVersion\` to \`${i.model.version}\`` +
                (i.environment === "prod"
                    ? ` (version ${i.previousVersion} and its image must still be approved in ${approvalsFile(i.environment)} of the platform)`
                    : "") +
                ", then deploy and watch the rollout:",
            [
                "```sh",
                "pulumi preview --diff   # only the model version (and its labels) change",
                "pulumi up",
                `kubectl -n ${ns} rollout status ${deploy} --timeout=10m`,
                `kubectl -n ${ns} get ${deploy} -L ${orgKey(i.labelDomain, ORG_LABELS.modelVersion)}`,
                "```",
            ].join("\n"),
            `Point the registry alias back too (docs/registry-conventions.md#rollback), so the registry says what is served: \`MlflowClient().set_registered_model_alias("${i.model.name}", "${i.alias ?? "champion"}", ${i.previousVersion})\`, and tag version ${i.model.version} \`rollback.reason\`.`,
        );
    } else {
        rollback.push(
            "**No previous version is recorded** (`previousVersion`): this is the first version served. To take it out of service, remove the ModelService from the team's program and `pulumi up`; callers then get errors from the gateway.",
        );
    }
    rollback.push(
        `**Roll back only the server image** (a bad build of the same model version): the Deployment keeps its last 10 revisions; \`rollout undo\` returns to the previous pod template, image and model version as they were, so check the history first.`,
        [
            "```sh",
            `kubectl -n ${ns} rollout history ${deploy}`,
            `kubectl -n ${ns} rollout undo ${deploy}`,
            `kubectl -n ${ns} rollout status ${deploy} --timeout=10m`,
            "```",
        ].join("\n"),
        "Then pin the image that works in the team's stack: the next `pulumi up` would otherwise roll the undone image out again.",
    );
    return {
        title: `${i.serviceName}: online model service`,
        summary:
            `Serves predictions of the registered model \`${i.model.name}\` (${i.modelUri}) for team ${i.team} in ${i.environment}, ` +
            `at \`http://${i.serviceName}.${ns}.svc.cluster.local\` (\`POST ${i.runtime?.predictPath ?? "/invocations"}\`), reachable only through the gateway.`,
        facts: [
            ...workloadNoteFacts(i, "when a pod starts"),
            ["Replicas", scaling],
            ["Ports", `http ${i.port} (Service port ${SERVICE_HTTP_PORT}), metrics ${i.metricsPort} (/metrics)`],
            [
                "Runtime",
                i.runtime && i.runtime.kind !== "custom"
                    ? `${i.runtime.kind}: ${i.runtime.description} (docs/serving-runtimes.md)`
                    : "custom: the team's image follows the server contract (docs/team-guide.md)",
            ],
            [
                "Input schema",
                i.runtime && i.runtime.kind !== "custom"
                    ? i.runtime.kind === "torchserve"
                        ? "left to the archive's handler (TorchServe checks none)"
                        : "checked by the runtime against the model's signature (MLflow) or configuration (Triton)"
                    : i.inputSchema
                      ? `${INPUT_SCHEMA_DIR}/${INPUT_SCHEMA_FILE} (ConfigMap ${i.serviceName}-input-schema)`
                      : "none: requests are not validated",
            ],
            [
                "Prediction logging",
                i.logging.enabled ? `${formatPercent(i.logging.sampleRate)} of requests to s3://<artifact bucket>/${i.logging.prefix}/` : "off",
            ],
            ["SLO", `p95 latency at most ${formatSeconds(i.slo.latencyP95Seconds)}, 5xx ratio at most ${formatPercent(i.slo.errorRatio)}`],
        ],
        failures: [
            "The model cannot be loaded (MLflow unreachable or refusing the credentials, the version or its artifacts missing, S3 denied): new pods never become ready. A rollout then stalls with the old pods still serving (`maxUnavailable: 0`); a restart leaves no replica (ModelServiceDown).",
            `The server is too slow or overloaded: latency above the SLO, the HPA at its maximum of ${i.replicas.max} replicas, or the namespace quota reached.`,
            "The server fails requests (5xx): a bug in the server image, a dependency of the model missing, out of memory (OOMKilled, then crash loops).",
            "Clients send inputs the schema rejects: an upstream change of the request format.",
            "The inputs drift away from the training data, or the predictions shift: the model is still up but no longer right.",
            "Prediction logs cannot be written (S3 errors): the drift check then has nothing to compare.",
            `Nodes are drained or a zone is lost: the disruption budget keeps ${i.replicas.min >= 2 ? `${i.replicas.min - 1} of at least ${i.replicas.min}` : "no"} replicas available; pods spread over zones and nodes.`,
        ],
        signals: serviceSignals(i.slo, i.rules, i.track),
        runbookBaseUrl: i.runbookBaseUrl,
        afterAlert: [
            `The alert goes to team ${i.team}'s receiver (Alertmanager routes on \`team="${i.team}"\`; critical alerts page when the team has PagerDuty).`,
            "Open the runbook linked in the alert (table above) and the **MLOps / Model service** dashboard for this model.",
            "If the alert started with a rollout, roll back first (below) and investigate afterwards.",
            `Check the pods: \`kubectl -n ${ns} get pods -l app.kubernetes.io/instance=${i.serviceName}\`, \`kubectl -n ${ns} logs ${deploy}\`, \`kubectl -n ${ns} describe ${deploy}\`.`,
            "After a critical alert, write a post-mortem from docs/postmortem-template.md.",
        ],
        rollback,
    };
}

/** Every argument of {@link ModelServiceArgs}: what it must be and whether it is required. */
export const MODEL_SERVICE_SHAPE: Shape = {
    ...WORKLOAD_COMMON_SHAPE,
    serviceName: opt("string"),
    port: opt("integer"),
    metricsPort: opt("integer"),
    health: opt({ object: { readinessPath: opt("string"), livenessPath: opt("string"), startupTimeoutSeconds: opt("integer") } }),
    replicas: req({ object: { min: req("integer"), max: req("integer") } }, "{ min, max }"),
    autoscaling: opt({
        object: { targetCpuUtilization: opt("integer"), targetRequestsPerSecond: opt("number"), scaleDownStabilizationSeconds: opt("integer") },
    }),
    inputSchema: opt("record"),
    predictionLogging: req({ object: { enabled: req("boolean"), sampleRate: opt("number"), prefix: opt("string") } }, "{ enabled, sampleRate?, prefix? }"),
    slo: req(
        {
            object: {
                latencyP95Seconds: req("number"),
                errorRatio: req("number"),
                inputValidationFailureRatio: opt("number"),
                driftScore: opt("number"),
                predictionShift: opt("number"),
            } satisfies ShapeOf<ServiceSlo>,
        },
        "{ latencyP95Seconds, errorRatio }",
    ),
    drainSeconds: opt("integer"),
    // The workload's resources, and GPUs (components/team/gpu.ts).
    resources: req(
        { object: { ...(RESOURCES_SHAPE as { object: Shape }).object, gpu: opt("integer") } },
        "{ cpuRequest, memoryRequest, cpuLimit, memoryLimit, gpu? }",
    ),
    // The serving runtime: its kind, and what the artifact presets take (each preset checks its own arguments).
    runtime: opt({
        object: { kind: req("string", "custom, mlflow, onnx, triton or torchserve"), artifactPath: opt("string"), modelVolumeSize: opt("string") },
    }),
    track: opt("string"),
} satisfies ShapeOf<ModelServiceArgs>;

/**
 * Checks the arguments before anything is registered, as they may come from plain JavaScript or
 * untyped config: every missing argument, wrong type, unknown key and invalid value at once, in one
 * error naming each argument.
 */
export function validateModelServiceArgs(name: string, args: ModelServiceArgs, now: Date = new Date()): void {
    checkWorkloadArgs<ModelServiceArgs>("ModelService", name, args, MODEL_SERVICE_SHAPE, (a) => modelServiceValueProblems(a, now));
}

/** Problems of the values (the shape holds, or its problems are reported apart). */
function modelServiceValueProblems(args: ModelServiceArgs, now: Date): string[] {
    const { model, problems } = commonProblems(args, now);
    const env = args.platform.environment;
    const serviceName = args.serviceName ?? model?.name;
    if (serviceName !== undefined && (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(serviceName) || serviceName.length > SERVICE_NAME_MAX)) {
        problems.push(`serviceName "${serviceName}" must be lower-case letters, digits and -, starting with a letter, at most ${SERVICE_NAME_MAX} characters`);
    }
    // Checked even when the model URI is not (its name is the default service name): one pass, not rounds.
    const imageName = serviceName ?? "service";
    problems.push(...imageProblems(args.image, env, { repositoryName: defaultRepositoryName(args.team, imageName), tagPrefix: imageName }));
    const port = args.port ?? 8080;
    const metricsPort = args.metricsPort ?? 9090;
    for (const [key, value] of [
        ["port", port],
        ["metricsPort", metricsPort],
    ] as const) {
        if (!Number.isInteger(value) || value < 1024 || value > 65535)
            problems.push(`${key} must be an integer from 1024 to 65535 (the server runs as non-root), got ${value}`);
    }
    if (port === metricsPort) problems.push(`port and metricsPort must differ, both are ${port}`);
    const health = args.health ?? {};
    for (const [key, value] of [
        ["readinessPath", health.readinessPath],
        ["livenessPath", health.livenessPath],
    ] as const) {
        if (value !== undefined && !/^\/[A-Za-z0-9._~/-]*$/.test(value)) problems.push(`health.${key} "${value}" must be a URL path starting with /`);
    }
    const startup = health.startupTimeoutSeconds ?? 300;
    if (!Number.isInteger(startup) || startup < 10 || startup > 3600)
        problems.push(`health.startupTimeoutSeconds must be an integer from 10 to 3600, got ${startup}`);

    const { min, max } = args.replicas;
    const minOk = Number.isInteger(min) && min >= 1 && min <= 100;
    const maxOk = Number.isInteger(max) && max >= 1 && max <= 100;
    if (!minOk) problems.push(`replicas.min must be an integer from 1 to 100, got ${min}`);
    if (!maxOk) problems.push(`replicas.max must be an integer from 1 to 100, got ${max}`);
    if (minOk && maxOk && min > max) problems.push(`replicas.min (${min}) must not exceed replicas.max (${max})`);
    if (minOk && env === "prod" && min < 2)
        problems.push(`replicas.min must be at least 2 in prod (one replica cannot survive a node drain or a rollout), got ${min}`);
    const auto = args.autoscaling ?? {};
    const cpu = auto.targetCpuUtilization ?? 70;
    if (!Number.isInteger(cpu) || cpu < 10 || cpu > 95)
        problems.push(`autoscaling.targetCpuUtilization must be an integer percentage from 10 to 95, got ${cpu}`);
    if (auto.targetRequestsPerSecond !== undefined && !(Number.isFinite(auto.targetRequestsPerSecond) && auto.targetRequestsPerSecond > 0)) {
        problems.push(`autoscaling.targetRequestsPerSecond must be a number above 0, got ${auto.targetRequestsPerSecond}`);
    }
    const stabilization = auto.scaleDownStabilizationSeconds ?? 300;
    if (!Number.isInteger(stabilization) || stabilization < 0 || stabilization > 3600) {
        problems.push(`autoscaling.scaleDownStabilizationSeconds must be an integer from 0 to 3600, got ${stabilization}`);
    }

    const slo = args.slo;
    if (!(typeof slo.latencyP95Seconds === "number" && slo.latencyP95Seconds > 0 && slo.latencyP95Seconds <= 60)) {
        problems.push(`slo.latencyP95Seconds must be a number of seconds above 0 and at most 60, got ${slo.latencyP95Seconds}`);
    }
    if (!(typeof slo.errorRatio === "number" && slo.errorRatio > 0 && slo.errorRatio < 1)) {
        problems.push(`slo.errorRatio must be a ratio strictly between 0 and 1, got ${slo.errorRatio}`);
    }
    for (const [key, hi] of [
        ["inputValidationFailureRatio", 100],
        ["driftScore", 100],
        ["predictionShift", 1],
    ] as const) {
        const v = slo[key];
        if (v !== undefined && !(typeof v === "number" && v > 0 && v <= hi)) problems.push(`slo.${key} must be a number above 0 and at most ${hi}, got ${v}`);
    }

    const log = args.predictionLogging;
    const rate = log.sampleRate ?? 1;
    if (!(typeof rate === "number" && rate >= 0 && rate <= 1)) problems.push(`predictionLogging.sampleRate must be a number from 0 to 1, got ${rate}`);
    else if (log.enabled && rate === 0) problems.push("predictionLogging.sampleRate is 0 with logging enabled: set enabled: false instead");
    if (log.prefix !== undefined && !isUnderPrefix(log.prefix, predictionLogPrefix(args.team))) {
        problems.push(
            `predictionLogging.prefix "${log.prefix}" must be under the team's prediction-log prefix ${predictionLogPrefix(args.team)}/ (the only prefix its workload role may write)`,
        );
    }

    problems.push(...runtimeProblemsOf(args), ...trackProblems(args.track), ...gpuProblems(args.resources.gpu));
    if (args.inputSchema === undefined) {
        if (env === "prod" && (args.runtime?.kind ?? "custom") === "custom")
            problems.push("inputSchema is required in prod: the JSON Schema the server validates requests against");
    } else {
        problems.push(...inputSchemaProblems(args.inputSchema));
    }
    const drain = args.drainSeconds ?? 10;
    if (!Number.isInteger(drain) || drain < 0 || drain > 120) problems.push(`drainSeconds must be an integer from 0 to 120, got ${drain}`);
    const uid = args.runAsUser ?? DEFAULT_WORKLOAD_UID;
    if (!Number.isInteger(uid) || uid < 1 || uid > 2147483647) problems.push(`runAsUser must be a numeric non-root uid (1 to 2147483647), got ${uid}`);
    if (args.tmpSizeLimit !== undefined && !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(args.tmpSizeLimit)) {
        problems.push(`tmpSizeLimit "${args.tmpSizeLimit}" is not a Kubernetes quantity like 2Gi`);
    }
    problems.push(...extraEnvProblems(args.env, MODEL_SERVICE_ENV));
    return problems;
}

/** Verdicts of schemas already checked, by their JSON text: building a validator costs ~10 ms each. */
const schemaVerdicts = new Map<string, string[]>();

/** Problems of an input schema: a valid JSON Schema object, small enough for a ConfigMap. */
export function inputSchemaProblems(schema: unknown): string[] {
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return ["inputSchema must be a JSON Schema object"];
    const text = JSON.stringify(schema);
    let verdict = schemaVerdicts.get(text);
    if (!verdict) {
        verdict = checkInputSchema(schema, Buffer.byteLength(text));
        schemaVerdicts.set(text, verdict);
    }
    return [...verdict];
}

function checkInputSchema(schema: object, size: number): string[] {
    if (size > INPUT_SCHEMA_MAX_BYTES) return [`inputSchema is ${size} bytes; at most ${INPUT_SCHEMA_MAX_BYTES} fit`];
    const dialect = (schema as { $schema?: unknown }).$schema;
    // The server validates with the draft the schema names (draft 7 when it names none).
    const Validator =
        typeof dialect === "string" && dialect.includes("2020-12") ? Ajv2020 : typeof dialect === "string" && dialect.includes("2019-09") ? Ajv2019 : Ajv;
    if (typeof dialect === "string" && !/(2020-12|2019-09|draft-07|draft-06)/.test(dialect)) {
        return [`inputSchema names the JSON Schema dialect "${dialect}"; use draft-07, 2019-09 or 2020-12`];
    }
    try {
        new Validator({ strict: false, allErrors: true }).compile(schema as Record<string, unknown>);
        return [];
    } catch (e) {
        return [`inputSchema is not a valid JSON Schema: ${(e as Error).message}`];
    }
}

/** Arguments of {@link ModelService}. */
export interface ModelServiceArgs {
    /** Team that owns the service (`mlops:teams[].name`): it runs in namespace `ml-<team>`, its alerts go to the team. */
    readonly team: string;
    /** People or groups accountable for the model: named in the operating note and an annotation. */
    readonly owners: readonly string[];
    /** What the service needs from the platform stack (`readPlatform` reads it from the stack outputs). */
    readonly platform: PlatformRefs;
    /** Name of the Deployment, Service and the rest (lower-case, starting with a letter, at most 46 characters). Default the model name. */
    readonly serviceName?: string;
    /** The version to serve, `models:/<team>-<model>/<version>`; an alias (`models:/<name>@champion`) is accepted in dev only. */
    readonly modelUri: string;
    /** Registry alias the version was resolved from when deploying (`champion`): the `stage` label. Default none. */
    readonly alias?: string;
    /** The version to roll back to (the one served before): in the operating note and an annotation. Default none (first version). */
    readonly previousVersion?: number;
    /** Who approved this version, the change ticket and the date. Required in prod. */
    readonly approval?: ApprovalRecord;
    /** The server image: `{ reference }` (pinned by digest outside dev) or `{ build: { context } }` (built, pushed to ECR, deployed by digest). */
    readonly image: ImageSource;
    /** Container port of predictions and health checks (named `http`). Default 8080. */
    readonly port?: number;
    /** Container port of `/metrics` (named `metrics`). Default 9090. */
    readonly metricsPort?: number;
    /** Health endpoints on `port`, and how long the model may take to load. Default `/health/ready`, `/health/live`, 300 s. */
    readonly health?: { readonly readinessPath?: string; readonly livenessPath?: string; readonly startupTimeoutSeconds?: number };
    /** Requests and limits of the server container; `gpu`: NVIDIA GPUs (1 to 8), placed on the platform's GPU nodes. */
    readonly resources: ResourceSettings & { readonly gpu?: number };
    /** Replicas: the HPA scales between min and max (a fixed count when equal). min is at least 2 in prod. */
    readonly replicas: { readonly min: number; readonly max: number };
    /** Autoscaling targets: CPU utilisation (default 70%), optionally requests per second per pod; scale-down stabilisation (default 300 s). */
    readonly autoscaling?: {
        readonly targetCpuUtilization?: number;
        readonly targetRequestsPerSecond?: number;
        readonly scaleDownStabilizationSeconds?: number;
    };
    /** JSON Schema of a request body, mounted for the server at `MODEL_INPUT_SCHEMA_PATH`. Required in prod. */
    readonly inputSchema?: Readonly<Record<string, unknown>>;
    /** Request/response logging: on or off, the share of requests logged (0-1, default 1), and where (under `prediction-logs/<team>/`, default `prediction-logs/<team>/<model>`). */
    readonly predictionLogging: { readonly enabled: boolean; readonly sampleRate?: number; readonly prefix?: string };
    /** Service-level objectives: the thresholds of this service's alerts. */
    readonly slo: ServiceSlo;
    /** Seconds a stopping pod keeps serving after it left the Service's endpoints (preStop). Default 10. */
    readonly drainSeconds?: number;
    /** Numeric uid/gid the image runs as. Default 10001. */
    readonly runAsUser?: number;
    /** Size limit of the writable /tmp, where the model is downloaded. Default 2Gi. */
    readonly tmpSizeLimit?: string;
    /** Extra environment variables of the server (not those the component sets). Default none. */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
    /**
     * The serving runtime (docs/serving-runtimes.md): `custom` (the default: `image` follows the platform's
     * server contract), `mlflow`, `onnx`, `triton` or `torchserve` (`image` is the runtime's image; the
     * preset owns ports, probes, command, model download and the metrics adapter).
     */
    readonly runtime?: RuntimeArgs;
    /**
     * Rollout track behind a ModelRoute: `stable`, `canary` or `shadow` (the `mlops.<domain>/track` label
     * of its objects and pods, and the `track` label of its scraped series). Default none (a service
     * without a route's canary or shadow).
     */
    readonly track?: RolloutTrack;
}

/** An online prediction API for one model version. */
export class ModelService extends pulumi.ComponentResource {
    /** Name of the Deployment and Service. */
    public readonly serviceName: string;
    /** The team's namespace the service runs in. */
    public readonly namespace: string;
    /** In-cluster URL of the API (`http://<name>.<namespace>.svc.cluster.local`): the gateway routes here. */
    public readonly url: string;
    /** The model URI the server loads. */
    public readonly modelUri: string;
    /** The deployed image: the prebuilt reference, or the pushed digest of a build. */
    public readonly image: pulumi.Output<string>;
    /** The operating note (Markdown), also in the ConfigMap `<name>-operating-note`. */
    public readonly operatingNote: string;
    /** The alert rules of the service (also in the PrometheusRule `<name>-alerts`). */
    public readonly ruleGroups: RuleGroup[];
    /** Labels of the service's pods. */
    public readonly podLabels: Record<string, string>;
    /** Labels selecting the service's pods. */
    public readonly selector: Record<string, string>;
    /** The rollout track (`track` argument), when it has one. */
    public readonly track?: RolloutTrack;
    /** The registered model it serves (the `model` label of its series). */
    public readonly modelName: string;
    /** Its SLO with defaults: the thresholds of its alerts, and of a ModelRoute's comparison of it with the stable version. */
    public readonly slo: ModelSlo;

    constructor(name: string, args: ModelServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): misuse fails before anything is registered.
        validateModelServiceArgs(name, args);
        super("mlops:index:ModelService", name, {}, opts);

        const p = args.platform;
        const env = p.environment;
        const model = parseModelUri(args.modelUri);
        const stage = args.alias ?? ("alias" in model ? model.alias : undefined);
        const serviceName = args.serviceName ?? model.name;
        const ns = servingNamespaceName(args.team);
        // The serving runtime owns ports, probes, command, model download and the metrics adapter (custom: the arguments').
        const rt = serviceRuntime(args, { serviceName, namespace: ns, modelName: model.name, component: `ModelService "${name}"` });
        const port = rt.port;
        const metricsPort = rt.metricsPort;
        const health = { startupTimeoutSeconds: 300, ...args.health, readinessPath: rt.readinessPath, livenessPath: rt.livenessPath };
        const auto = { targetCpuUtilization: 70, scaleDownStabilizationSeconds: 300, ...args.autoscaling };
        const drain = args.drainSeconds ?? 10;
        const uid = args.runAsUser ?? DEFAULT_WORKLOAD_UID;
        const slo = fullSlo(args.slo);
        const logging = {
            enabled: args.predictionLogging.enabled,
            sampleRate: args.predictionLogging.sampleRate ?? 1,
            prefix: (args.predictionLogging.prefix ?? `${predictionLogPrefix(args.team)}/${model.name}`).replace(/^\/+|\/+$/g, ""),
        };
        const imageDefaults = { repositoryName: defaultRepositoryName(args.team, serviceName), tagPrefix: serviceName };
        const image = deployedImage(this, name, args.image, imageDefaults, env === "prod");
        // Compliance's approval of the version (prod): when it is known only at deploy time, every child waits for it.
        const initImages = rt.initContainers.flatMap((c) => (c.image !== undefined ? [c.image as pulumi.Input<string>] : []));
        const approval = workloadApproval(this, `ModelService "${name}"`, args, model, image.ref, undefined, initImages);
        const child: pulumi.CustomResourceOptions = { parent: this, ...(approval.gate ? { dependsOn: approval.gate } : {}) };

        const ctx = teamLabelContext(p, args.team);
        const labelsWith = (a?: ApprovalRecord) => ({
            ...modelWorkloadLabels(ctx, { team: args.team, instance: serviceName, component: "model-server", model, alias: args.alias, approval: a }),
            ...trackLabel(p.labelDomain, args.track),
        });
        const annotationsWith = (a?: ApprovalRecord) =>
            modelWorkloadAnnotations(p.labelDomain, { owners: args.owners, modelUri: args.modelUri, approval: a, previousVersion: args.previousVersion });
        const labels = labelsWith(approval.known);
        const selector = selectorLabels({ name: model.name, instance: serviceName, component: "model-server" });
        const annotations = annotationsWith(approval.known);
        const meta = (objectName: string) => ({ name: objectName, namespace: ns, labels });

        // --- Configuration: input schema and operating note ---------------------------------------
        const podAnnotations: Record<string, string> = {};
        const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: args.tmpSizeLimit ?? "2Gi" } }, ...rt.volumes];
        const mounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }, ...rt.mounts];
        const storage = ephemeralStorage("512Mi", [args.tmpSizeLimit ?? "2Gi", ...rt.scratchSizeLimits]);
        if (rt.configFiles) {
            const runtimeConfig = new k8s.core.v1.ConfigMap(
                `${name}-runtime-config`,
                { metadata: meta(runtimeConfigMapName(serviceName)), data: rt.configFiles },
                child,
            );
            volumes.push({ name: "runtime-config", configMap: { name: runtimeConfig.metadata.name, defaultMode: 0o444 } });
            mounts.push({ name: "runtime-config", mountPath: rt.configDir!, readOnly: true });
            podAnnotations[orgKey(p.labelDomain, ORG_ANNOTATIONS.runtimeConfigSha256)] = createHash("sha256")
                .update(JSON.stringify(rt.configFiles))
                .digest("hex");
        }
        if (args.inputSchema) {
            const schemaJson = JSON.stringify(args.inputSchema, null, 2);
            const schemaMap = new k8s.core.v1.ConfigMap(
                `${name}-input-schema`,
                { metadata: meta(`${serviceName}-input-schema`), data: { [INPUT_SCHEMA_FILE]: schemaJson } },
                child,
            );
            volumes.push({ name: "input-schema", configMap: { name: schemaMap.metadata.name, defaultMode: 0o444 } });
            mounts.push({ name: "input-schema", mountPath: INPUT_SCHEMA_DIR, readOnly: true });
            // A changed schema rolls the pods, which read it at start.
            podAnnotations[orgKey(p.labelDomain, ORG_ANNOTATIONS.inputSchemaSha256)] = createHash("sha256").update(schemaJson).digest("hex");
        }

        this.ruleGroups = serviceRuleGroups({ team: args.team, serviceName, modelName: model.name, slo, runbookBaseUrl: p.runbookBaseUrl });
        this.operatingNote = renderOperatingNote(
            modelServiceNote({
                ...workloadNoteInput(args, model, imageDescription(args.image, imageDefaults.repositoryName), approval.known),
                serviceName,
                replicas: args.replicas,
                targetCpuUtilization: auto.targetCpuUtilization,
                targetRequestsPerSecond: auto.targetRequestsPerSecond,
                port,
                metricsPort,
                inputSchema: args.inputSchema !== undefined,
                logging,
                slo,
                rules: this.ruleGroups.flatMap((g) => g.rules),
                runbookBaseUrl: p.runbookBaseUrl,
                runtime: { kind: rt.kind, description: runtimePreset(args.runtime).description, predictPath: rt.predictPath },
                track: args.track,
            }),
        );
        new k8s.core.v1.ConfigMap(
            `${name}-operating-note`,
            { metadata: { ...meta(`${serviceName}-operating-note`), annotations }, data: { "README.md": this.operatingNote } },
            child,
        );

        // --- The server ----------------------------------------------------------------------------
        const env_: k8s.types.input.core.v1.EnvVar[] = [
            ...modelEnv(args.modelUri, model, stage, args.team),
            { name: "MLOPS_SERVICE", value: serviceName },
            ...mlflowEnv(p.mlflowTrackingUri),
            ...(rt.platformContract
                ? [
                      { name: "PORT", value: String(port) },
                      { name: "METRICS_PORT", value: String(metricsPort) },
                      ...(args.inputSchema ? [{ name: "MODEL_INPUT_SCHEMA_PATH", value: `${INPUT_SCHEMA_DIR}/${INPUT_SCHEMA_FILE}` }] : []),
                      { name: "PREDICTION_LOG_ENABLED", value: String(logging.enabled) },
                      ...(logging.enabled
                          ? [
                                { name: "PREDICTION_LOG_SAMPLE_RATE", value: String(logging.sampleRate) },
                                { name: "PREDICTION_LOG_URI", value: pulumi.interpolate`s3://${p.artifactBucketName}/${logging.prefix}/` },
                            ]
                          : []),
                  ]
                : rt.env),
            { name: "HOME", value: "/tmp" },
            { name: "TMPDIR", value: "/tmp" },
            ...Object.entries(args.env ?? {}).map(([k, v]) => ({ name: k, value: v })),
        ];
        const probe = (path: string) => ({ httpGet: { path, port: SERVING_PORT_NAME, scheme: "HTTP" } });
        // The startup and readiness probes: GET the readiness path, or the runtime's own check.
        const readiness = rt.readinessCommand ? { exec: { command: rt.readinessCommand } } : probe(health.readinessPath);
        // Keep serving while the endpoint removal reaches every proxy, then stop; a runtime that SIGTERM does not
        // stop runs its own stop command after the same sleep (its words are arguments of sh, never shell text).
        const preStop = rt.stopCommand
            ? { exec: { command: drain > 0 ? ["/bin/sh", "-c", 'sleep "$1" && shift && exec "$@"', "sh", String(drain), ...rt.stopCommand] : rt.stopCommand } }
            : drain > 0
              ? { sleep: { seconds: drain } }
              : undefined;
        const hpa = args.replicas.min < args.replicas.max;
        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: {
                    ...meta(serviceName),
                    labels: stampedMetadata(approval, labelsWith),
                    annotations: stampedMetadata(approval, (a) => ({ ...annotationsWith(a), "kubernetes.io/change-cause": `${args.modelUri} (pulumi)` })),
                },
                spec: {
                    // With an HPA the replica count is the HPA's: the Deployment does not set it, so an update never resets a scale-out.
                    ...(hpa ? {} : { replicas: args.replicas.min }),
                    revisionHistoryLimit: 10,
                    minReadySeconds: 5,
                    progressDeadlineSeconds: Math.max(600, health.startupTimeoutSeconds * 2),
                    selector: { matchLabels: selector },
                    strategy: { type: "RollingUpdate", rollingUpdate: rollingUpdateFor(args.replicas.min) },
                    template: {
                        metadata: { labels: stampedMetadata(approval, labelsWith), annotations: podAnnotations },
                        spec: {
                            serviceAccountName: p.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT,
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            terminationGracePeriodSeconds: drain + SHUTDOWN_SECONDS,
                            securityContext: restrictedPodSecurityContext(uid),
                            topologySpreadConstraints: modelTopologySpread(selector, env === "prod"),
                            ...gpuPlacement(args.resources.gpu, p.gpuNodes),
                            ...(rt.initContainers.length > 0 ? { initContainers: runtimeInitContainers(rt, args.resources, storage) } : {}),
                            containers: [
                                {
                                    name: "model-server",
                                    image: image.ref,
                                    imagePullPolicy: "IfNotPresent",
                                    ...(rt.command ? { command: rt.command } : {}),
                                    ...(rt.args ? { args: rt.args } : {}),
                                    ports: [
                                        { name: SERVING_PORT_NAME, containerPort: port, protocol: "TCP" },
                                        { name: METRICS_PORT_NAME, containerPort: metricsPort, protocol: "TCP" },
                                    ],
                                    env: env_,
                                    resources: withGpu(containerResources(args.resources, storage), args.resources.gpu),
                                    startupProbe: {
                                        ...readiness,
                                        periodSeconds: 5,
                                        timeoutSeconds: 3,
                                        failureThreshold: startupFailureThreshold(health.startupTimeoutSeconds, 5),
                                    },
                                    readinessProbe: {
                                        ...readiness,
                                        periodSeconds: 10,
                                        timeoutSeconds: 3,
                                        failureThreshold: 3,
                                        successThreshold: 1,
                                    },
                                    livenessProbe: { ...probe(health.livenessPath), periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
                                    lifecycle: preStop ? { preStop } : undefined,
                                    securityContext: restrictedContainerSecurityContext(uid),
                                    volumeMounts: mounts,
                                },
                            ],
                            volumes,
                        },
                    },
                },
            },
            child,
        );

        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: meta(serviceName),
                spec: {
                    type: "ClusterIP",
                    selector,
                    ports: [
                        { name: SERVING_PORT_NAME, port: SERVICE_HTTP_PORT, targetPort: SERVING_PORT_NAME, protocol: "TCP" },
                        { name: METRICS_PORT_NAME, port: metricsPort, targetPort: METRICS_PORT_NAME, protocol: "TCP" },
                    ],
                },
            },
            child,
        );

        if (hpa) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(
                `${name}-hpa`,
                {
                    metadata: meta(serviceName),
                    spec: {
                        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
                        minReplicas: args.replicas.min,
                        maxReplicas: args.replicas.max,
                        metrics: hpaMetrics(auto.targetCpuUtilization, auto.targetRequestsPerSecond),
                        behavior: hpaBehavior(auto.scaleDownStabilizationSeconds),
                    },
                },
                child,
            );
        }

        new k8s.policy.v1.PodDisruptionBudget(
            `${name}-pdb`,
            {
                metadata: meta(serviceName),
                spec: {
                    ...disruptionBudgetFor(args.replicas.min),
                    selector: { matchLabels: selector },
                    // A crash-looping pod never blocks a node drain.
                    unhealthyPodEvictionPolicy: "AlwaysAllow",
                },
            },
            child,
        );

        new k8s.apiextensions.CustomResource(
            `${name}-service-monitor`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: meta(serviceName),
                spec: {
                    selector: { matchLabels: selector },
                    namespaceSelector: { matchNames: [ns] },
                    endpoints: [serviceMonitorEndpoint(rt, p.labelDomain, args.track !== undefined)],
                },
            },
            child,
        );

        new k8s.apiextensions.CustomResource(
            `${name}-alerts`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: meta(`${serviceName}-alerts`),
                spec: prometheusRuleSpec(this.ruleGroups),
            },
            child,
        );

        if (rt.recordingRules.length > 0) {
            new k8s.apiextensions.CustomResource(
                `${name}-metrics-adapter`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: meta(`${serviceName}-metrics-adapter`),
                    spec: adapterRuleSpec(serviceName, rt),
                },
                child,
            );
        }

        this.serviceName = serviceName;
        this.namespace = ns;
        this.url = `http://${serviceName}.${ns}.svc.cluster.local`;
        this.modelUri = args.modelUri;
        this.image = pulumi.output(image.ref);
        this.podLabels = labels;
        this.track = args.track;
        this.modelName = model.name;
        this.slo = slo;
        this.selector = selector;
        this.registerOutputs({
            serviceName: service.metadata.name,
            namespace: ns,
            url: this.url,
            modelUri: this.modelUri,
            image: this.image,
            operatingNote: this.operatingNote,
        });
    }
}
