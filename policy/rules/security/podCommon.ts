/** Shared by the pod policies: the pod template of a workload and the containers' effective settings. */
import type { AdmissionDefinition } from "../../framework/admission";
import { type ConfigSchemaOf, defineResourcePolicy, type ResourcePolicyFactory } from "../../framework/define";
import { containersOf, type ContainerKind, type ContainerRef, objectRef, podTemplate, POD_TYPES, type PodTemplate } from "../../readers/k8s";
import type { PolicyMetadata } from "../../framework/types";

export { POD_TYPES };

/** Runs `fn` on the workload's pod template, prefixing messages with the object (`Deployment mlflow/mlflow: ...`). */
export function checkPod(type: string, props: Record<string, any>, fn: (pod: PodTemplate) => string[]): string[] {
    const pod = podTemplate(type, props);
    if (!pod) return [];
    const ref = objectRef(type, props);
    return fn(pod).map((m) => `${ref}: ${m}`);
}

/** Runs `fn` on every container of the pod (all kinds unless given). */
export function eachContainer(pod: PodTemplate, fn: (c: ContainerRef) => string | string[] | undefined, kinds?: readonly ContainerKind[]): string[] {
    return containersOf(pod.spec, kinds).flatMap((c) => {
        const r = fn(c);
        return r === undefined ? [] : Array.isArray(r) ? r : [r];
    });
}

/** A container security setting, falling back to the pod's (`runAsNonRoot`, `seccompProfile`, `runAsUser`). */
export function effective(pod: PodTemplate, c: ContainerRef, field: string): any {
    const own = c.container.securityContext?.[field];
    return own !== undefined ? own : pod.spec.securityContext?.[field];
}

/** Common metadata of the pod security policies. */
export const POD_APPLIES_TO = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"].map((k) => `${k} (pod template)`);

/** What a pod policy declares: its metadata without what every pod policy shares, config, and a check of the pod. */
export interface PodPolicyDefinition<C> {
    /** `pack` is mlops-security and `appliesTo` every workload kind; `topics` default to pod-security, kubernetes; `protectsData` to false. */
    readonly meta: Omit<PolicyMetadata, "pack" | "appliesTo" | "topics" | "protectsData"> & Partial<Pick<PolicyMetadata, "topics" | "protectsData">>;
    readonly config: ConfigSchemaOf<C>;
    /** Messages about the pod template (the object is prefixed), `[]` when compliant. */
    readonly check: (pod: PodTemplate, config: C) => string[];
    /** The rule for the cluster's admission over workloads, when there is one (Pod Security admission covers the others). */
    readonly admission?: AdmissionDefinition<C>;
}

/** A security policy over the pod template of every workload kind ({@link POD_TYPES}). */
export function definePodPolicy<C extends object>(def: PodPolicyDefinition<C>): ResourcePolicyFactory<C> {
    return defineResourcePolicy<C>({
        meta: { topics: ["pod-security", "kubernetes"], protectsData: false, ...def.meta, pack: "mlops-security", appliesTo: POD_APPLIES_TO },
        config: def.config,
        types: POD_TYPES,
        check: ({ type, props }, config) => checkPod(type, props, (pod) => def.check(pod, config)),
        admission: def.admission,
    });
}
