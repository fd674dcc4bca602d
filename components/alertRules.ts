/**
 * Alert rules as pure functions, generated from the metrics contract (metricsContract.ts). The
 * MonitoringStack turns the groups into PrometheusRule objects; tests render them to rule files for
 * `promtool check rules` and `promtool test rules` (test/promtool/).
 *
 * Model rules are built per team and select the team's serving namespace (`namespace="<ns>"`): the
 * namespace is set by Prometheus from service discovery (scraped metrics) or by the push grouping key
 * (pushed metrics), so a server cannot claim another team's alerts by writing a different `team` label.
 * Every rule carries `severity` and `team` (Alertmanager routes on `team`) and the annotations `summary`,
 * `description` and `runbook_url`, which points at docs/runbooks/<slug>.md.
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

/** The alerts the platform defines, with their runbook (docs/runbooks/<slug>.md) and severity. */
export const ALERTS = {
    ModelLatencyP95High: { runbook: "model-latency-p95-high", severity: "warning" },
    ModelErrorRatioHigh: { runbook: "model-error-ratio-high", severity: "critical" },
    ModelReplicasUnavailable: { runbook: "model-replicas-unavailable", severity: "warning" },
    ModelServiceDown: { runbook: "model-service-down", severity: "critical" },
    ModelPodCrashLooping: { runbook: "model-pod-crash-looping", severity: "warning" },
    ModelInputValidationFailuresHigh: { runbook: "model-input-validation-failures-high", severity: "warning" },
    ModelPredictionClassShift: { runbook: "model-prediction-class-shift", severity: "warning" },
    ModelPredictionValueShift: { runbook: "model-prediction-value-shift", severity: "warning" },
    ModelFeatureDriftHigh: { runbook: "model-feature-drift-high", severity: "warning" },
    ModelArtifactStoreErrors: { runbook: "model-artifact-store-errors", severity: "warning" },
    BatchJobFailed: { runbook: "batch-job-failed", severity: "warning" },
    BatchJobStale: { runbook: "batch-job-stale", severity: "warning" },
    MLflowDown: { runbook: "mlflow-down", severity: "critical" },
} as const satisfies Record<string, { runbook: string; severity: Severity }>;

export type AlertName = keyof typeof ALERTS;

/** Path of an alert's runbook inside the repository. */
export function runbookPath(alert: AlertName): string {
    return `docs/runbooks/${ALERTS[alert].runbook}.md`;
}

/** Windows of the prediction-distribution comparison: the last hour against the week before it. */
export const SHIFT_WINDOW = { current: "1h", reference: "7d", referenceOffset: "1h" } as const;
/** A batch job is stale when its last success is older than this many expected intervals. */
export const STALE_FACTOR = 1.5;

/** `0.3` -> `300ms`, `1.5` -> `1.5s`: thresholds as people read them. */
export function formatSeconds(seconds: number): string {
    if (seconds < 1) return `${Number((seconds * 1000).toPrecision(6))}ms`;
    return `${Number(seconds.toPrecision(6))}s`;
}

/** `0.015` -> `1.5%`. */
export function formatPercent(ratio: number): string {
    return `${Number((ratio * 100).toPrecision(6))}%`;
}

function sel(name: string, matchers: string): string {
    return `${name}{${matchers}}`;
}

function alert(name: AlertName, team: string, runbookBaseUrl: string, rule: Omit<AlertingRule, "alert" | "labels" | "annotations"> & {
    summary: string;
    description: string;
}): AlertingRule {
    return {
        alert: name,
        expr: rule.expr,
        for: rule.for,
        labels: { severity: ALERTS[name].severity, team },
        annotations: {
            summary: rule.summary,
            description: rule.description,
            runbook_url: `${runbookBaseUrl.replace(/\/+$/, "")}/${ALERTS[name].runbook}.md`,
        },
    };
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

/**
 * The share of each value of `by` in the last hour minus its share in the reference week, as an absolute
 * value, maximised over the values: a Kolmogorov-Smirnov distance when `by` is a histogram's `le`
 * (cumulative shares), the largest class-share change when `by` is `class`. A value seen in only one of
 * the windows counts as share 0 in the other (`or ... * 0`). Only models with traffic in both windows
 * are compared: a new model has no reference, an idle one no current distribution.
 */
function distributionShift(seriesName: string, countName: string, by: string, ns: string, threshold: number): string {
    const total = (window: string) => `sum by (namespace, model) (rate(${sel(countName, ns)}${window}))`;
    const shares = (window: string) => `(sum by (namespace, model, ${by}) (rate(${sel(seriesName, ns)}${window})) / on (namespace, model) group_left () ${total(window)})`;
    const now = `[${SHIFT_WINDOW.current}]`;
    const before = `[${SHIFT_WINDOW.reference}] offset ${SHIFT_WINDOW.referenceOffset}`;
    const current = shares(now);
    const reference = shares(before);
    return (
        `max by (namespace, model) (abs((${current} or ${reference} * 0) - (${reference} or ${current} * 0))) > ${threshold}` +
        ` and on (namespace, model) ${total(now)} > 0 and on (namespace, model) ${total(before)} > 0`
    );
}

/** Alert rules for one team's model servers and batch jobs. */
export function modelAlertGroups(args: ModelAlertArgs): RuleGroup[] {
    validateModelAlertArgs(args);
    const { team, runbookBaseUrl, slo } = args;
    const ns = `namespace="${args.namespace}"`;
    const a = (name: AlertName, rule: Parameters<typeof alert>[3]) => alert(name, team, runbookBaseUrl, rule);
    const [durationBucket] = seriesNames(METRICS.requestDuration);
    const [valueBucket, , valueCount] = seriesNames(METRICS.predictionValue);
    const requests = METRICS.requests.name;
    const who = "model {{ $labels.model }} version {{ $labels.version }} in {{ $labels.namespace }}";

    const serving: AlertingRule[] = [
        a("ModelLatencyP95High", {
            expr: `histogram_quantile(0.95, sum by (namespace, model, version, le) (rate(${sel(durationBucket, ns)}[5m]))) > ${slo.latencyP95Seconds}`,
            for: "10m",
            summary: "p95 latency of {{ $labels.model }} {{ $labels.version }} is above its SLO",
            description: `The p95 request latency of ${who} is {{ $value | humanizeDuration }}, above the SLO of ${formatSeconds(slo.latencyP95Seconds)} for 10 minutes.`,
        }),
        a("ModelErrorRatioHigh", {
            expr:
                `sum by (namespace, model, version) (rate(${sel(requests, `${ns}, status=~"5.."`)}[5m]))` +
                ` / sum by (namespace, model, version) (rate(${sel(requests, ns)}[5m])) > ${slo.errorRatio}`,
            for: "5m",
            summary: "{{ $labels.model }} {{ $labels.version }} answers too many requests with errors",
            description: `{{ $value | humanizePercentage }} of the requests to ${who} failed with a 5xx status over 5 minutes (SLO: at most ${formatPercent(slo.errorRatio)}).`,
        }),
        a("ModelReplicasUnavailable", {
            expr: `${sel("kube_deployment_status_replicas_available", ns)} < on (namespace, deployment) ${sel("kube_deployment_spec_replicas", ns)}`,
            for: "15m",
            summary: "Deployment {{ $labels.deployment }} runs fewer replicas than desired",
            description: "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} has had only {{ $value }} available replicas, fewer than desired, for 15 minutes.",
        }),
        a("ModelServiceDown", {
            expr:
                `${sel("kube_deployment_status_replicas_available", ns)} == 0` +
                ` and on (namespace, deployment) ${sel("kube_deployment_spec_replicas", ns)} > 0`,
            for: "5m",
            summary: "Deployment {{ $labels.deployment }} has no available replica",
            description: "Deployment {{ $labels.deployment }} in {{ $labels.namespace }} has had no available replica for 5 minutes: its model is not being served.",
        }),
        a("ModelPodCrashLooping", {
            expr:
                `max by (namespace, pod, container) (${sel("kube_pod_container_status_waiting_reason", `${ns}, reason="CrashLoopBackOff"`)}) == 1` +
                ` or max by (namespace, pod, container) (increase(${sel("kube_pod_container_status_restarts_total", ns)}[30m])) >= 3`,
            for: "10m",
            summary: "Container {{ $labels.container }} of {{ $labels.pod }} keeps restarting",
            description: "Container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} is in CrashLoopBackOff or restarted at least 3 times in 30 minutes, for 10 minutes.",
        }),
        a("ModelInputValidationFailuresHigh", {
            expr:
                `sum by (namespace, model) (rate(${sel(METRICS.inputValidationFailures.name, ns)}[10m]))` +
                ` / sum by (namespace, model) (rate(${sel(requests, ns)}[10m])) > ${slo.inputValidationFailureRatio}`,
            for: "15m",
            summary: "Many requests to {{ $labels.model }} fail input validation",
            description: `Requests to model {{ $labels.model }} in {{ $labels.namespace }} fail input validation {{ printf "%.2f" $value }} times per request (threshold ${slo.inputValidationFailureRatio}) for 15 minutes: a client or an upstream pipeline changed its data.`,
        }),
        a("ModelArtifactStoreErrors", {
            expr: `sum by (namespace, model, operation) (rate(${sel(METRICS.artifactStoreErrors.name, ns)}[10m])) > 0`,
            for: "10m",
            summary: "{{ $labels.model }} cannot {{ $labels.operation }} in the artifact store",
            description: `Model {{ $labels.model }} in {{ $labels.namespace }} has been failing to {{ $labels.operation }} in the artifact store (S3) for 10 minutes, {{ printf "%.2f" $value }} errors per second.`,
        }),
    ];

    const quality: AlertingRule[] = [
        a("ModelPredictionClassShift", {
            expr: distributionShift(METRICS.predictionClass.name, METRICS.predictionClass.name, "class", ns, slo.predictionShift),
            for: "30m",
            summary: "Predicted classes of {{ $labels.model }} shifted from the reference week",
            description: `The share of a predicted class of model {{ $labels.model }} in {{ $labels.namespace }} over the last ${SHIFT_WINDOW.current} differs by {{ $value | humanizePercentage }} from the ${SHIFT_WINDOW.reference} before (threshold ${formatPercent(slo.predictionShift)}).`,
        }),
        a("ModelPredictionValueShift", {
            expr: distributionShift(valueBucket, valueCount, "le", ns, slo.predictionShift),
            for: "30m",
            summary: "Predicted values of {{ $labels.model }} shifted from the reference week",
            description: `The distribution of predicted values of model {{ $labels.model }} in {{ $labels.namespace }} over the last ${SHIFT_WINDOW.current} is {{ $value | humanizePercentage }} away (KS distance) from the ${SHIFT_WINDOW.reference} before (threshold ${formatPercent(slo.predictionShift)}).`,
        }),
        a("ModelFeatureDriftHigh", {
            expr: `max by (namespace, model, version, feature) (${sel(METRICS.featureDriftScore.name, ns)}) > ${slo.driftScore}`,
            for: "5m",
            summary: "Feature {{ $labels.feature }} of {{ $labels.model }} drifted from its training data",
            description: `The drift check scored feature {{ $labels.feature }} of ${who} at {{ printf "%.2f" $value }}, above ${slo.driftScore}: recent requests no longer look like the training reference.`,
        }),
    ];

    const batch: AlertingRule[] = [
        a("BatchJobFailed", {
            expr: `max by (namespace, job_name) (${sel("kube_job_failed", ns)}) > 0`,
            for: "0m",
            summary: "Job {{ $labels.job_name }} failed",
            description: "Job {{ $labels.job_name }} in {{ $labels.namespace }} failed: its pods exhausted their retries or its deadline passed.",
        }),
        a("BatchJobStale", {
            expr:
                `(time() - max by (namespace, job) (${sel(METRICS.batchLastSuccess.name, ns)}))` +
                ` > on (namespace, job) (${STALE_FACTOR} * max by (namespace, job) (${sel(METRICS.batchExpectedInterval.name, ns)}))`,
            for: "10m",
            summary: "Batch job {{ $labels.job }} has not succeeded within its interval",
            description: `Batch job {{ $labels.job }} in {{ $labels.namespace }} last succeeded {{ $value | humanizeDuration }} ago, more than ${STALE_FACTOR} times its expected interval.`,
        }),
    ];

    return [
        { name: `mlops-model-serving-${team}`, rules: serving },
        // The distribution comparison reads a week of samples: evaluate it less often.
        { name: `mlops-model-quality-${team}`, interval: "5m", rules: quality },
        { name: `mlops-batch-${team}`, rules: batch },
    ];
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
    const target = `namespace="${args.mlflowNamespace}", service="${args.mlflowService}"`;
    return [
        {
            name: "mlops-platform",
            rules: [
                alert("MLflowDown", args.owner, args.runbookBaseUrl, {
                    // No successful scrape, or no target at all (the ServiceMonitor selects nothing).
                    expr: `sum by (namespace, service) (up{${target}}) == 0 or absent(up{${target}})`,
                    for: "5m",
                    summary: "MLflow tracking server is down",
                    description: `No MLflow tracking server in ${args.mlflowNamespace} has answered Prometheus for 5 minutes: training runs cannot log and deployments cannot resolve models.`,
                }),
            ],
        },
    ];
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
