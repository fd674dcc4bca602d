/**
 * What the platform reads of a model server's /metrics, derived from the code and the plans (never a
 * hand list): the contract's model-server metrics with their labels (components/shared/metricsContract.ts), and
 * every expression that queries them: the alert rules of the plans' PrometheusRule objects, the model
 * service dashboard's queries, and the HPA adapter rule's series query and metrics query.
 */
import type { Plan } from "../../engine/plan";
import { dashboardQueries, modelServiceDashboard } from "../../components/platform/dashboards";
import { adapterQuery, METRICS, metricNamesIn, requestsPerSecondAdapterRule, seriesNames } from "../../components/shared/metricsContract";
import { objectsOf } from "./stackPlans";

/**
 * Labels Prometheus adds to a scraped series (target labels): not the server's to expose. `track` too: the
 * ServiceMonitor of a route's stable, canary or shadow service sets it from the pod's label
 * (components/team/rolloutTrack.ts trackRelabeling), which the rollout alerts compare by.
 */
export const TARGET_LABELS = new Set(["namespace", "pod", "service", "job", "instance", "container", "endpoint", "track"]);

/** Series names of the contract's model-server metrics (histograms as _bucket, _sum, _count), with their labels. */
export function contractModelServerSeries(): { name: string; labels: string[] }[] {
    return Object.values(METRICS)
        .filter((m) => m.source === "model-server")
        .flatMap((m) => seriesNames(m).map((name) => ({ name, labels: [...m.labels, ...(name.endsWith("_bucket") ? ["le"] : [])] })));
}

/** Label names an expression reads: matcher keys and by/without/on/ignoring/group_x lists. */
export function labelsIn(expr: string): string[] {
    const out = new Set<string>();
    const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    for (const m of s.matchAll(/\{([^}]*)\}/g)) for (const k of m[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) out.add(k[1]);
    for (const m of s.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g))
        for (const k of m[1].split(",")) if (k.trim()) out.add(k.trim());
    out.delete("__name__");
    return [...out].sort();
}

/** Every expression that reads model-server metrics, with where it comes from. */
export function modelServerExpressions(plans: readonly Plan[]): { source: string; expr: string }[] {
    const modelSeries = new Set(contractModelServerSeries().map((s) => s.name));
    const all: { source: string; expr: string }[] = [];
    for (const plan of plans) {
        for (const o of objectsOf(plan).filter((x) => x.kind === "PrometheusRule") as any[]) {
            for (const g of o.spec.groups ?? [])
                for (const r of g.rules ?? []) all.push({ source: `${o.metadata.namespace}/${o.metadata.name}: ${r.alert ?? r.record}`, expr: r.expr });
        }
    }
    for (const q of dashboardQueries(modelServiceDashboard())) all.push({ source: "dashboard mlops-model-service", expr: q });
    const rule = requestsPerSecondAdapterRule();
    all.push({ source: "prometheus-adapter seriesQuery", expr: rule.seriesQuery });
    all.push({
        source: "prometheus-adapter metricsQuery",
        expr: adapterQuery(rule, METRICS.requests.name, 'namespace="ml-fraud",pod=~"fraud-scorer-.*"', "pod"),
    });
    return all.filter((e) => metricNamesIn(e.expr).some((n) => modelSeries.has(n)));
}
