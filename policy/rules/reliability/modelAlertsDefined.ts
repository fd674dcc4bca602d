import { defineStackPolicy, evaluateEach } from "../../framework/define";
import { isModelWorkloadType, modelName } from "../../readers/k8s";
import { nameOf, namespaceOf, workloadRef } from "./workloadCommon";

export const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";

/** The text of a PrometheusRule's alerting rules: expressions, labels and annotations. */
function alertTexts(rule: Record<string, any>): string[] {
    const groups: any[] = Array.isArray(rule.spec?.groups) ? rule.spec.groups : [];
    return groups
        .flatMap((g) => (Array.isArray(g?.rules) ? g.rules : []))
        .filter((r: any) => typeof r?.alert === "string")
        .map((r: any) => [r.expr, ...Object.values(r.labels ?? {}), ...Object.values(r.annotations ?? {})].map(String).join("\n"));
}

/** Does an alert expression select series of `namespace` (`namespace="ns"` or a matching `namespace=~"re"`)? */
export function selectsNamespace(text: string, namespace: string): boolean {
    for (const m of text.matchAll(/namespace\s*(=~|=)\s*"([^"]*)"/g)) {
        if (m[1] === "=" && m[2] === namespace) return true;
        if (m[1] === "=~") {
            try {
                if (new RegExp(`^(?:${m[2]})$`).test(namespace)) return true;
            } catch {
                /* not a valid regex: not a match */
            }
        }
    }
    return false;
}

/** Does `text` mention `word` as a whole name (not as part of a longer name)? */
export function mentions(text: string, word: string): boolean {
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(^|[^A-Za-z0-9_-])${escaped}($|[^A-Za-z0-9_-])`).test(text);
}

/** Every model workload has alerts: a PrometheusRule alert mentions its model or workload. */
export const modelAlertsDefined = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "model-alerts-defined",
        pack: "mlops-reliability",
        title: "Model workloads have alerts",
        description:
            'For every model workload (labelled `mlops.<domain>/model`, CronJobs included) an alerting rule of a PrometheusRule mentions the model name or the workload name (in its expression, labels or annotations), or selects the workload\'s namespace (`namespace="<ns>"`, as the per-team model alerts do).',
        rationale:
            "Metrics nobody alerts on are noticed after the customer: a model's error rate, latency, drift and failed batch runs need an alert routed to the owning team.",
        severity: "medium",
        remediation:
            'Deploy the model with ModelService or BatchInference (each creates a PrometheusRule with the platform\'s alerts narrowed to it), or list the team in `mlops:teams` (its team-wide alerts select its namespace); otherwise create a PrometheusRule whose alert names the model or selects `namespace="<ns>"`.',
        controls: [
            { framework: "NIST-800-53", control: "SI-4" },
            { framework: "SOC2", control: "CC7.2" },
        ],
        topics: ["monitoring", "alerting", "model-governance"],
        protectsData: false,
        appliesTo: ["model workloads", PROMETHEUS_RULE],
        limitations: "Whether Prometheus loads the rule (its ruleSelector) is not checked.",
    },
    config: {},
    check: (resources, _config, ctx) => {
        const texts = resources.filter((r) => r.type === PROMETHEUS_RULE).flatMap((r) => alertTexts(r.props));
        const workloads = resources.filter((r) => isModelWorkloadType(r.type) && modelName(r.type, r.props, ctx.labelDomain));
        return evaluateEach(workloads, (w) => {
            const model = modelName(w.type, w.props, ctx.labelDomain)!;
            const ns = namespaceOf(w);
            const found = texts.some((t) => mentions(t, model) || mentions(t, nameOf(w)) || selectsNamespace(t, ns));
            return found ? [] : [`${workloadRef(w)} runs model ${model} but no PrometheusRule alert mentions it.`];
        });
    },
});
