/**
 * The alert registry: every alert the platform defines, defined once in {@link ALERTS} (severity,
 * runbook, `for`, the SLO parameter its threshold comes from, an expression builder taking the series
 * selector, and the sentences people read), and the rule groups built from it: team-wide
 * ({@link modelAlertGroups}, what the MonitoringStack deploys per team), per workload
 * ({@link workloadAlertGroups}, what ModelService and BatchInference deploy, narrowed to their own
 * series, and what ModelRoute deploys per candidate: the {@link ROLLOUT_ALERTS} comparing it with its
 * stable version) and the platform's own ({@link platformAlertGroups}). Expressions read the metrics contract
 * (metricsContract.ts); tests render the groups to rule files for `promtool check rules` and
 * `promtool test rules` (test/promtool/).
 *
 * Adding an alert is one entry in {@link ALERTS} and one runbook, docs/runbooks/<runbook>.md (headed
 * `# <AlertName>`, with `| Severity | <severity>` and the sections What it means, Check, Act, Afterwards):
 *
 * ```ts
 * ModelRequestsRejected: {
 *     group: "serving", severity: "warning", runbook: "model-requests-rejected", for: "10m",
 *     expr: (select) => `sum by (namespace, model) (rate(${select(METRICS.requests.name, 'status="429"')}[5m])) > 1`,
 *     summary: "{{ $labels.model }} rejects requests",
 *     description: () => "Model {{ $labels.model }} in {{ $labels.namespace }} has rejected more than one request per second for 10 minutes.",
 *     firesWhen: () => "more than one request per second is rejected",
 * },
 * ```
 *
 * An alert whose threshold is an SLO names it (`slo: "errorRatio"`) and gets its value as `expr`'s
 * second argument. The team-wide rules pick the new alert up at once; a ModelService or BatchInference
 * when it is added to SERVICE_ALERTS or BATCH_ALERTS (then docs/team-guide.md's alert table needs its
 * row). test/monitoringRules.test.ts fails until the runbook exists, a promtool unit test
 * (test/promtool/*.test.yaml) makes the alert fire, and `npm run alert:docs` has added it to
 * docs/metrics-contract.md.
 */
import { portableYaml } from "./yaml";
import { METRICS, seriesNames } from "./metricsContract";

export type Severity = "critical" | "warning";

/** One alerting rule, in the shape of the Prometheus rule file and the PrometheusRule CRD. */
export interface AlertingRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: Severity; team: string } & Record<string, string>;
    annotations: { summary: string; description: string; runbook_url: string } & Record<string, string>;
}

export interface RuleGroup {
    name: string;
    /** Evaluation interval; the Prometheus default (30s with kube-prometheus-stack) when absent. */
    interval?: string;
    rules: AlertingRule[];
}

/** Service-level thresholds of a team's models. */
export interface ModelSlo {
    /** p95 request latency above which the latency alert fires, in seconds. */
    readonly latencyP95Seconds: number;
    /** Share of requests answered with a 5xx status above which the error alert fires (0-1). */
    readonly errorRatio: number;
    /** Input validation failures per request above which the validation alert fires. */
    readonly inputValidationFailureRatio: number;
    /** Drift score (PSI) of any feature above which the drift alert fires. */
    readonly driftScore: number;
    /** Largest difference between the recent and the reference prediction distribution (0-1, a KS distance) that is tolerated. */
    readonly predictionShift: number;
}

/**
 * Which series an expression selects: `select(metric, matchers)` gives `metric{namespace="<ns>", ...}`
 * with the matchers that narrow it to what the rule watches (a team's namespace, one workload's series).
 */
export type Selector = (metric: string, matchers?: string) => string;

/** Matchers that narrow a selector to one workload: for series whose name starts with `prefix`, add `matcher`. */
export type RuleScope = readonly (readonly [prefix: string, matcher: string])[];

/** A batch job's own staleness window, from its schedule (replaces the interval the job pushes). */
export interface StaleWindow {
    /** Seconds without a successful run after which the job is stale. */
    readonly seconds: number;
    /** The schedule and time zone, the longest gap between runs and the window, as people read them. */
    readonly schedule: string;
    readonly timeZone: string;
    readonly maxGap: string;
    readonly window: string;
}

/** What an alert's sentences and expression may depend on besides its threshold. */
export interface AlertFacts {
    /** The namespace the rule watches. */
    readonly namespace: string;
    /** The workload a per-workload rule watches (a service or job name). */
    readonly workload?: string;
    /** BatchJobStale of one job: the window from its schedule. */
    readonly stale?: StaleWindow;
}

/** The group an alert is evaluated in: its name (per team, or the platform's) and interval. */
export type AlertGroupKind = "serving" | "rollout" | "quality" | "batch" | "platform";

/** One alert of the registry. */
export interface AlertDefinition {
    readonly group: AlertGroupKind;
    readonly severity: Severity;
    /** Slug of its runbook, docs/runbooks/<runbook>.md. */
    readonly runbook: string;
    /** How long the condition must hold before the alert fires. */
    readonly for: string;
    /** The SLO parameter its threshold is (absent: the expression has a fixed threshold). */
    readonly slo?: keyof ModelSlo;
    /** The PromQL, from the selector of the series it watches and the threshold (0 when it reads no SLO). */
    readonly expr: (select: Selector, threshold: number, facts: AlertFacts) => string;
    readonly summary: string;
    readonly description: (threshold: number, facts: AlertFacts) => string;
    /** When it fires, in a few words (operating notes: "<firesWhen>, for <for>"). */
    readonly firesWhen: (threshold: number, facts: AlertFacts) => string;
}

/** Windows of the prediction-distribution comparison: the last hour against the week before it. */
export const SHIFT_WINDOW = { current: "1h", reference: "7d", referenceOffset: "1h" } as const;
/** A batch job is stale when its last success is older than this many expected intervals. */
export const STALE_FACTOR = 1.5;

/**
 * How a candidate version (a route's canary or shadow, `track="canary"` or `"shadow"`) is compared with
 * the stable version of the same model (`track="stable"`): over `window`, each with at least
 * `minRequests` requests in it (fewer say nothing); its p99 latency against `latencyFactor` times the
 * stable's. Its error ratio is compared with the stable's plus the service's error-ratio SLO.
 */
export const CANDIDATE_COMPARISON = { window: "10m", minRequests: 100, latencyQuantile: 0.99, latencyFactor: 1.5 } as const;

/** `0.3` -> `300ms`, `1.5` -> `1.5s`: thresholds as people read them. */
export function formatSeconds(seconds: number): string {
    if (seconds < 1) return `${Number((seconds * 1000).toPrecision(6))}ms`;
    return `${Number(seconds.toPrecision(6))}s`;
}

/** `0.015` -> `1.5%`. */
export function formatPercent(ratio: number): string {
    return `${Number((ratio * 100).toPrecision(6))}%`;
}

/**
 * The share of each value of `by` in the last hour minus its share in the reference week, as an absolute
 * value, maximised over the values: a Kolmogorov-Smirnov distance when `by` is a histogram's `le`
 * (cumulative shares), the largest class-share change when `by` is `class`. A value seen in only one of
 * the windows counts as share 0 in the other (`or ... * 0`). Only models with traffic in both windows
 * are compared: a new model has no reference, an idle one no current distribution.
 */
function distributionShift(select: Selector, seriesName: string, countName: string, by: string, threshold: number): string {
    const total = (window: string) => `sum by (namespace, model) (rate(${select(countName)}${window}))`;
    const shares = (window: string) =>
        `(sum by (namespace, model, ${by}) (rate(${select(seriesName)}${window})) / on (namespace, model) group_left () ${total(window)})`;
    const now = `[${SHIFT_WINDOW.current}]`;
    const before = `[${SHIFT_WINDOW.reference}] offset ${SHIFT_WINDOW.referenceOffset}`;
    const current = shares(now);
    const reference = shares(before);
    return (
        `max by (namespace, model) (abs((${current} or ${reference} * 0) - (${reference} or ${current} * 0))) > ${threshold}` +
        ` and on (namespace, model) ${total(now)} > 0 and on (namespace, model) ${total(before)} > 0`
    );
}

const CANDIDATE = 'track=~"canary|shadow"';
const STABLE = 'track="stable"';
/** A candidate's series are told apart by version and track; the stable version's are summed per model. */
const CANDIDATE_BY = "namespace, model, version, track";
const STABLE_BY = "namespace, model";

/**
 * `compare` of the candidate's and the stable version's values, kept only where both had at least
 * {@link CANDIDATE_COMPARISON}.minRequests requests in the window.
 */
function candidateVsStable(select: Selector, compare: string): string {
    const { window, minRequests } = CANDIDATE_COMPARISON;
    const enough = (matcher: string, by: string) => `sum by (${by}) (increase(${select(REQUESTS, matcher)}[${window}])) >= ${minRequests}`;
    return `${compare} and on (${CANDIDATE_BY}) ${enough(CANDIDATE, CANDIDATE_BY)} and on (${STABLE_BY}) ${enough(STABLE, STABLE_BY)}`;
}

/** The share of 5xx answers of the series `matcher` selects, by `by` (0, not nothing, when none failed). */
function errorRatioOf(select: Selector, matcher: string, by: string): string {
    const w = CANDIDATE_COMPARISON.window;
    const all = `sum by (${by}) (rate(${select(REQUESTS, matcher)}[${w}]))`;
    return `((sum by (${by}) (rate(${select(REQUESTS, `${matcher}, status=~"5.."`)}[${w}])) or ${all} * 0) / ${all})`;
}

/** The latency quantile of the candidate comparison, by `by`. */
function latencyQuantileOf(select: Selector, matcher: string, by: string): string {
    return `histogram_quantile(${CANDIDATE_COMPARISON.latencyQuantile}, sum by (${by}, le) (rate(${select(DURATION_BUCKET, matcher)}[${CANDIDATE_COMPARISON.window}])))`;
}

const [DURATION_BUCKET] = seriesNames(METRICS.requestDuration);
const [VALUE_BUCKET, , VALUE_COUNT] = seriesNames(METRICS.predictionValue);
const REQUESTS = METRICS.requests.name;
const WHO = "model {{ $labels.model }} version {{ $labels.version }} in {{ $labels.namespace }}";
const CANDIDATE_WHO = "the {{ $labels.track }} version {{ $labels.version }} of model {{ $labels.model }} in {{ $labels.namespace }}";

/**
 * Every alert the platform defines, in the order of its group's rules. The team-wide rules, the rules
 * of each ModelService and BatchInference, the platform's rules, the operating notes and the runbook
 * tests all read this.
 */
export const ALERTS = {
    ModelLatencyP95High: {
        group: "serving",
        severity: "warning",
        runbook: "model-latency-p95-high",
        for: "10m",
        slo: "latencyP95Seconds",
        expr: (select, t) => `histogram_quantile(0.95, sum by (namespace, model, version, le) (rate(${select(DURATION_BUCKET)}[5m]))) > ${t}`,
        summary: "p95 latency of {{ $labels.model }} {{ $labels.version }} is above its SLO",
        description: (t) => `The p95 request latency of ${WHO} is {{ $value | humanizeDuration }}, above the SLO of ${formatSeconds(t)} for 10 minutes.`,
        firesWhen: (t) => `p95 latency is above ${formatSeconds(t)} over 5 minutes`,
    },
    ModelErrorRatioHigh: {
        group: "serving",
        severity: "critical",
        runbook: "model-error-ratio-high",
        for: "5m",
        slo: "errorRatio",
        expr: (select, t) =>
            `sum by (namespace, model, version) (rate(${select(REQUESTS, 'status=~"5.."')}[5m]))` +
            ` / sum by (namespace, model, version) (rate(${select(REQUESTS)}[5m])) > ${t}`,
        summary: "{{ $labels.model }} {{ $labels.version }} answers too many requests with errors",
        description: (t) =>
            `{{ $value | humanizePercentage }} of the requests to ${WHO} failed with a 5xx status over 5 minutes (SLO: at most ${formatPercent(t)}).`,
        firesWhen: (t) => `more than ${formatPercent(t)} of requests fail with 5xx over 5 minutes`,
    },
    ModelReplicasUnavailable: {
        group: "serving",
        severity: "warning",
        runbook: "model-replicas-unavailable",
        for: "15m",
        expr: (select) => `${select("kube_deployment_status_replicas_available")} < on (namespace, deployment) ${select("kube_deployment_spec_replicas")}`,
        summary: "Deployment {{ $labels.deployment }} runs fewer replicas than desired",
        description: () =>
            "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} has had only {{ $value }} available replicas, fewer than desired, for 15 minutes.",
        firesWhen: () => "fewer replicas are available than desired",
    },
    ModelServiceDown: {
        group: "serving",
        severity: "critical",
        runbook: "model-service-down",
        for: "5m",
        expr: (select) =>
            `${select("kube_deployment_status_replicas_available")} == 0 and on (namespace, deployment) ${select("kube_deployment_spec_replicas")} > 0`,
        summary: "Deployment {{ $labels.deployment }} has no available replica",
        description: () =>
            "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} has had no available replica for 5 minutes: its model is not being served.",
        firesWhen: () => "no replica is available",
    },
    ModelPodCrashLooping: {
        group: "serving",
        severity: "warning",
        runbook: "model-pod-crash-looping",
        for: "10m",
        expr: (select) =>
            `max by (namespace, pod, container) (${select("kube_pod_container_status_waiting_reason", 'reason="CrashLoopBackOff"')}) == 1` +
            ` or max by (namespace, pod, container) (increase(${select("kube_pod_container_status_restarts_total")}[30m])) >= 3`,
        summary: "Container {{ $labels.container }} of {{ $labels.pod }} keeps restarting",
        description: () =>
            "Container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} is in CrashLoopBackOff or restarted at least 3 times in 30 minutes, for 10 minutes.",
        firesWhen: () => "a container is in CrashLoopBackOff or restarted 3 times in 30 minutes",
    },
    ModelInputValidationFailuresHigh: {
        group: "serving",
        severity: "warning",
        runbook: "model-input-validation-failures-high",
        for: "15m",
        slo: "inputValidationFailureRatio",
        expr: (select, t) =>
            `sum by (namespace, model) (rate(${select(METRICS.inputValidationFailures.name)}[10m]))` +
            ` / sum by (namespace, model) (rate(${select(REQUESTS)}[10m])) > ${t}`,
        summary: "Many requests to {{ $labels.model }} fail input validation",
        description: (t) =>
            `Requests to model {{ $labels.model }} in {{ $labels.namespace }} fail input validation {{ printf "%.2f" $value }} times per request (threshold ${t}) for 15 minutes: a client or an upstream pipeline changed its data.`,
        firesWhen: (t) => `input validation failures exceed ${t} per request over 10 minutes`,
    },
    ModelArtifactStoreErrors: {
        group: "serving",
        severity: "warning",
        runbook: "model-artifact-store-errors",
        for: "10m",
        expr: (select) => `sum by (namespace, model, operation) (rate(${select(METRICS.artifactStoreErrors.name)}[10m])) > 0`,
        summary: "{{ $labels.model }} cannot {{ $labels.operation }} in the artifact store",
        description: () =>
            `Model {{ $labels.model }} in {{ $labels.namespace }} has been failing to {{ $labels.operation }} in the artifact store (S3) for 10 minutes, {{ printf "%.2f" $value }} errors per second.`,
        firesWhen: () => "loading the model or writing prediction logs to S3 fails",
    },
    ModelCandidateErrorRatioAboveStable: {
        group: "rollout",
        severity: "warning",
        runbook: "model-candidate-error-ratio-above-stable",
        for: "10m",
        slo: "errorRatio",
        expr: (select, t) =>
            candidateVsStable(
                select,
                `${errorRatioOf(select, CANDIDATE, CANDIDATE_BY)} - on (${STABLE_BY}) group_left () ${errorRatioOf(select, STABLE, STABLE_BY)} > ${t}`,
            ),
        summary: "The {{ $labels.track }} of {{ $labels.model }} fails more requests than the stable version",
        description: (t) =>
            `The 5xx ratio of ${CANDIDATE_WHO} is {{ $value | humanizePercentage }} above the stable version's over the last ${CANDIDATE_COMPARISON.window} ` +
            `(tolerated: ${formatPercent(t)}, the error-ratio SLO; each had at least ${CANDIDATE_COMPARISON.minRequests} requests). Roll the candidate back: remove it from its ModelRoute.`,
        firesWhen: (t) =>
            `the canary's or shadow's 5xx ratio is more than ${formatPercent(t)} above the stable version's over ${CANDIDATE_COMPARISON.window} (at least ${CANDIDATE_COMPARISON.minRequests} requests each)`,
    },
    ModelCandidateLatencyAboveStable: {
        group: "rollout",
        severity: "warning",
        runbook: "model-candidate-latency-above-stable",
        for: "10m",
        expr: (select) =>
            candidateVsStable(
                select,
                `${latencyQuantileOf(select, CANDIDATE, CANDIDATE_BY)} > on (${STABLE_BY}) group_left () ${CANDIDATE_COMPARISON.latencyFactor} * ${latencyQuantileOf(select, STABLE, STABLE_BY)}`,
            ),
        summary: "The {{ $labels.track }} of {{ $labels.model }} is slower than the stable version",
        description: () =>
            `The p${CANDIDATE_COMPARISON.latencyQuantile * 100} latency of ${CANDIDATE_WHO} over the last ${CANDIDATE_COMPARISON.window} is {{ $value | humanizeDuration }}, ` +
            `more than ${CANDIDATE_COMPARISON.latencyFactor} times the stable version's (each had at least ${CANDIDATE_COMPARISON.minRequests} requests). Roll the candidate back: remove it from its ModelRoute.`,
        firesWhen: () =>
            `the canary's or shadow's p${CANDIDATE_COMPARISON.latencyQuantile * 100} latency is more than ${CANDIDATE_COMPARISON.latencyFactor} times the stable version's over ${CANDIDATE_COMPARISON.window} (at least ${CANDIDATE_COMPARISON.minRequests} requests each)`,
    },
    ModelPredictionClassShift: {
        group: "quality",
        severity: "warning",
        runbook: "model-prediction-class-shift",
        for: "30m",
        slo: "predictionShift",
        expr: (select, t) => distributionShift(select, METRICS.predictionClass.name, METRICS.predictionClass.name, "class", t),
        summary: "Predicted classes of {{ $labels.model }} shifted from the reference week",
        description: (t) =>
            `The share of a predicted class of model {{ $labels.model }} in {{ $labels.namespace }} over the last ${SHIFT_WINDOW.current} differs by {{ $value | humanizePercentage }} from the ${SHIFT_WINDOW.reference} before (threshold ${formatPercent(t)}).`,
        firesWhen: (t) => `a predicted class's share moved more than ${formatPercent(t)} from the week before`,
    },
    ModelPredictionValueShift: {
        group: "quality",
        severity: "warning",
        runbook: "model-prediction-value-shift",
        for: "30m",
        slo: "predictionShift",
        expr: (select, t) => distributionShift(select, VALUE_BUCKET, VALUE_COUNT, "le", t),
        summary: "Predicted values of {{ $labels.model }} shifted from the reference week",
        description: (t) =>
            `The distribution of predicted values of model {{ $labels.model }} in {{ $labels.namespace }} over the last ${SHIFT_WINDOW.current} is {{ $value | humanizePercentage }} away (KS distance) from the ${SHIFT_WINDOW.reference} before (threshold ${formatPercent(t)}).`,
        firesWhen: (t) => `the predicted-value distribution moved more than ${formatPercent(t)} (KS) from the week before`,
    },
    ModelFeatureDriftHigh: {
        group: "quality",
        severity: "warning",
        runbook: "model-feature-drift-high",
        for: "5m",
        slo: "driftScore",
        expr: (select, t) => `max by (namespace, model, version, feature) (${select(METRICS.featureDriftScore.name)}) > ${t}`,
        summary: "Feature {{ $labels.feature }} of {{ $labels.model }} drifted from its training data",
        description: (t) =>
            `The drift check scored feature {{ $labels.feature }} of ${WHO} at {{ printf "%.2f" $value }}, above ${t}: recent requests no longer look like the training reference.`,
        firesWhen: (t) => `the drift check scores a feature above ${t} (PSI)`,
    },
    BatchJobFailed: {
        group: "batch",
        severity: "warning",
        runbook: "batch-job-failed",
        for: "0m",
        expr: (select) => `max by (namespace, job_name) (${select("kube_job_failed")}) > 0`,
        summary: "Job {{ $labels.job_name }} failed",
        description: () => "Job {{ $labels.job_name }} in {{ $labels.namespace }} failed: its pods exhausted their retries or its deadline passed.",
        firesWhen: (_t, f) => `a run of ${f.workload ?? "a job"} failed (retries exhausted or deadline passed)`,
    },
    BatchJobStale: {
        group: "batch",
        severity: "warning",
        runbook: "batch-job-stale",
        for: "10m",
        // A job's own rule takes the window from its schedule, not from what it pushes: it holds even if the job pushes a wrong interval.
        expr: (select, _t, f) =>
            f.stale
                ? `time() - max by (namespace, job) (${select(METRICS.batchLastSuccess.name)}) > ${f.stale.seconds}`
                : `(time() - max by (namespace, job) (${select(METRICS.batchLastSuccess.name)}))` +
                  ` > on (namespace, job) (${STALE_FACTOR} * max by (namespace, job) (${select(METRICS.batchExpectedInterval.name)}))`,
        summary: "Batch job {{ $labels.job }} has not succeeded within its interval",
        description: (_t, f) =>
            f.stale
                ? `Batch job {{ $labels.job }} in {{ $labels.namespace }} last succeeded {{ $value | humanizeDuration }} ago. Its schedule "${f.stale.schedule}" (${f.stale.timeZone}) ` +
                  `leaves at most ${f.stale.maxGap} between runs, so it is stale after ${f.stale.window} (${STALE_FACTOR} times that).`
                : `Batch job {{ $labels.job }} in {{ $labels.namespace }} last succeeded {{ $value | humanizeDuration }} ago, more than ${STALE_FACTOR} times its expected interval.`,
        firesWhen: (_t, f) => `no successful run for ${f.stale ? f.stale.window : `${STALE_FACTOR} times its expected interval`}`,
    },
    MLflowDown: {
        group: "platform",
        severity: "critical",
        runbook: "mlflow-down",
        for: "5m",
        // No successful scrape, or no target at all (the ServiceMonitor selects nothing).
        expr: (select) => `sum by (namespace, service) (${select("up")}) == 0 or absent(${select("up")})`,
        summary: "MLflow tracking server is down",
        description: (_t, f) =>
            `No MLflow tracking server in ${f.namespace} has answered Prometheus for 5 minutes: training runs cannot log and deployments cannot resolve models.`,
        firesWhen: () => "no MLflow server answers Prometheus",
    },
} as const satisfies Record<string, AlertDefinition>;

export type AlertName = keyof typeof ALERTS;

/** Every alert name, in registry order. */
export const ALERT_NAMES = Object.keys(ALERTS) as AlertName[];

/** Path of an alert's runbook inside the repository. */
export function runbookPath(alert: AlertName): string {
    return `docs/runbooks/${ALERTS[alert].runbook}.md`;
}

/** The name and interval of a group of a team (and, per workload, of that workload). */
function groupOf(kind: AlertGroupKind, team: string, instance?: string): Omit<RuleGroup, "rules"> {
    if (kind === "platform") return { name: "mlops-platform" };
    const base = {
        serving: `mlops-model-serving-${team}`,
        rollout: `mlops-model-rollout-${team}`,
        quality: `mlops-model-quality-${team}`,
        batch: `mlops-batch-${team}`,
    }[kind];
    return {
        name: instance ? `${base}-${instance}` : base,
        // The distribution comparison reads a week of samples: evaluate it less often.
        ...(kind === "quality" ? { interval: "5m" } : {}),
    };
}

/**
 * A selector of the series of `namespace`, narrowed by `scope` when given.
 * @throws Error when a scope is given and a metric has none (the rule would watch the whole namespace).
 */
export function namespaceSelector(namespace: string, scope?: RuleScope): Selector {
    return (metric, matchers) => {
        const narrow = scope?.find(([prefix]) => metric.startsWith(prefix));
        if (scope && !narrow) throw new Error(`no scope for metric ${metric}: the rule would watch all of namespace ${namespace}`);
        return `${metric}{${[`namespace="${namespace}"`, narrow?.[1], matchers].filter((m) => m).join(", ")}}`;
    };
}

/** What {@link alertingRule} needs besides the alert. */
export interface RuleInput {
    /** The `team` label (what Alertmanager routes on). */
    readonly team: string;
    readonly runbookBaseUrl: string;
    readonly select: Selector;
    /** The SLO values of the alerts that read one. */
    readonly slo?: Partial<ModelSlo>;
    readonly facts: AlertFacts;
}

/**
 * The alerting rule of one alert of the registry.
 * @throws Error when the alert reads an SLO parameter `slo` does not give.
 */
export function alertingRule(name: AlertName, i: RuleInput): AlertingRule {
    const def: AlertDefinition = ALERTS[name];
    let threshold = 0;
    if (def.slo) {
        const value = i.slo?.[def.slo];
        if (value === undefined) throw new Error(`${name} reads slo.${def.slo}, which is not given`);
        threshold = value;
    }
    return {
        alert: name,
        expr: def.expr(i.select, threshold, i.facts),
        for: def.for,
        labels: { severity: def.severity, team: i.team },
        annotations: {
            summary: def.summary,
            description: def.description(threshold, i.facts),
            runbook_url: `${i.runbookBaseUrl.replace(/\/+$/, "")}/${def.runbook}.md`,
        },
    };
}

/** The rules of `alerts` in their groups (registry order, empty groups left out). */
function groupRules(
    alerts: readonly AlertName[],
    group: (kind: AlertGroupKind) => Omit<RuleGroup, "rules">,
    rule: (name: AlertName) => AlertingRule,
): RuleGroup[] {
    const kinds: AlertGroupKind[] = ["serving", "rollout", "quality", "batch", "platform"];
    return kinds
        .map((kind) => ({ ...group(kind), rules: ALERT_NAMES.filter((a) => ALERTS[a].group === kind && alerts.includes(a)).map(rule) }))
        .filter((g) => g.rules.length > 0);
}

/** The SLO parameters `alerts` read. */
export function sloParameters(alerts: readonly AlertName[]): (keyof ModelSlo)[] {
    return [
        ...new Set(
            alerts.flatMap((a): (keyof ModelSlo)[] => {
                const slo: keyof ModelSlo | undefined = (ALERTS[a] as AlertDefinition).slo;
                return slo ? [slo] : [];
            }),
        ),
    ];
}

/** Arguments of {@link modelAlertGroups}. */
export interface ModelAlertArgs {
    /** Team name: the `team` label of every alert, which Alertmanager routes on. */
    readonly team: string;
    /** The team's serving namespace: every expression selects it. */
    readonly namespace: string;
    readonly slo: ModelSlo;
    /** Base URL of docs/runbooks (e.g. https://github.com/acme/mlops-platform/blob/main/docs/runbooks). */
    readonly runbookBaseUrl: string;
}

/** The alerts of a team's namespace: every serving, quality and batch alert. */
export const TEAM_ALERTS: readonly AlertName[] = ALERT_NAMES.filter((a) => ALERTS[a].group !== "platform");

/** The alerts comparing a route's candidate (canary or shadow) with its stable version (ModelRoute deploys them per candidate). */
export const ROLLOUT_ALERTS: readonly AlertName[] = ALERT_NAMES.filter((a) => ALERTS[a].group === "rollout");

/** Alert rules for one team's model servers and batch jobs, over its whole namespace. */
export function modelAlertGroups(args: ModelAlertArgs): RuleGroup[] {
    validateModelAlertArgs(args);
    const { team, runbookBaseUrl, slo, namespace } = args;
    const select = namespaceSelector(namespace);
    return groupRules(
        TEAM_ALERTS,
        (kind) => groupOf(kind, team),
        (name) => alertingRule(name, { team, runbookBaseUrl, select, slo, facts: { namespace } }),
    );
}

/** Arguments of {@link workloadAlertGroups}. */
export interface WorkloadAlertArgs {
    readonly team: string;
    readonly namespace: string;
    /** The workload's name: its groups are `<team group>-<instance>`, unique beside the team-wide ones. */
    readonly instance: string;
    /** The alerts it gets. */
    readonly alerts: readonly AlertName[];
    /** How its series are told apart from the rest of the namespace. */
    readonly scope: RuleScope;
    /** Values of the SLO parameters its alerts read ({@link sloParameters}). */
    readonly slo?: Partial<ModelSlo>;
    readonly stale?: StaleWindow;
    readonly runbookBaseUrl: string;
}

/**
 * Alert rules of one workload: the registry's alerts over its own series only. Alert names and labels
 * are those of the team-wide rules, so when both fire for the same series Alertmanager sees one alert.
 */
export function workloadAlertGroups(a: WorkloadAlertArgs): RuleGroup[] {
    const select = namespaceSelector(a.namespace, a.scope);
    const facts: AlertFacts = { namespace: a.namespace, workload: a.instance, stale: a.stale };
    return groupRules(
        a.alerts,
        (kind) => groupOf(kind, a.team, a.instance),
        (name) => alertingRule(name, { team: a.team, runbookBaseUrl: a.runbookBaseUrl, select, slo: a.slo, facts }),
    );
}

/** Arguments of {@link platformAlertGroups}. */
export interface PlatformAlertArgs {
    /** Team that owns the platform: the `team` label, routed to the default receiver. */
    readonly owner: string;
    /** Namespace of the MLflow tracking server. */
    readonly mlflowNamespace: string;
    /** Name of the MLflow Service (the `service` target label of its scrapes). */
    readonly mlflowService: string;
    readonly runbookBaseUrl: string;
}

/** Alert rules for the platform's own services. */
export function platformAlertGroups(args: PlatformAlertArgs): RuleGroup[] {
    const select = namespaceSelector(args.mlflowNamespace, [["up", `service="${args.mlflowService}"`]]);
    const alerts = ALERT_NAMES.filter((a) => ALERTS[a].group === "platform");
    return groupRules(
        alerts,
        (kind) => groupOf(kind, args.owner),
        (name) => alertingRule(name, { team: args.owner, runbookBaseUrl: args.runbookBaseUrl, select, facts: { namespace: args.mlflowNamespace } }),
    );
}

/** When each of `alerts` fires, for an operating note: "<what>, for <for>" ("at once" when `for` is 0m). */
export function alertSignals(alerts: readonly AlertName[], slo: Partial<ModelSlo>, facts: AlertFacts): { alert: AlertName; firesWhen: string }[] {
    return alerts.map((alert) => {
        const def: AlertDefinition = ALERTS[alert];
        const threshold = def.slo ? (slo[def.slo] ?? 0) : 0;
        return { alert, firesWhen: `${def.firesWhen(threshold, facts)}, ${/^0[smh]$/.test(def.for) ? "at once" : `for ${def.for}`}` };
    });
}

/** Checks the arguments of the model rules, with errors that say what is allowed. */
export function validateModelAlertArgs(args: ModelAlertArgs): void {
    const problems: string[] = [];
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.team)) problems.push(`team "${args.team}" must be a lower-case name of letters, digits and -`);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace)) problems.push(`namespace "${args.namespace}" must be a Kubernetes namespace name`);
    const { slo } = args;
    const inRange = (key: keyof ModelSlo, lo: number, hi: number) => {
        const v = slo[key];
        if (!Number.isFinite(v) || v <= lo || v > hi) problems.push(`slo.${key} must be a number above ${lo} and at most ${hi}, got ${v}`);
    };
    inRange("latencyP95Seconds", 0, 60);
    inRange("errorRatio", 0, 1);
    inRange("inputValidationFailureRatio", 0, 100);
    inRange("driftScore", 0, 100);
    inRange("predictionShift", 0, 1);
    if (!/^https?:\/\/\S+$/.test(args.runbookBaseUrl)) problems.push(`runbookBaseUrl "${args.runbookBaseUrl}" must be an http(s) URL`);
    if (problems.length > 0) throw new Error(`modelAlertGroups: ${problems.join("; ")}.`);
}

/** A rule file as Prometheus and promtool read it (go-yaml: strings a YAML 1.1 reader would not take as strings are quoted). */
export function ruleFileYaml(groups: readonly RuleGroup[]): string {
    return portableYaml({ groups });
}

/** Every alerting rule of a list of groups. */
export function alertingRules(groups: readonly RuleGroup[]): AlertingRule[] {
    return groups.flatMap((g) => g.rules);
}
