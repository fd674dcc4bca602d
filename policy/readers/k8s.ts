/**
 * Reading Kubernetes objects as Pulumi registers them (`kubernetes:<group>/<version>:<Kind>`, inputs
 * `{ apiVersion, kind, metadata, spec }`): which types are objects, where a workload keeps its pod
 * template, its containers, labels in the organisation's domain, and label selectors.
 */
import { ORG_KEY_PREFIX, ORG_LABELS, orgKey as contractKey } from "../../components/contract";

/** Types that are Kubernetes objects (not providers, Helm releases, YAML/Kustomize groups, patches, lists). */
export function isKubernetesObjectType(type: string): boolean {
    if (!type.startsWith("kubernetes:")) return false;
    if (/^kubernetes:(helm\.sh|yaml|kustomize)/.test(type)) return false;
    return !/(Patch|List)$/.test(type);
}

/** `Deployment` from `kubernetes:apps/v1:Deployment`. */
export function kindOf(type: string): string {
    return type.split(":")[2] ?? type;
}

/** Workload kinds whose pods run continuously (probes and replicas matter). */
export const LONG_RUNNING_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] as const;
/** Every kind that carries a pod template (or is a pod). */
export const POD_KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"] as const;

/** Types of pod-bearing objects (current API versions). */
export const POD_TYPES = [
    "kubernetes:core/v1:Pod",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
] as const;

/** Whether a resource type is a Kubernetes workload with a pod template (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob...). */
export function isPodType(type: string): boolean {
    return isKubernetesObjectType(type) && (POD_KINDS as readonly string[]).includes(kindOf(type));
}

/** `Deployment mlflow/mlflow`: how messages name an object. */
export function objectRef(type: string, props: Record<string, any>, fallbackName?: string): string {
    const meta = props?.metadata ?? {};
    const name = meta.name ?? fallbackName ?? "(unnamed)";
    return `${kindOf(type)} ${meta.namespace ? `${meta.namespace}/` : ""}${name}`;
}

export interface PodTemplate {
    /** The pod spec. */
    readonly spec: Record<string, any>;
    /** Labels and annotations of the pods. */
    readonly metadata: Record<string, any>;
    /** Where the pod spec sits, for messages: `spec.template.spec`. */
    readonly path: string;
}

/** The pod template of a workload (the pod itself for a Pod); undefined when there is none. */
export function podTemplate(type: string, props: Record<string, any>): PodTemplate | undefined {
    const kind = kindOf(type);
    if (kind === "Pod") return props.spec ? { spec: props.spec, metadata: props.metadata ?? {}, path: "spec" } : undefined;
    if (kind === "CronJob") {
        const t = props.spec?.jobTemplate?.spec?.template;
        return t?.spec ? { spec: t.spec, metadata: t.metadata ?? {}, path: "spec.jobTemplate.spec.template.spec" } : undefined;
    }
    if ((POD_KINDS as readonly string[]).includes(kind)) {
        const t = props.spec?.template;
        return t?.spec ? { spec: t.spec, metadata: t.metadata ?? {}, path: "spec.template.spec" } : undefined;
    }
    return undefined;
}

export type ContainerKind = "container" | "initContainer" | "ephemeralContainer";

export interface ContainerRef {
    readonly container: Record<string, any>;
    readonly kind: ContainerKind;
    /** `container "server"`, `initContainer "migrate"`. */
    readonly label: string;
}

/** Every container of a pod spec: containers, initContainers and ephemeralContainers. */
export function containersOf(
    spec: Record<string, any>,
    kinds: readonly ContainerKind[] = ["container", "initContainer", "ephemeralContainer"],
): ContainerRef[] {
    const out: ContainerRef[] = [];
    const lists: [ContainerKind, unknown][] = [
        ["initContainer", spec.initContainers],
        ["container", spec.containers],
        ["ephemeralContainer", spec.ephemeralContainers],
    ];
    for (const [kind, list] of lists) {
        if (!kinds.includes(kind) || !Array.isArray(list)) continue;
        list.forEach((c: Record<string, any>, i: number) => out.push({ container: c, kind, label: `${kind} "${c?.name ?? `#${i}`}"` }));
    }
    return out;
}

/** The key `mlops.<domain>/<suffix>` in `labels`, or with any `mlops.*` domain when `domain` is unknown. */
export function orgKey(labels: Record<string, unknown> | undefined, suffix: string, domain: string | undefined): string | undefined {
    if (!labels) return undefined;
    if (domain) {
        const key = contractKey(domain, suffix);
        return Object.prototype.hasOwnProperty.call(labels, key) ? key : undefined;
    }
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`^${escape(ORG_KEY_PREFIX)}[a-z0-9.-]+/${escape(suffix)}$`);
    return Object.keys(labels).find((k) => re.test(k));
}

/** The value of the org key `suffix` in `labels` (see {@link orgKey}). */
export function orgValue(labels: Record<string, unknown> | undefined, suffix: string, domain: string | undefined): unknown {
    const key = orgKey(labels, suffix, domain);
    return key === undefined ? undefined : labels![key];
}

/** How messages name an org key: `mlops.acme.io/team`, or `mlops.<domain>/team` when unknown. */
export function orgKeyName(suffix: string, domain: string | undefined): string {
    return contractKey(domain ?? "<domain>", suffix);
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Does `selector` select an object with `labels`? An empty selector selects everything (as in a
 * PodDisruptionBudget or NetworkPolicy); `undefined` selects nothing.
 */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
    if (!selector) return false;
    const l = labels ?? {};
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(l, e.key);
        const values = e.values ?? [];
        switch (e.operator) {
            case "In":
                if (!has || !values.includes(l[e.key])) return false;
                break;
            case "NotIn":
                if (has && values.includes(l[e.key])) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                return false;
        }
    }
    return true;
}

/** Does a Service's `spec.selector` (a plain map) select pods with `labels`? An empty or missing one selects none. */
export function serviceSelects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
    if (!selector || Object.keys(selector).length === 0) return false;
    return selects({ matchLabels: selector }, labels);
}

/** The organisation's model label on a workload (object or pod template labels), or undefined. */
export function modelName(type: string, props: Record<string, any>, domain: string | undefined): string | undefined {
    const own = orgValue(props?.metadata?.labels, ORG_LABELS.model, domain);
    if (typeof own === "string" && own) return own;
    const pod = podTemplate(type, props);
    const fromPod = orgValue(pod?.metadata?.labels, ORG_LABELS.model, domain);
    return typeof fromPod === "string" && fromPod ? fromPod : undefined;
}

/** Workload kinds that can serve or run a model. */
export const MODEL_WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"] as const;

export function isModelWorkloadType(type: string): boolean {
    return isKubernetesObjectType(type) && (MODEL_WORKLOAD_KINDS as readonly string[]).includes(kindOf(type));
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/;
const QUANTITY_FACTOR: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    Pi: 1024 ** 5,
};

/** The number a Kubernetes quantity stands for (`512Mi` -> 536870912, a number as itself); undefined when it is not one. */
export function quantityNumber(q: unknown): number | undefined {
    if (typeof q === "number") return q;
    if (typeof q !== "string") return undefined;
    const m = QUANTITY.exec(q.trim());
    return m ? Number(m[1]) * QUANTITY_FACTOR[m[2] ?? ""] : undefined;
}
