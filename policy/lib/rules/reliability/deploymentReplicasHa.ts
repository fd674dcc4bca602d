import { defineStackPolicy, evaluateEach } from "../../define";
import { kindOf } from "../../k8s";
import { HA_KINDS, HPA_TYPES, nameOf, namespaceOf, workloadRef, workloadsOfKinds } from "./workloadCommon";

/** Prod Deployments and StatefulSets run at least N replicas, directly or through an HPA's minReplicas. */
export const deploymentReplicasHa = defineStackPolicy<{ minReplicas: number }>({
    meta: {
        name: "deployment-replicas-ha",
        pack: "mlops-reliability",
        title: "Workloads run more than one replica",
        description:
            "Every Deployment and StatefulSet has `spec.replicas` of at least `minReplicas` (2), or a HorizontalPodAutoscaler in its namespace targets it (`scaleTargetRef`) with `minReplicas` of at least that.",
        rationale: "A single replica makes every node drain, eviction, rollout or crash an outage of the model API or the tracking server.",
        severity: "medium",
        remediation: "Set `replicas: 2` or more (mlops:mlflow.replicas, ModelService `replicas`), or an HPA with `minReplicas: 2`.",
        controls: [
            { framework: "NIST-800-53", control: "CP-10" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["availability", "kubernetes"],
        protectsData: false,
        appliesTo: ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", ...HPA_TYPES],
    },
    config: {
        minReplicas: { type: "integer", minimum: 1, default: 2, description: "Minimum replicas (or HPA minReplicas)." },
    },
    environments: ["prod"],
    check: (resources, config) => {
        const hpas = resources.filter((r) => HPA_TYPES.includes(r.type));
        return evaluateEach(workloadsOfKinds(resources, HA_KINDS), (w) => {
            const hpa = hpas.find((h) => {
                const target = h.props.spec?.scaleTargetRef ?? {};
                return namespaceOf(h) === namespaceOf(w) && target.kind === kindOf(w.type) && target.name === nameOf(w);
            });
            if (hpa) {
                const min = hpa.props.spec?.minReplicas ?? 1;
                return min >= config.minReplicas ? [] : [`${workloadRef(w)} scales down to ${min} replica(s) (HPA ${nameOf(hpa)}); expected minReplicas >= ${config.minReplicas}.`];
            }
            const replicas = w.props.spec?.replicas ?? 1;
            return replicas >= config.minReplicas ? [] : [`${workloadRef(w)} runs ${replicas} replica(s); expected at least ${config.minReplicas} (or an HPA with minReplicas >= ${config.minReplicas}).`];
        });
    },
});
