import { defineStackPolicy, evaluateEach, skip, type StackSubject } from "../../framework/define";
import { isPodType, kindOf, podTemplate, selects } from "../../readers/k8s";
import { isUnknownValueError } from "../../framework/unknowns";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const DIRECTIONS = ["Ingress", "Egress"] as const;
type Direction = (typeof DIRECTIONS)[number];

const namespaceOf = (r: StackSubject): string => r.props.metadata?.namespace ?? "default";
const ref = (r: StackSubject): string => `${kindOf(r.type)} ${namespaceOf(r)}/${r.props.metadata?.name ?? r.name}`;

/** The directions a NetworkPolicy isolates: its `policyTypes`, or as Kubernetes defaults them (Ingress; Egress when it has egress rules). */
export function policyTypesOf(spec: Record<string, any> | undefined): Direction[] {
    const declared = spec?.policyTypes;
    if (Array.isArray(declared) && declared.length > 0) return DIRECTIONS.filter((d) => declared.includes(d));
    return Array.isArray(spec?.egress) && spec.egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

const rulesOf = (spec: Record<string, any> | undefined, d: Direction): unknown[] => {
    const rules = spec?.[d === "Ingress" ? "ingress" : "egress"];
    return Array.isArray(rules) ? rules : [];
};

/** Does the selector select every pod of the namespace (`{}`)? */
export function selectsAllPods(selector: Record<string, any> | undefined): boolean {
    if (!selector || typeof selector !== "object") return false;
    return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** Is the policy a default deny of direction `d`: every pod, isolated in `d`, with no rule that lets anything through? */
export function deniesByDefault(spec: Record<string, any> | undefined, d: Direction): boolean {
    return selectsAllPods(spec?.podSelector) && policyTypesOf(spec).includes(d) && rulesOf(spec, d).length === 0;
}

/** Does the policy allow something: a rule in a direction it isolates? */
export function allowsTraffic(spec: Record<string, any> | undefined): boolean {
    return policyTypesOf(spec).some((d) => rulesOf(spec, d).length > 0);
}

/** `fn(r)`, or undefined when it needs a value unknown during preview. */
function known<T>(r: StackSubject, fn: (r: StackSubject) => T): T | undefined {
    try {
        return fn(r);
    } catch (e) {
        if (isUnknownValueError(e)) return undefined;
        throw e;
    }
}

/**
 * Every namespace the stack creates that runs pods denies traffic by default, and every workload there is
 * selected by a NetworkPolicy that allows it some: the NSA/CISA guide's network separation, joined over
 * the Namespaces, the workloads and the NetworkPolicies of one stack.
 */
export const networkPolicyCoverage = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "network-policy-coverage",
        pack: "mlops-security",
        title: "Namespaces with workloads deny traffic by default; each workload has its allows",
        description:
            "For every workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) in a namespace the stack creates: the namespace has a default-deny NetworkPolicy for Ingress and for Egress (`podSelector: {}`, the direction in `policyTypes`, no rule for it), and some NetworkPolicy with a rule selects the workload's pods. Workloads in namespaces another stack creates are judged there: a team stack's run in serving namespaces the platform stack creates with their policies.",
        rationale:
            "A pod no NetworkPolicy selects accepts connections from any pod of the cluster and opens any connection, to the instance metadata service and the internet included: one compromised workload reaches every model, the tracking server and its database. Default deny makes each allow a reviewed decision; a workload no allow selects has been forgotten by whoever wrote the allows (it can reach nothing, not even DNS).",
        severity: "high",
        remediation:
            "Create a `default-deny` NetworkPolicy (`podSelector: {}`, `policyTypes: [Ingress, Egress]`, no rules) in the namespace with its workloads, and narrow allows selecting each workload's pods (ServingNamespace and MlflowTracking are the examples).",
        controls: [
            { framework: "NSA-CISA-K8S", control: "Network separation" },
            { framework: "CIS-K8S", control: "5.3.2" },
            { framework: "NIST-800-53", control: "SC-7" },
        ],
        topics: ["network", "kubernetes"],
        protectsData: true,
        appliesTo: [NAMESPACE, NETWORK_POLICY, "Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob"],
        limitations:
            "Reads the NetworkPolicy objects, not what a CNI enforces: the cluster's network plugin must enforce NetworkPolicies (the VPC CNI's network policy agent, Calico or Cilium). Pods in the host's network (node-exporter) are not subject to NetworkPolicies at all.",
    },
    config: {},
    check: (resources) => {
        const created = new Set<string>();
        let unnamed = 0;
        for (const ns of resources.filter((r) => r.type === NAMESPACE)) {
            const name = known(ns, (r) => r.props.metadata?.name);
            if (typeof name === "string") created.add(name);
            else unnamed++;
        }
        const policies = resources.filter((r) => r.type === NETWORK_POLICY);
        return evaluateEach(
            resources.filter((r) => isPodType(r.type)),
            (w) => {
                const ns = namespaceOf(w);
                if (!created.has(ns)) {
                    if (unnamed > 0) skip(`${unnamed} namespace(s) of the stack have no name known before deployment: ${ns} may be one of them`);
                    return [];
                }
                // Every policy of the namespace, read in full: one unknown namespace or spec makes the workload unjudgeable.
                const own = policies.filter((p) => namespaceOf(p) === ns).map((p) => p.props.spec ?? {});
                const labels = podTemplate(w.type, w.props)?.metadata?.labels ?? {};
                const problems: string[] = [];
                const open = DIRECTIONS.filter((d) => !own.some((spec) => deniesByDefault(spec, d)));
                if (open.length > 0) {
                    problems.push(
                        `${ref(w)} runs in namespace ${ns}, which has no default-deny NetworkPolicy for ${open.join(" and ")} (podSelector {}, no rules): pods no other policy selects accept and open any connection.`,
                    );
                }
                if (!own.some((spec) => allowsTraffic(spec) && selects(spec.podSelector, labels))) {
                    problems.push(`${ref(w)} is selected by no NetworkPolicy that allows it traffic: add a narrow allow for what its pods need.`);
                }
                return problems;
            },
        );
    },
});
