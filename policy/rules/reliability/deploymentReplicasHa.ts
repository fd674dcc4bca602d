import { defineStackPolicy, evaluateEach } from "../../framework/define";
import { HA_KINDS, HPA_TYPES, minimumReplicas, nameOf, workloadRef, workloadsOfKinds } from "./workloadCommon";

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
        remediation: "Set `replicas: 2` or more (mlops:mlflow.replicas, ModelService `replicas.min`), or an HPA with `minReplicas: 2`.",
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
    check: (resources, config) =>
        evaluateEach(workloadsOfKinds(resources, HA_KINDS), (w) => {
            const { replicas, hpa } = minimumReplicas(w, resources);
            if (replicas >= config.minReplicas) return [];
            return hpa
                ? [`${workloadRef(w)} scales down to ${replicas} replica(s) (HPA ${nameOf(hpa)}); expected minReplicas >= ${config.minReplicas}.`]
                : [
                      `${workloadRef(w)} runs ${replicas} replica(s); expected at least ${config.minReplicas} (or an HPA with minReplicas >= ${config.minReplicas}).`,
                  ];
        }),
});
