import { defineStackPolicy, evaluateEach, type StackSubject } from "../../framework/define";
import { kindOf, modelName, selects, serviceSelects } from "../../readers/k8s";
import { nameOf, namespaceOf, podLabels, workloadRef } from "./workloadCommon";

export const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
export const POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor";
const SERVICE = "kubernetes:core/v1:Service";
const SERVED_KINDS = ["Deployment", "StatefulSet", "DaemonSet"];

/** Does a ServiceMonitor or PodMonitor's namespaceSelector include `namespace`? (None: its own namespace.) */
function watchesNamespace(monitor: StackSubject, namespace: string): boolean {
    const ns = monitor.props.spec?.namespaceSelector;
    if (!ns || (ns.any !== true && !Array.isArray(ns.matchNames))) return namespaceOf(monitor) === namespace;
    return ns.any === true || ns.matchNames.includes(namespace);
}

/** Long-running model workloads are scraped: a ServiceMonitor selects their Service, or a PodMonitor their pods. */
export const modelWorkloadMonitored = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "model-workload-monitored",
        pack: "mlops-reliability",
        title: "Model servers are scraped",
        description:
            "Every model Deployment, StatefulSet or DaemonSet (labelled `mlops.<domain>/model`) has a Service selecting its pods and a ServiceMonitor selecting that Service (in a namespace it watches), or a PodMonitor selecting its pods.",
        rationale:
            "A model server without metrics has no latency, error-rate or drift signal: it degrades silently, and its SLOs and alerts evaluate to nothing.",
        severity: "medium",
        remediation:
            "Create a ServiceMonitor whose selector matches the model Service's labels (the ModelService component does), exposing the metrics of the metrics contract.",
        controls: [
            { framework: "NIST-800-53", control: "SI-4" },
            { framework: "SOC2", control: "CC7.2" },
        ],
        topics: ["monitoring", "model-governance"],
        protectsData: false,
        appliesTo: ["model Deployments/StatefulSets/DaemonSets", SERVICE, SERVICE_MONITOR, POD_MONITOR],
    },
    config: {},
    check: (resources, _config, ctx) => {
        const services = resources.filter((r) => r.type === SERVICE);
        const serviceMonitors = resources.filter((r) => r.type === SERVICE_MONITOR);
        const podMonitors = resources.filter((r) => r.type === POD_MONITOR);
        const workloads = resources.filter(
            (r) => r.type.startsWith("kubernetes:apps/") && SERVED_KINDS.includes(kindOf(r.type)) && modelName(r.type, r.props, ctx.labelDomain),
        );
        return evaluateEach(workloads, (w) => {
            const ns = namespaceOf(w);
            const labels = podLabels(w);
            if (podMonitors.some((m) => watchesNamespace(m, ns) && selects(m.props.spec?.selector, labels))) return [];
            const mine = services.filter((s) => namespaceOf(s) === ns && serviceSelects(s.props.spec?.selector, labels));
            if (mine.length === 0) return [`${workloadRef(w)} serves a model but no Service selects its pods (and no PodMonitor does).`];
            const scraped = mine.some((s) => serviceMonitors.some((m) => watchesNamespace(m, ns) && selects(m.props.spec?.selector, s.props.metadata?.labels)));
            return scraped ? [] : [`${workloadRef(w)} serves a model but no ServiceMonitor selects its Service ${mine.map(nameOf).join(", ")}.`];
        });
    },
});
