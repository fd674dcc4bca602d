/**
 * The metrics contract: names follow the conventions, the PromQL metric-name parser is right, and every
 * rule and dashboard query uses only contract or documented external metrics - a typo fails here.
 */
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alertingRules, modelAlertGroups, platformAlertGroups } from "../components/shared/alertRules";
import { batchJobsDashboard, dashboardQueries, mlflowDashboard, modelServiceDashboard } from "../components/platform/dashboards";
import {
    adapterQuery,
    allowedSeriesNames,
    EXTERNAL_METRICS,
    isContractName,
    METRICS,
    metricNamesIn,
    requestsPerSecondAdapterRule,
    RPS_METRIC,
    RPS_RATE_WINDOW,
    seriesNames,
    unknownMetrics,
} from "../components/shared/metricsContract";
import { hpaMetrics } from "../components/team/modelService";
import { ROOT } from "./harness";
import { MODEL_FIXTURE, PLATFORM_FIXTURE } from "./promtool/fixture";

const rules = () => alertingRules([...modelAlertGroups({ ...MODEL_FIXTURE, slo: { ...MODEL_FIXTURE.slo } }), ...platformAlertGroups(PLATFORM_FIXTURE)]);
const dashboards = () => [modelServiceDashboard(), batchJobsDashboard(), mlflowDashboard({ namespace: "mlflow", service: "mlflow" })];

describe("contract metrics", () => {
    it.each(Object.entries(METRICS))("%s follows the naming conventions", (_key, spec) => {
        expect(isContractName(spec), spec.name).toBe(true);
        expect(spec.help.length).toBeGreaterThan(20);
        // Model-server metrics identify the model; pushed metrics at least the job.
        if (spec.source === "batch-job") expect(spec.labels).toContain("job");
        else expect(spec.labels).toEqual(expect.arrayContaining(["model", "version", "team"]));
    });

    it("names are unique and histograms expand to _bucket, _sum and _count", () => {
        const names = Object.values(METRICS).map((m) => m.name);
        expect(new Set(names).size).toBe(names.length);
        expect(seriesNames(METRICS.requestDuration)).toEqual([
            "mlops_model_request_duration_seconds_bucket",
            "mlops_model_request_duration_seconds_sum",
            "mlops_model_request_duration_seconds_count",
        ]);
        expect(METRICS.requestDuration.buckets).toEqual([...METRICS.requestDuration.buckets].sort((a, b) => a - b));
    });

    it("isContractName rejects names that break the conventions", () => {
        expect(isContractName({ name: "mlops_model_requests", type: "counter", unit: "requests" })).toBe(false);
        expect(isContractName({ name: "model_requests_total", type: "counter", unit: "requests" })).toBe(false);
        expect(isContractName({ name: "mlops_latency_ms", type: "histogram", unit: "seconds" })).toBe(false);
        expect(isContractName({ name: "mlops_rows_total", type: "gauge", unit: "rows" })).toBe(false);
        expect(isContractName({ name: "mlops_Model_info", type: "gauge", unit: "1" })).toBe(false);
    });

    it("docs/metrics-contract.md documents every contract and external metric", () => {
        const doc = fs.readFileSync(path.join(ROOT, "docs", "metrics-contract.md"), "utf8");
        for (const m of Object.values(METRICS)) expect(doc, m.name).toContain(`\`${m.name}\``);
        for (const m of EXTERNAL_METRICS) expect(doc, m.name).toContain(`\`${m.name}\``);
    });
});

describe("metricNamesIn", () => {
    it.each([
        ['up{namespace="mlflow"} == 0', ["up"]],
        ['histogram_quantile(0.95, sum by (namespace, le) (rate(x_bucket{a="b"}[5m]))) > 0.3', ["x_bucket"]],
        ["sum by (a) (rate(a_total[5m])) / on (a) group_left () sum by (a) (rate(b_total[5m] offset 1h))", ["a_total", "b_total"]],
        ['a > on (namespace, job) (1.5 * max by (namespace, job) (b)) or absent(c{d="e"})', ["a", "b", "c"]],
        ['time() - max without (pod) (last_ts{job=~"x|y"})', ["last_ts"]],
        ['sum(rate(m{namespace="$namespace", model="${model}"}[$__rate_interval]))', ["m"]],
        ['count({__name__="hidden_metric"}) and bool 1e3 > 5', ["hidden_metric"]],
        ['label_replace(up, "x", "fake_metric_in_string", "", "")', ["up"]],
        ["kube_job_failed > 0 unless ignoring (condition) kube_job_complete", ["kube_job_complete", "kube_job_failed"]],
    ])("%s -> %j", (expr, names) => {
        expect(metricNamesIn(expr)).toEqual(names);
    });

    it("finds the metric of any selector the rules could be built from (property)", () => {
        const names = [...allowedSeriesNames()];
        const label = fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/);
        const value = fc.stringMatching(/^[a-z0-9.-]{0,12}$/);
        const matchers = fc.array(fc.tuple(label, fc.constantFrom("=", "!=", "=~", "!~"), value), { maxLength: 3 });
        const wrap = fc.constantFrom(
            (s: string) => s,
            (s: string) => `rate(${s}[5m])`,
            (s: string) => `sum by (namespace, le) (rate(${s}[1h] offset 1h))`,
            (s: string) => `histogram_quantile(0.9, ${s})`,
            (s: string) => `max_over_time(${s}[30m:1m]) > 0.5`,
        );
        fc.assert(
            fc.property(fc.constantFrom(...names), matchers, wrap, (name, ms, w) => {
                const selector = ms.length ? `${name}{${ms.map(([l, op, v]) => `${l}${op}"${v}"`).join(", ")}}` : name;
                expect(metricNamesIn(w(selector))).toEqual([name]);
            }),
        );
    });
});

describe("rules and dashboards use only the contract", () => {
    it("every alert rule expression references known metrics only", () => {
        const all = rules();
        expect(all.length).toBeGreaterThan(10);
        for (const r of all) {
            expect(metricNamesIn(r.expr).length, r.alert).toBeGreaterThan(0);
            expect(unknownMetrics(r.expr), r.alert).toEqual([]);
        }
    });

    it("a typo in a metric name is caught", () => {
        const broken = rules().map((r) => r.expr.replace("mlops_model_requests_total", "mlops_model_request_total"));
        expect(broken.flatMap(unknownMetrics)).toContain("mlops_model_request_total");
        expect(unknownMetrics('kube_deployment_status_replica_available{namespace="x"} == 0')).toEqual(["kube_deployment_status_replica_available"]);
    });

    it.each(dashboards().map((d) => [d.uid, d] as const))("dashboard %s is valid JSON and queries known metrics only", (_uid, d) => {
        const json = JSON.parse(JSON.stringify(d));
        expect(json).toEqual(d);
        expect(d.panels.length).toBeGreaterThan(3);
        expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
        for (const q of dashboardQueries(d)) {
            expect(metricNamesIn(q).length, q).toBeGreaterThan(0);
            expect(unknownMetrics(q), q).toEqual([]);
        }
        // Panels do not overlap on the 24-column grid.
        const cells = new Set<string>();
        for (const p of d.panels) {
            expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
            for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
                for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
                    expect(cells.has(`${x},${y}`), `${d.uid}: panel ${p.title} overlaps`).toBe(false);
                    cells.add(`${x},${y}`);
                }
        }
    });

    it("the MLflow exceptions panel shows 0, not no data, before the first exception (the series is created by it)", () => {
        const panel = mlflowDashboard({ namespace: "mlflow", service: "mlflow" }).panels.find((p) => p.title === "Exceptions per second");
        const queries = panel ? dashboardQueries({ ...mlflowDashboard({ namespace: "mlflow", service: "mlflow" }), panels: [panel] }) : [];
        expect(queries.filter((q) => q.includes("mlflow_http_request_exceptions_total"))).toEqual([
            'sum(rate(mlflow_http_request_exceptions_total{namespace="mlflow", service="mlflow"}[$__rate_interval])) or vector(0)',
        ]);
    });

    it("every contract metric is used by a rule or a dashboard", () => {
        const used = new Set([...rules().map((r) => r.expr), ...dashboards().flatMap(dashboardQueries)].flatMap(metricNamesIn));
        for (const m of Object.values(METRICS)) {
            expect(
                seriesNames(m).some((s) => used.has(s)),
                m.name,
            ).toBe(true);
        }
    });
});

describe("the HPAs' requests-per-second metric", () => {
    it("is served by the adapter from the model servers' request counter, per pod, and is what a ModelService's HPA asks for", () => {
        const rule = requestsPerSecondAdapterRule();
        expect(rule.name.as).toBe(RPS_METRIC);
        expect(new RegExp(rule.name.matches).test(METRICS.requests.name)).toBe(true);
        expect(METRICS.requests.type).toBe("counter");
        expect(unknownMetrics(rule.seriesQuery)).toEqual([]);
        expect(metricNamesIn(rule.seriesQuery)).toEqual([METRICS.requests.name]);
        expect(rule.resources.overrides).toEqual({ namespace: { resource: "namespace" }, pod: { resource: "pod" } });
        // A counter is only meaningful as a rate; grouped by what the HPA asks for (pods).
        expect(adapterQuery(rule, "s", 'a="b"', "pod")).toBe(`sum(rate(s{a="b"}[${RPS_RATE_WINDOW}])) by (pod)`);
        expect(hpaMetrics(60, 40)[1]).toEqual({ type: "Pods", pods: { metric: { name: RPS_METRIC }, target: { type: "AverageValue", averageValue: "40" } } });
    });
});
