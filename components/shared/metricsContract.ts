/**
 * The metrics contract: the Prometheus metrics every model server, batch job and drift check of the
 * platform exposes, with their types, units and labels. Alert rules (alertRules.ts) and Grafana
 * dashboards (dashboards.ts) are generated from these constants, and a test parses every expression they
 * contain and fails on any metric name that is neither here nor in {@link EXTERNAL_METRICS}: the rules,
 * the dashboards and docs/metrics-contract.md cannot drift apart.
 *
 * Naming follows the Prometheus conventions: an `mlops_` prefix, base units (seconds, bytes), counters
 * end in `_total`, a histogram `x` is queried as `x_bucket`, `x_sum` and `x_count`.
 */

export type MetricType = "counter" | "gauge" | "histogram";

/** Who emits a metric, and how Prometheus gets it. */
export type MetricSource =
    /** The model server, scraped through the team's ServiceMonitor. */
    | "model-server"
    /** A batch scoring job, pushed to the Pushgateway at the end of each run. */
    | "batch-job"
    /** The platform's drift-check job (driftCheck.ts), pushed to the Pushgateway. */
    | "drift-check";

export interface MetricSpec {
    /** Metric name as exposed (counters with their `_total`). */
    readonly name: string;
    readonly type: MetricType;
    /** Unit of the value: a base unit, or `1` for dimensionless ratios and scores. */
    readonly unit: string;
    readonly help: string;
    /** Labels every series carries (beyond the target labels Prometheus adds: namespace, pod, job...). */
    readonly labels: readonly string[];
    readonly source: MetricSource;
    /** Recommended histogram buckets (upper bounds). */
    readonly buckets?: readonly number[];
}

/** Labels that identify what a series is about: which model, which version, which team. */
export const MODEL_LABELS = ["model", "version", "team"] as const;

/** Latency buckets, in seconds: 5 ms to 10 s, dense around typical online SLOs. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * Every metric of the contract. The keys are how code refers to them; the names are what servers expose.
 * docs/metrics-contract.md describes each one for the people who instrument servers and jobs.
 */
export const METRICS = {
    requests: {
        name: "mlops_model_requests_total",
        type: "counter",
        unit: "requests",
        help: "Prediction requests handled, by HTTP status code (status is the code as a string: 200, 422, 503).",
        labels: [...MODEL_LABELS, "status"],
        source: "model-server",
    },
    requestDuration: {
        name: "mlops_model_request_duration_seconds",
        type: "histogram",
        unit: "seconds",
        help: "Time from receiving a prediction request to sending the response, including validation.",
        labels: [...MODEL_LABELS],
        source: "model-server",
        buckets: LATENCY_BUCKETS,
    },
    inputValidationFailures: {
        name: "mlops_model_input_validation_failures_total",
        type: "counter",
        unit: "failures",
        help: "Request inputs rejected by schema validation, by input field and reason (missing, type, range, category).",
        labels: [...MODEL_LABELS, "field", "reason"],
        source: "model-server",
    },
    predictionValue: {
        name: "mlops_model_prediction_value",
        type: "histogram",
        unit: "1",
        help: "Distribution of predicted values of regression models (and scores of binary classifiers), in model output units.",
        labels: [...MODEL_LABELS],
        source: "model-server",
    },
    predictionClass: {
        name: "mlops_model_predictions_total",
        type: "counter",
        unit: "predictions",
        help: "Predictions of classification models, by predicted class.",
        labels: [...MODEL_LABELS, "class"],
        source: "model-server",
    },
    modelInfo: {
        name: "mlops_model_info",
        type: "gauge",
        unit: "1",
        help: "Always 1: which model version a server has loaded, with its MLflow run id and registry stage/alias.",
        labels: [...MODEL_LABELS, "run_id", "alias"],
        source: "model-server",
    },
    artifactStoreErrors: {
        name: "mlops_artifact_store_errors_total",
        type: "counter",
        unit: "errors",
        help: "Failed requests to the artifact store (S3), by operation (load_model, write_prediction_log) and S3 error code.",
        labels: [...MODEL_LABELS, "operation", "error_code"],
        source: "model-server",
    },
    featureDriftScore: {
        name: "mlops_feature_drift_score",
        type: "gauge",
        unit: "1",
        help: 'Drift of one input feature (or of the prediction, feature="__prediction__") between recent logged requests and the training reference of the served version; method is psi (the platform\'s drift check) or ks.',
        labels: [...MODEL_LABELS, "feature", "method"],
        source: "drift-check",
    },
    featureMissingRatio: {
        name: "mlops_feature_missing_ratio",
        type: "gauge",
        unit: "1",
        help: 'Share of the drift check\'s window of logged requests in which one input feature (or the prediction, feature="__prediction__") is absent, null or not of its type in the reference profile.',
        labels: [...MODEL_LABELS, "feature"],
        source: "drift-check",
    },
    batchLastSuccess: {
        name: "mlops_batch_job_last_success_timestamp_seconds",
        type: "gauge",
        unit: "seconds",
        help: "Unix time at which the job last completed successfully.",
        labels: ["job", "team", "model"],
        source: "batch-job",
    },
    batchExpectedInterval: {
        name: "mlops_batch_job_expected_interval_seconds",
        type: "gauge",
        unit: "seconds",
        help: "How often the job is meant to succeed (its schedule's period): the staleness alert compares against it.",
        labels: ["job", "team", "model"],
        source: "batch-job",
    },
    batchRowsScored: {
        name: "mlops_batch_job_rows_scored",
        type: "gauge",
        unit: "rows",
        help: "Rows scored by the job's last successful run.",
        labels: ["job", "team", "model"],
        source: "batch-job",
    },
    batchDuration: {
        name: "mlops_batch_job_duration_seconds",
        type: "gauge",
        unit: "seconds",
        help: "Wall-clock duration of the job's last successful run.",
        labels: ["job", "team", "model"],
        source: "batch-job",
    },
} as const satisfies Record<string, MetricSpec>;

/** Where an external metric comes from. */
export interface ExternalMetric {
    readonly name: string;
    /** Exporter and reference. */
    readonly source: string;
}

/**
 * Metrics the rules and dashboards may use that the platform does not define: kube-state-metrics and
 * the kubelet/cAdvisor (both installed by kube-prometheus-stack), Prometheus' own `up`, and MLflow's
 * exporter (`mlflow server --expose-prometheus`, prometheus_flask_exporter with the `mlflow` prefix).
 */
export const EXTERNAL_METRICS: readonly ExternalMetric[] = [
    { name: "up", source: "Prometheus: 1 when the last scrape of a target succeeded" },
    { name: "kube_deployment_spec_replicas", source: "kube-state-metrics" },
    { name: "kube_deployment_status_replicas_available", source: "kube-state-metrics" },
    { name: "kube_pod_container_status_restarts_total", source: "kube-state-metrics" },
    { name: "kube_pod_container_status_waiting_reason", source: "kube-state-metrics" },
    { name: "kube_job_failed", source: "kube-state-metrics" },
    { name: "kube_job_status_succeeded", source: "kube-state-metrics" },
    { name: "kube_cronjob_status_last_successful_time", source: "kube-state-metrics" },
    { name: "container_cpu_usage_seconds_total", source: "kubelet (cAdvisor)" },
    { name: "container_memory_working_set_bytes", source: "kubelet (cAdvisor)" },
    { name: "mlflow_http_request_total", source: "MLflow --expose-prometheus (prometheus_flask_exporter)" },
    { name: "mlflow_http_request_duration_seconds_bucket", source: "MLflow --expose-prometheus (prometheus_flask_exporter)" },
    { name: "mlflow_http_request_exceptions_total", source: "MLflow --expose-prometheus (prometheus_flask_exporter)" },
];

/**
 * The custom metric a ModelService's HPA scales on for `autoscaling.targetRequestsPerSecond`: requests per
 * second per pod, served on the custom metrics API (custom.metrics.k8s.io) by prometheus-adapter, which
 * the MonitoringStack installs with {@link requestsPerSecondAdapterRule}.
 */
export const RPS_METRIC = "mlops_model_requests_per_second";

/** One rule of prometheus-adapter's configuration (https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/docs/config.md). */
export interface AdapterRule {
    readonly seriesQuery: string;
    readonly resources: { readonly overrides: Record<string, { readonly resource: string }> };
    readonly name: { readonly matches: string; readonly as: string };
    readonly metricsQuery: string;
}

/** The window of the rate behind {@link RPS_METRIC}: four scrapes at the model servers' 30 s interval. */
export const RPS_RATE_WINDOW = "2m";

/**
 * The adapter rule that serves {@link RPS_METRIC}: the per-second rate of the model server's request
 * counter over {@link RPS_RATE_WINDOW}, summed per pod (all status codes: load is load), for the pods and
 * namespace the HPA asks about (the `namespace` and `pod` target labels the ServiceMonitor adds).
 */
export function requestsPerSecondAdapterRule(): AdapterRule {
    const counter = METRICS.requests.name;
    return {
        seriesQuery: `${counter}{namespace!="",pod!=""}`,
        resources: { overrides: { namespace: { resource: "namespace" }, pod: { resource: "pod" } } },
        name: { matches: `^${counter}$`, as: RPS_METRIC },
        metricsQuery: `sum(rate(<<.Series>>{<<.LabelMatchers>>}[${RPS_RATE_WINDOW}])) by (<<.GroupBy>>)`,
    };
}

/**
 * An adapter rule's `metricsQuery` as the adapter sends it to Prometheus for one HPA request: the
 * template's `<<.Series>>`, `<<.LabelMatchers>>` and `<<.GroupBy>>` filled in.
 */
export function adapterQuery(rule: AdapterRule, series: string, labelMatchers: string, groupBy: string): string {
    return rule.metricsQuery.replaceAll("<<.Series>>", series).replaceAll("<<.LabelMatchers>>", labelMatchers).replaceAll("<<.GroupBy>>", groupBy);
}

/** The series names a metric is queried by: a histogram `x` as `x_bucket`, `x_sum`, `x_count`. */
export function seriesNames(spec: Pick<MetricSpec, "name" | "type">): string[] {
    return spec.type === "histogram" ? [`${spec.name}_bucket`, `${spec.name}_sum`, `${spec.name}_count`] : [spec.name];
}

/** Every series name an expression may reference: the contract's and the external ones. */
export function allowedSeriesNames(): Set<string> {
    return new Set([...Object.values(METRICS).flatMap((m) => seriesNames(m)), ...EXTERNAL_METRICS.map((m) => m.name)]);
}

/** Metric names an expression uses that are neither in the contract nor external: typos, or undocumented metrics. */
export function unknownMetrics(expr: string): string[] {
    const allowed = allowedSeriesNames();
    return metricNamesIn(expr).filter((n) => !allowed.has(n));
}

/** Is `name` a valid Prometheus metric name that follows the contract's conventions? */
export function isContractName(spec: Pick<MetricSpec, "name" | "type" | "unit">): boolean {
    if (!/^mlops_[a-z][a-z0-9_]*[a-z0-9]$/.test(spec.name) || spec.name.includes("__")) return false;
    if (spec.type === "counter") return spec.name.endsWith("_total");
    if (spec.name.endsWith("_total")) return false;
    if (spec.unit === "seconds") return spec.name.endsWith("_seconds");
    return true;
}

// ---------------------------------------------------------------------------------------------
// Metric names in PromQL: a small lexer, enough for the expressions the platform writes.
// ---------------------------------------------------------------------------------------------

const KEYWORDS = new Set([
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "and",
    "or",
    "unless",
    "atan2",
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "inf",
    "nan",
]);

/**
 * The metric names a PromQL expression selects. String literals, label matchers `{...}`, range and
 * subquery brackets `[...]`, the label lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`
 * and function names (an identifier followed by `(`) are not metric names; what remains is.
 * `{__name__="x"}` selectors are reported too. Grafana variables (`$model`) are skipped.
 */
export function metricNamesIn(expr: string): string[] {
    const names = new Set<string>();
    // __name__ matchers inside braces.
    for (const m of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(m[1]);
    let s = expr
        .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
        .replace(/\{[^}]*\}/g, " ") // label matchers
        .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
        .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
        .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, " "); // Grafana variables
    s = s.replace(/\boffset\s+-?[0-9a-z]+/g, " ");
    for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
        const ident = m[0];
        const rest = s.slice((m.index ?? 0) + ident.length);
        if (/^\s*\(/.test(rest)) continue; // a function or aggregation
        if (KEYWORDS.has(ident.toLowerCase())) continue;
        const before = s.slice(0, m.index ?? 0);
        if (/[0-9.]$/.test(before)) continue; // a number's exponent or suffix (1e3, 5m)
        names.add(ident);
    }
    return [...names].sort();
}
