/** Shared by the reliability stack policies: workloads, their namespace, name and pod labels. */
import type { StackSubject } from "../../framework/define";
import { kindOf, podTemplate } from "../../readers/k8s";

export const HA_KINDS = ["Deployment", "StatefulSet"];
export const HPA_TYPES = ["kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:autoscaling/v1:HorizontalPodAutoscaler"];
export const PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget";

export const namespaceOf = (r: StackSubject): string => r.props.metadata?.namespace ?? "default";
export const nameOf = (r: StackSubject): string => r.props.metadata?.name ?? r.name;
export const podLabels = (r: StackSubject): Record<string, string> => podTemplate(r.type, r.props)?.metadata?.labels ?? {};

export function workloadsOfKinds(resources: readonly StackSubject[], kinds: readonly string[]): StackSubject[] {
    return resources.filter((r) => r.type.startsWith("kubernetes:apps/") && kinds.includes(kindOf(r.type)));
}

/** The HorizontalPodAutoscaler that scales `w` (same namespace, `scaleTargetRef` kind and name), if any. */
export function scalerOf(w: StackSubject, resources: readonly StackSubject[]): StackSubject | undefined {
    return resources.find((h) => {
        if (!HPA_TYPES.includes(h.type)) return false;
        const target = h.props.spec?.scaleTargetRef ?? {};
        return namespaceOf(h) === namespaceOf(w) && target.kind === kindOf(w.type) && target.name === nameOf(w);
    });
}

/** The fewest replicas `w` runs: its HPA's minReplicas (default 1), else `spec.replicas` (default 1). */
export function minimumReplicas(w: StackSubject, resources: readonly StackSubject[]): { replicas: number; hpa?: StackSubject } {
    const hpa = scalerOf(w, resources);
    if (hpa) return { replicas: hpa.props.spec?.minReplicas ?? 1, hpa };
    return { replicas: w.props.spec?.replicas ?? 1 };
}

/** `Deployment mlflow/mlflow`. */
export const workloadRef = (r: StackSubject): string => `${kindOf(r.type)} ${namespaceOf(r)}/${nameOf(r)}`;
