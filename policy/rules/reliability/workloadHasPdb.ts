import { defineStackPolicy, evaluateEach } from "../../framework/define";
import { selects } from "../../readers/k8s";
import { HA_KINDS, minimumReplicas, nameOf, namespaceOf, PDB_TYPE, podLabels, workloadRef, workloadsOfKinds } from "./workloadCommon";

/** Prod Deployments and StatefulSets are covered by a PodDisruptionBudget that still allows disruptions. */
export const workloadHasPdb = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "workload-has-pdb",
        pack: "mlops-reliability",
        title: "Workloads have a PodDisruptionBudget",
        description:
            "Every Deployment and StatefulSet has a PodDisruptionBudget in its namespace whose selector matches its pod template labels, and that budget allows at least one voluntary disruption at the smallest scale (not `maxUnavailable: 0`, not `minAvailable` >= replicas or the HPA's minReplicas).",
        rationale:
            "Without a budget a node upgrade may evict every replica at once; a budget that allows no disruption blocks node drains and cluster upgrades instead.",
        severity: "medium",
        remediation: "Add a `PodDisruptionBudget` with `selector.matchLabels` = the workload's selector labels and `maxUnavailable: 1`.",
        controls: [
            { framework: "NIST-800-53", control: "CP-10" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["availability", "kubernetes"],
        protectsData: false,
        appliesTo: ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", PDB_TYPE],
    },
    config: {},
    environments: ["prod"],
    check: (resources) => {
        const pdbs = resources.filter((r) => r.type === PDB_TYPE);
        return evaluateEach(workloadsOfKinds(resources, HA_KINDS), (w) => {
            const labels = podLabels(w);
            const matching = pdbs.filter((p) => namespaceOf(p) === namespaceOf(w) && selects(p.props.spec?.selector, labels));
            if (matching.length === 0) return [`${workloadRef(w)} has no PodDisruptionBudget selecting its pods.`];
            const { replicas } = minimumReplicas(w, resources);
            const problems: string[] = [];
            for (const p of matching) {
                const { maxUnavailable, minAvailable } = p.props.spec ?? {};
                if (maxUnavailable === 0 || maxUnavailable === "0%")
                    problems.push(
                        `${workloadRef(w)}: PodDisruptionBudget ${nameOf(p)} allows no disruption (maxUnavailable ${maxUnavailable}), which blocks node drains.`,
                    );
                else if ((typeof minAvailable === "number" && minAvailable >= replicas) || minAvailable === "100%") {
                    problems.push(
                        `${workloadRef(w)}: PodDisruptionBudget ${nameOf(p)} requires ${minAvailable} of (at least) ${replicas} replica(s) available, which blocks node drains.`,
                    );
                }
            }
            return problems;
        });
    },
});
