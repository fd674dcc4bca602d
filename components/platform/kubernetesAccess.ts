/**
 * The Kubernetes API access the Pulumi Kubernetes provider (the pinned @pulumi/kubernetes 4.34.2) needs
 * to create, update, delete and await an object of a kind, in the object's namespace. Facts read from
 * the provider's Go source (pulumi/pulumi-kubernetes, provider/pkg/await):
 *
 * - On the object itself: server-side apply is a PATCH (`patch`, and `create` when the object is new; the
 *   client-side mode POSTs, `create`); reads, refreshes and the update's read of the live object are
 *   GETs (`get`); deletion is a DELETE (`delete`) followed by a watch or an informer on the kind until
 *   the object is gone (`list`, `watch`); await logic and deletion use informers on the kind in the
 *   object's namespace (`list`, `watch`).
 * - While it awaits some kinds it watches related objects in the same namespace with informers (`list`,
 *   `watch`): a Deployment its ReplicaSets, Pods and PersistentVolumeClaims (deployment.go); a
 *   StatefulSet its Pods (statefulset.go); a Job its Pods (job.go); a Service its Endpoints (service.go:
 *   core/v1 Endpoints, not EndpointSlices). Informers are namespaced (informers/factory.go ForNamespace).
 *
 * The deployer Role of a team namespace (servingNamespace.ts) must allow all of it for every kind a team
 * stack creates; a test checks that on the Role's rules and the e2e tier on a real API server.
 */
import type * as k8s from "@pulumi/kubernetes";

/** Verbs on one resource of one API group ("" is the core group). */
export interface ResourceAccess {
    readonly group: string;
    readonly resource: string;
    readonly verbs: readonly string[];
}

/** Verbs the provider uses on every object it manages. (`update` is not among them: updates are PATCHes.) */
export const PROVIDER_OBJECT_VERBS = ["get", "list", "watch", "create", "patch", "delete"] as const;

/** Verbs of an informer (list, then watch). */
const INFORMER = ["list", "watch"] as const;

/** REST resource of the kinds the platform and team stacks create, and of those the provider watches. */
export const KIND_RESOURCES: Readonly<Record<string, { readonly group: string; readonly resource: string }>> = {
    ConfigMap: { group: "", resource: "configmaps" },
    Endpoints: { group: "", resource: "endpoints" },
    LimitRange: { group: "", resource: "limitranges" },
    Namespace: { group: "", resource: "namespaces" },
    PersistentVolumeClaim: { group: "", resource: "persistentvolumeclaims" },
    Pod: { group: "", resource: "pods" },
    ResourceQuota: { group: "", resource: "resourcequotas" },
    Secret: { group: "", resource: "secrets" },
    Service: { group: "", resource: "services" },
    ServiceAccount: { group: "", resource: "serviceaccounts" },
    Deployment: { group: "apps", resource: "deployments" },
    ReplicaSet: { group: "apps", resource: "replicasets" },
    StatefulSet: { group: "apps", resource: "statefulsets" },
    HorizontalPodAutoscaler: { group: "autoscaling", resource: "horizontalpodautoscalers" },
    CronJob: { group: "batch", resource: "cronjobs" },
    Job: { group: "batch", resource: "jobs" },
    NetworkPolicy: { group: "networking.k8s.io", resource: "networkpolicies" },
    PodDisruptionBudget: { group: "policy", resource: "poddisruptionbudgets" },
    Role: { group: "rbac.authorization.k8s.io", resource: "roles" },
    RoleBinding: { group: "rbac.authorization.k8s.io", resource: "rolebindings" },
    PodMonitor: { group: "monitoring.coreos.com", resource: "podmonitors" },
    PrometheusRule: { group: "monitoring.coreos.com", resource: "prometheusrules" },
    ServiceMonitor: { group: "monitoring.coreos.com", resource: "servicemonitors" },
    HTTPRoute: { group: "gateway.networking.k8s.io", resource: "httproutes" },
};

/** Related kinds the provider watches (list, watch) while it awaits an object of a kind. */
export const PROVIDER_AWAIT_WATCHES: Readonly<Record<string, readonly string[]>> = {
    Deployment: ["ReplicaSet", "Pod", "PersistentVolumeClaim"],
    StatefulSet: ["Pod"],
    Job: ["Pod"],
    Service: ["Endpoints"],
};

/** The REST resource of a kind; throws for a kind not in {@link KIND_RESOURCES} (add it there). */
export function kindResource(kind: string): { group: string; resource: string } {
    const r = KIND_RESOURCES[kind];
    if (!r) throw new Error(`kindResource: no REST resource known for kind ${kind}; add it to KIND_RESOURCES in components/platform/kubernetesAccess.ts`);
    return r;
}

/** What the provider needs, in the object's namespace, to create, update, delete and await an object of `kind`. */
export function providerAccessNeeds(kind: string): ResourceAccess[] {
    return [
        { ...kindResource(kind), verbs: [...PROVIDER_OBJECT_VERBS] },
        ...(PROVIDER_AWAIT_WATCHES[kind] ?? []).map((related) => ({ ...kindResource(related), verbs: [...INFORMER] })),
    ];
}

/** Whether RBAC rules allow `verb` on `group`/`resource` (wildcards honoured, as the RBAC authorizer does). */
export function rulesAllow(rules: readonly k8s.types.input.rbac.v1.PolicyRule[], group: string, resource: string, verb: string): boolean {
    const has = (list: unknown, v: string) => Array.isArray(list) && (list.includes(v) || list.includes("*"));
    return rules.some((r) => has(r.apiGroups, group) && has(r.resources, resource) && has(r.verbs, verb));
}
