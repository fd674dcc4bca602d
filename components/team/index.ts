/**
 * The platform's library for product teams: `import { ModelService, BatchInference, readPlatform } from "mlops-platform"`.
 *
 * A team's own Pulumi project reads the platform stack of its environment with {@link readPlatform},
 * then deploys online models with {@link ModelService} and scheduled scoring with {@link BatchInference}
 * into its serving namespace. examples/team-fraud is a complete team project; docs/team-guide.md walks
 * through it. What the platform stacks themselves use (MLflow, monitoring, namespaces) is not exported:
 * teams do not create those.
 */

// Reaching the platform from a team stack.
export {
    readPlatform,
    platformOutputProblems,
    type PlatformKubernetesOutput,
    type PlatformMonitoringOutput,
    type PlatformReferenceArgs,
    type PlatformTeamOutput,
    type TeamPlatform,
} from "./platformReference";
export { kubeconfigFor, type KubeconfigSettings } from "./kubeconfig";

// Online models.
export {
    ModelService,
    validateModelServiceArgs,
    modelServiceNote,
    serviceRuleGroups,
    disruptionBudgetFor,
    rollingUpdateFor,
    DEFAULT_QUALITY_SLO,
    SERVICE_ALERTS,
    type ModelServiceArgs,
    type ServiceSlo,
} from "./modelService";

// Scheduled scoring.
export {
    BatchInference,
    validateBatchInferenceArgs,
    batchInferenceNote,
    batchRuleGroups,
    batchTiming,
    type BatchInferenceArgs,
    type BatchTiming,
} from "./batchInference";

// Reproducible training runs and the team's DVC remote (docs/team-guide.md#training-runs).
export {
    TrainingJob,
    validateTrainingJobArgs,
    parametersJson,
    trainingRunHash,
    TRAINING_JOB_ENV,
    type TrainingJobArgs,
    type TrainingCode,
    type TrainingData,
    type TrainingParameter,
} from "./trainingJob";
export { type DvcRemoteSettings, dvcConfigFile, dvcRemoteUrl } from "../shared/dvcRemote";
export { DVC_REMOTE_NAME, dvcPrefix, TRAINING_ENV, TRAINING_TAGS, TRAINING_SERVICE_ACCOUNT, dataRefString } from "../contract";

// What both take.
export {
    DEFAULT_BATCH_SERVICE_ACCOUNT,
    DEFAULT_SERVICE_ACCOUNT,
    DEFAULT_TRAINING_SERVICE_ACCOUNT,
    DEFAULT_WORKLOAD_UID,
    type ImageBuild,
    type ImageSource,
    type PlatformRefs,
} from "./modelWorkload";
export { type ApprovalRecord, type ModelRef, modelVersionUri, parseModelUri, approvalProblems, MODEL_NAME_MAX } from "./modelUri";
export { type ModelApproval, approvalFor, approvalsFile } from "../contract";
export { parseCron, runGaps, stalenessWindowSeconds, partitionTemplate, isIanaTimeZone, formatDuration, CronError, type CronSchedule } from "./cron";
export { RPS_METRIC } from "../shared/metricsContract";
export { renderOperatingNote, type OperatingNote, type NoteSignal } from "./operatingNote";
export { ContainerImage, type ContainerImageArgs } from "./containerImage";
export { ALERTS, runbookPath, STALE_FACTOR, type AlertName, type RuleGroup } from "../shared/alertRules";
export { batchInputPrefix, batchOutputPrefix, modelPrefix, predictionLogPrefix, servingNamespaceName, WORKLOAD_SERVICE_ACCOUNT } from "../contract";
export { ENVIRONMENTS, type Environment } from "../contract";
export { type ResourceSettings } from "../shared/resources";

// Serving runtime presets of ModelService (docs/serving-runtimes.md).
export { RUNTIME_KINDS, RUNTIME_PRESETS, type RuntimeArgs, type RuntimeKind, type ArtifactRuntimeArgs } from "./runtimes";
export { ModelRoute, type ModelRouteArgs, validateModelRouteArgs } from "./modelRoute";
export { ROLLOUT_TRACKS, CANARY_WEIGHT, type RolloutTrack } from "../contract";
