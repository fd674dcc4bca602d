/**
 * The metrics adapter of a runtime preset: Prometheus recording rules that copy a runtime's native
 * metrics onto the names and labels of the platform's metrics contract (metricsContract.ts), so the
 * same SLO alerts, the HPA's requests-per-second metric (prometheus-adapter) and the dashboards work
 * unchanged for every runtime.
 *
 * How: the ServiceMonitor of a preset attaches the contract's `model`, `version` and `team` labels to
 * every scraped series from the pod's labels (a runtime knows neither the registry's model name nor
 * its version; a native label of the same name is kept as `exported_<name>`). Each recording rule then
 * selects one native series of this service (`namespace`, `service`) and records it under the contract
 * name, keeping every label (`pod` included), so a recorded counter is the native counter renamed:
 * `rate()` and counter resets work on it as on the original.
 */
import { METRICS } from "../../shared/metricsContract";
import { labelKeys } from "../../contract";

/** One recording rule (Prometheus rule file and PrometheusRule CRD shape). */
export interface RecordingRule {
    record: string;
    expr: string;
    labels?: Record<string, string>;
}

/** A group of recording rules. */
export interface RecordingGroup {
    name: string;
    rules: RecordingRule[];
}

/** The contract series a runtime adapter may record. */
export const CONTRACT_SERIES = {
    requests: METRICS.requests.name,
    durationBucket: `${METRICS.requestDuration.name}_bucket`,
    durationSum: `${METRICS.requestDuration.name}_sum`,
    durationCount: `${METRICS.requestDuration.name}_count`,
} as const;

/** Selects a native metric of one service: `metric{namespace="…", service="…", extra}`. */
export type NativeSelector = (metric: string, extra?: string) => string;

/** The selector of a service's native series (the `namespace` and `service` target labels of its ServiceMonitor). */
export function nativeSelector(namespace: string, serviceName: string): NativeSelector {
    return (metric, extra) => `${metric}{${[`namespace="${namespace}"`, `service="${serviceName}"`, extra].filter((m) => m).join(", ")}}`;
}

/** Name of a service's adapter group: unique beside its alert groups. */
export function adapterGroupName(serviceName: string): string {
    return `mlops-metrics-adapter-${serviceName}`;
}

/** The Prometheus meta label of a pod label key (`mlops.acme.io/model-version` → `__meta_kubernetes_pod_label_mlops_acme_io_model_version`). */
export function podLabelMeta(key: string): string {
    return `__meta_kubernetes_pod_label_${key.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

/**
 * ServiceMonitor relabelings that set the contract's model labels from the pod's labels: `model`
 * (the registered model), `version` (the registered version) and `team`.
 */
export function modelLabelRelabelings(labelDomain: string): { sourceLabels: string[]; targetLabel: string; action: "replace" }[] {
    const keys = labelKeys(labelDomain);
    return [
        { sourceLabels: [podLabelMeta(keys.model)], targetLabel: "model", action: "replace" },
        { sourceLabels: [podLabelMeta(keys.modelVersion)], targetLabel: "version", action: "replace" },
        { sourceLabels: [podLabelMeta(keys.team)], targetLabel: "team", action: "replace" },
    ];
}

/** The native metric names a recording rule's expression reads (the identifiers before `{`). */
export function nativeMetricsOf(rules: readonly RecordingRule[]): string[] {
    return [...new Set(rules.flatMap((r) => [...r.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1])))].sort();
}
