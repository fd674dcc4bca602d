/**
 * Grafana dashboards as code: pure functions that return dashboard JSON models, built from the metrics
 * contract. The MonitoringStack puts each into a ConfigMap labelled `grafana_dashboard: "1"`, which
 * Grafana's dashboard sidecar loads. A test parses every query and fails on a metric outside the contract.
 */
import { METRICS, seriesNames } from "../shared/metricsContract";

/** A Prometheus query of a panel. */
export interface Target {
    refId: string;
    expr: string;
    legendFormat: string;
    datasource: { type: "prometheus"; uid: string };
}

export interface Panel {
    id: number;
    type: "timeseries" | "stat" | "table";
    title: string;
    description?: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource: { type: "prometheus"; uid: string };
    targets: Target[];
    fieldConfig: { defaults: { unit?: string; min?: number; max?: number }; overrides: unknown[] };
    options?: Record<string, unknown>;
}

export interface TemplateVariable {
    name: string;
    label: string;
    type: "datasource" | "query";
    query: string | { query: string; refId: string };
    datasource?: { type: "prometheus"; uid: string };
    refresh?: number;
    includeAll?: boolean;
    multi?: boolean;
    current?: Record<string, unknown>;
}

/** The Grafana dashboard JSON model (the fields the platform sets). */
export interface Dashboard {
    uid: string;
    title: string;
    description: string;
    tags: string[];
    editable: boolean;
    schemaVersion: number;
    time: { from: string; to: string };
    refresh: string;
    timezone: string;
    templating: { list: TemplateVariable[] };
    panels: Panel[];
}

const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;
const SCHEMA_VERSION = 39;

const datasourceVariable: TemplateVariable = { name: "datasource", label: "Data source", type: "datasource", query: "prometheus" };

function queryVariable(name: string, label: string, query: string, opts: { includeAll?: boolean } = {}): TemplateVariable {
    return {
        name,
        label,
        type: "query",
        query: { query, refId: `${name}-variable` },
        datasource: DATASOURCE,
        refresh: 2,
        includeAll: opts.includeAll ?? false,
        multi: false,
    };
}

/** Lays panels out two per row, 12 columns wide and 8 high. */
function panels(specs: readonly PanelSpec[]): Panel[] {
    return specs.map((p, i) => ({
        id: i + 1,
        type: p.type ?? "timeseries",
        title: p.title,
        description: p.description,
        gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
        datasource: DATASOURCE,
        targets: p.queries.map(([expr, legendFormat], j) => ({ refId: String.fromCharCode(65 + j), expr, legendFormat, datasource: DATASOURCE })),
        fieldConfig: {
            defaults: { unit: p.unit, ...(p.min !== undefined ? { min: p.min } : {}), ...(p.max !== undefined ? { max: p.max } : {}) },
            overrides: [],
        },
    }));
}

interface PanelSpec {
    title: string;
    description?: string;
    type?: Panel["type"];
    unit?: string;
    min?: number;
    max?: number;
    /** `[expr, legend]` pairs. */
    queries: [string, string][];
}

function dashboard(uid: string, title: string, description: string, variables: TemplateVariable[], specs: PanelSpec[]): Dashboard {
    return {
        uid,
        title,
        description,
        tags: ["mlops"],
        editable: false,
        schemaVersion: SCHEMA_VERSION,
        time: { from: "now-6h", to: "now" },
        refresh: "1m",
        timezone: "utc",
        templating: { list: [datasourceVariable, ...variables] },
        panels: panels(specs),
    };
}

/** Golden signals of a model service (traffic, errors, latency, saturation) plus input quality and drift. */
export function modelServiceDashboard(): Dashboard {
    const m = `namespace="$namespace", model="$model"`;
    const [durationBucket] = seriesNames(METRICS.requestDuration);
    const [valueBucket] = seriesNames(METRICS.predictionValue);
    const requests = METRICS.requests.name;
    return dashboard(
        "mlops-model-service",
        "MLOps / Model service",
        "Golden signals, input quality, prediction distribution and drift of one model, from the metrics contract (docs/metrics-contract.md).",
        [
            queryVariable("namespace", "Namespace", `label_values(${requests}, namespace)`),
            queryVariable("model", "Model", `label_values(${requests}{namespace="$namespace"}, model)`),
        ],
        [
            {
                title: "Requests per second by status",
                unit: "reqps",
                queries: [[`sum by (version, status) (rate(${requests}{${m}}[$__rate_interval]))`, "{{version}} {{status}}"]],
            },
            {
                title: "Error ratio (5xx)",
                unit: "percentunit",
                min: 0,
                queries: [
                    [
                        `sum by (version) (rate(${requests}{${m}, status=~"5.."}[$__rate_interval])) / sum by (version) (rate(${requests}{${m}}[$__rate_interval]))`,
                        "{{version}}",
                    ],
                ],
            },
            {
                title: "Latency p50 / p95 / p99",
                unit: "s",
                queries: [0.5, 0.95, 0.99].map((q) => [
                    `histogram_quantile(${q}, sum by (version, le) (rate(${durationBucket}{${m}}[$__rate_interval])))`,
                    `p${Math.round(q * 100)} {{version}}`,
                ]),
            },
            {
                title: "Error ratio by rollout track",
                unit: "percentunit",
                min: 0,
                queries: [
                    [
                        `sum by (track, version) (rate(${requests}{${m}, track!="", status=~"5.."}[$__rate_interval])) / sum by (track, version) (rate(${requests}{${m}, track!=""}[$__rate_interval]))`,
                        "{{track}} {{version}}",
                    ],
                ],
            },
            {
                title: "p99 latency by rollout track",
                unit: "s",
                queries: [
                    [
                        `histogram_quantile(0.99, sum by (track, version, le) (rate(${durationBucket}{${m}, track!=""}[$__rate_interval])))`,
                        "{{track}} {{version}}",
                    ],
                ],
            },
            {
                title: "Input validation failures by field",
                unit: "ops",
                queries: [[`sum by (field, reason) (rate(${METRICS.inputValidationFailures.name}{${m}}[$__rate_interval]))`, "{{field}} ({{reason}})"]],
            },
            {
                title: "Predicted class share",
                unit: "percentunit",
                min: 0,
                max: 1,
                queries: [
                    [
                        `sum by (class) (rate(${METRICS.predictionClass.name}{${m}}[$__rate_interval])) / ignoring (class) group_left () sum(rate(${METRICS.predictionClass.name}{${m}}[$__rate_interval]))`,
                        "{{class}}",
                    ],
                ],
            },
            {
                title: "Predicted value p10 / p50 / p90",
                unit: "none",
                queries: [0.1, 0.5, 0.9].map((q) => [
                    `histogram_quantile(${q}, sum by (version, le) (rate(${valueBucket}{${m}}[$__rate_interval])))`,
                    `p${Math.round(q * 100)} {{version}}`,
                ]),
            },
            {
                title: "Feature drift score (drift check)",
                description: "Pushed by the scheduled drift check; PSI above 0.2 is usually significant.",
                unit: "none",
                min: 0,
                queries: [[`max by (feature, method) (${METRICS.featureDriftScore.name}{${m}})`, "{{feature}} ({{method}})"]],
            },
            {
                title: "Missing input share (drift check)",
                description: "Share of the drift check's window of logged requests in which a feature is absent, null or not of its reference type.",
                unit: "percentunit",
                min: 0,
                queries: [[`max by (feature) (${METRICS.featureMissingRatio.name}{${m}})`, "{{feature}}"]],
            },
            {
                title: "Artifact store errors",
                unit: "ops",
                queries: [
                    [`sum by (operation, error_code) (rate(${METRICS.artifactStoreErrors.name}{${m}}[$__rate_interval]))`, "{{operation}} {{error_code}}"],
                ],
            },
            {
                title: "Loaded model versions",
                type: "table",
                queries: [[`max by (pod, version, alias, run_id) (${METRICS.modelInfo.name}{${m}})`, "{{pod}}"]],
            },
            {
                title: "Replicas available / desired",
                unit: "none",
                min: 0,
                queries: [
                    [`sum by (deployment) (kube_deployment_status_replicas_available{namespace="$namespace"})`, "available {{deployment}}"],
                    [`sum by (deployment) (kube_deployment_spec_replicas{namespace="$namespace"})`, "desired {{deployment}}"],
                ],
            },
            {
                title: "CPU used by pods (cores)",
                unit: "none",
                queries: [[`sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="$namespace", container!=""}[$__rate_interval]))`, "{{pod}}"]],
            },
            {
                title: "Memory working set by pod",
                unit: "bytes",
                queries: [[`sum by (pod) (container_memory_working_set_bytes{namespace="$namespace", container!=""})`, "{{pod}}"]],
            },
            {
                title: "Container restarts (1h)",
                unit: "none",
                queries: [
                    [`sum by (pod, container) (increase(kube_pod_container_status_restarts_total{namespace="$namespace"}[1h]))`, "{{pod}}/{{container}}"],
                ],
            },
        ],
    );
}

/** Batch scoring jobs and drift checks: freshness, volume, duration and failures. */
export function batchJobsDashboard(): Dashboard {
    const ns = `namespace=~"$namespace"`;
    return dashboard(
        "mlops-batch-jobs",
        "MLOps / Batch jobs",
        "Freshness, rows scored, duration and failures of batch scoring jobs and drift checks (pushed to the Pushgateway).",
        [queryVariable("namespace", "Namespace", `label_values(${METRICS.batchLastSuccess.name}, namespace)`, { includeAll: true })],
        [
            {
                title: "Time since last success",
                unit: "s",
                queries: [[`time() - max by (namespace, job) (${METRICS.batchLastSuccess.name}{${ns}})`, "{{namespace}}/{{job}}"]],
            },
            {
                title: "Staleness (1 = one expected interval)",
                unit: "none",
                min: 0,
                queries: [
                    [
                        `(time() - max by (namespace, job) (${METRICS.batchLastSuccess.name}{${ns}})) / on (namespace, job) max by (namespace, job) (${METRICS.batchExpectedInterval.name}{${ns}})`,
                        "{{namespace}}/{{job}}",
                    ],
                ],
            },
            {
                title: "Rows scored by the last run",
                unit: "short",
                queries: [[`max by (namespace, job) (${METRICS.batchRowsScored.name}{${ns}})`, "{{namespace}}/{{job}}"]],
            },
            {
                title: "Duration of the last run",
                unit: "s",
                queries: [[`max by (namespace, job) (${METRICS.batchDuration.name}{${ns}})`, "{{namespace}}/{{job}}"]],
            },
            { title: "Failed jobs", type: "table", queries: [[`max by (namespace, job_name) (kube_job_failed{${ns}}) > 0`, "{{namespace}}/{{job_name}}"]] },
            {
                title: "CronJob last successful run",
                unit: "dateTimeAsIso",
                queries: [[`max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${ns}}) * 1000`, "{{namespace}}/{{cronjob}}"]],
            },
        ],
    );
}

/** The MLflow tracking server: availability, traffic, errors and latency from its Prometheus exporter. */
export function mlflowDashboard(args: { namespace: string; service: string }): Dashboard {
    const t = `namespace="${args.namespace}", service="${args.service}"`;
    return dashboard(
        "mlops-mlflow",
        "MLOps / MLflow tracking server",
        "Availability, traffic, errors and latency of the MLflow tracking server (mlflow server --expose-prometheus).",
        [],
        [
            { title: "Targets up", type: "stat", unit: "none", queries: [[`sum(up{${t}})`, "up"]] },
            {
                title: "Requests per second by status",
                unit: "reqps",
                queries: [[`sum by (status) (rate(mlflow_http_request_total{${t}}[$__rate_interval]))`, "{{status}}"]],
            },
            {
                title: "Error ratio (5xx)",
                unit: "percentunit",
                min: 0,
                queries: [
                    [
                        `sum(rate(mlflow_http_request_total{${t}, status=~"5.."}[$__rate_interval])) / sum(rate(mlflow_http_request_total{${t}}[$__rate_interval]))`,
                        "5xx",
                    ],
                ],
            },
            {
                title: "Latency p50 / p95",
                unit: "s",
                queries: [0.5, 0.95].map((q) => [
                    `histogram_quantile(${q}, sum by (le) (rate(mlflow_http_request_duration_seconds_bucket{${t}}[$__rate_interval])))`,
                    `p${Math.round(q * 100)}`,
                ]),
            },
            // prometheus_flask_exporter creates the exceptions series at the first exception: until then 0, not "no data".
            {
                title: "Exceptions per second",
                unit: "ops",
                queries: [[`sum(rate(mlflow_http_request_exceptions_total{${t}}[$__rate_interval])) or vector(0)`, "exceptions"]],
            },
            {
                title: "Memory working set by pod",
                unit: "bytes",
                queries: [[`sum by (pod) (container_memory_working_set_bytes{namespace="${args.namespace}", container!=""})`, "{{pod}}"]],
            },
        ],
    );
}

/** Every PromQL expression a dashboard runs: panel targets and query variables. */
export function dashboardQueries(d: Dashboard): string[] {
    const variables = d.templating.list
        .filter((v) => v.type === "query")
        .map((v) => (typeof v.query === "string" ? v.query : v.query.query))
        .map((q) => /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(q)?.[1] ?? q);
    return [...d.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...variables];
}
