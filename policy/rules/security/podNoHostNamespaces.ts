import { definePodPolicy } from "./podCommon";

/** Pods do not share the node's network, PID or IPC namespaces. */
export const podNoHostNamespaces = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-no-host-namespaces",
        title: "Pods do not share host namespaces",
        description: "No pod sets `hostNetwork`, `hostPID` or `hostIPC` to true, and no container declares a `hostPort`.",
        rationale: "Host namespaces let a pod see and talk to every process and socket of the node, bypass NetworkPolicies and sniff other pods' traffic.",
        severity: "high",
        remediation: "Remove `hostNetwork`, `hostPID`, `hostIPC` and `hostPort`; expose ports through a Service.",
        controls: [
            { framework: "PSS", control: "baseline" },
            { framework: "CIS-K8S", control: "5.2.5" },
            { framework: "NIST-800-53", control: "SC-39" },
        ],
    },
    config: {},
    check: (pod) => {
        const problems = (["hostNetwork", "hostPID", "hostIPC"] as const).filter((f) => pod.spec[f] === true).map((f) => `the pod sets ${f}: true.`);
        for (const c of [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])]) {
            for (const p of c?.ports ?? []) if (p?.hostPort) problems.push(`container "${c.name}" binds hostPort ${p.hostPort}.`);
        }
        return problems;
    },
});
