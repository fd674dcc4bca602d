/**
 * Applying a stack's objects to a real API server and reading back what it said: server-side apply in
 * dependency order (Namespaces, CRDs, then what namespaced objects reference, custom resources last),
 * every error and every warning kept; Pods built from workload templates; and the two effects of
 * kube-controller-manager that admission depends on, which a bare API server lacks (see
 * {@link emulateControllers}).
 */
import type { ApiResponse, ApiServer, Identity, KubeObject } from "./apiserver";

/** The outcome of one object's apply (or dry-run create). */
export interface ApplyResult {
    /** `Kind/namespace/name`. */
    readonly ref: string;
    readonly status: number;
    /** The server's message when it refused the request. */
    readonly error?: string;
    readonly warnings: string[];
}

export function refOf(o: KubeObject): string {
    return [o.kind, o.metadata.namespace, o.metadata.name].filter(Boolean).join("/");
}

/** Apply order of a kind: cluster-level and referenced objects first, workloads after, custom resources last. */
const ORDER = [
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "ResourceQuota",
    "LimitRange",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "Role",
    "RoleBinding",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
];

/** The objects in apply order (stable within a kind). */
export function applyOrder(objects: readonly KubeObject[]): KubeObject[] {
    const rank = (o: KubeObject) => {
        const i = ORDER.indexOf(o.kind);
        return i >= 0 ? i : ORDER.length; // custom resources and anything else last
    };
    return objects
        .map((o, i) => ({ o, i }))
        .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
        .map((x) => x.o);
}

function resultOf(o: KubeObject, r: ApiResponse): ApplyResult {
    const ok = r.status >= 200 && r.status < 300;
    return { ref: refOf(o), status: r.status, error: ok ? undefined : String(r.body?.message ?? JSON.stringify(r.body)), warnings: r.warnings };
}

/** Server-side applies every object (in {@link applyOrder}) as `who`; one result per object. */
export async function applyAll(api: ApiServer, objects: readonly KubeObject[], who: Identity = {}): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    for (const o of applyOrder(objects)) results.push(resultOf(o, await api.apply(o, who)));
    return results;
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob), if it is one. */
export function podTemplateOf(o: KubeObject): { metadata?: Record<string, unknown>; spec: Record<string, unknown> } | undefined {
    const spec = o.spec as any;
    if (!spec) return undefined;
    if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(o.kind)) return spec.template;
    if (o.kind === "CronJob") return spec.jobTemplate?.spec?.template;
    return undefined;
}

/**
 * A Pod from each workload's template, in the workload's namespace, named after it. For a StatefulSet
 * the Pod gets what its controller adds: a volume per volumeClaimTemplate, bound to the claim of ordinal 0.
 */
export function podsFromTemplates(objects: readonly KubeObject[]): { workload: string; pod: KubeObject }[] {
    return objects.flatMap((o) => {
        const t = podTemplateOf(o);
        if (!t) return [];
        const meta = (t.metadata ?? {}) as Record<string, unknown>;
        const spec = JSON.parse(JSON.stringify(t.spec)) as Record<string, any>;
        if (o.kind === "StatefulSet") {
            const claims = ((o.spec as any).volumeClaimTemplates ?? []) as { metadata: { name: string } }[];
            const volumes = (spec.volumes ?? []) as { name: string }[];
            for (const c of claims) {
                if (!volumes.some((v) => v.name === c.metadata.name))
                    volumes.push({ name: c.metadata.name, persistentVolumeClaim: { claimName: `${c.metadata.name}-${o.metadata.name}-0` } } as any);
            }
            spec.volumes = volumes;
        }
        const pod: KubeObject = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
                name: `${o.metadata.name}-template-check`.slice(0, 63),
                namespace: o.metadata.namespace,
                labels: meta.labels,
                annotations: meta.annotations,
            },
            spec,
        };
        return [{ workload: refOf(o), pod }];
    });
}

/** Creates each workload's template Pod with `dryRun=All` (admission runs, nothing is stored), as the administrator. */
export async function dryRunTemplatePods(api: ApiServer, objects: readonly KubeObject[]): Promise<(ApplyResult & { workload: string })[]> {
    const out: (ApplyResult & { workload: string })[] = [];
    for (const { workload, pod } of podsFromTemplates(objects)) out.push({ workload, ...resultOf(pod, await api.create(pod, { dryRun: true })) });
    return out;
}

/**
 * What kube-controller-manager would have done by now, and admission depends on; the tier runs no
 * controller-manager, so the fixture does it as the administrator:
 * - the service-account controller creates the `default` ServiceAccount in every namespace (the
 *   ServiceAccount admission plugin refuses a Pod whose service account does not exist);
 * - the resource-quota controller fills in each ResourceQuota's `status` (`hard` from the spec, `used`
 *   zero here: nothing runs); the ResourceQuota admission plugin refuses Pods while the status is unknown.
 */
export async function emulateControllers(api: ApiServer, objects: readonly KubeObject[]): Promise<void> {
    for (const ns of objects.filter((o) => o.kind === "Namespace")) {
        const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns.metadata.name } };
        const r = await api.apply(sa, { fieldManager: "e2e-serviceaccount-controller" });
        if (r.status >= 300) throw new Error(`creating ServiceAccount default in ${ns.metadata.name}: ${r.status} ${r.body?.message}`);
    }
    for (const q of objects.filter((o) => o.kind === "ResourceQuota")) {
        const hard = ((q.spec as any)?.hard ?? {}) as Record<string, string>;
        const used = Object.fromEntries(Object.keys(hard).map((k) => [k, "0"]));
        const path = `${await api.objectPath(q)}/status`;
        const r = await api.request("PATCH", path, { body: { status: { hard, used } }, contentType: "application/merge-patch+json" });
        if (r.status >= 300) throw new Error(`setting the status of ${refOf(q)}: ${r.status} ${r.body?.message}`);
    }
}
