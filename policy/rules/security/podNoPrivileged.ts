import { definePodPolicy, eachContainer } from "./podCommon";

/** No container runs privileged. */
export const podNoPrivileged = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-no-privileged",
        title: "No privileged containers",
        description: "No container sets `securityContext.privileged: true`.",
        rationale: "A privileged container has every capability and access to all host devices: it is root on the node.",
        severity: "critical",
        remediation: "Remove `privileged: true`; grant the one capability needed instead, if any (and document an exception).",
        controls: [
            { framework: "PSS", control: "baseline" },
            { framework: "CIS-K8S", control: "5.2.2" },
            { framework: "NIST-800-53", control: "AC-6" },
        ],
    },
    config: {},
    check: (pod) => eachContainer(pod, (c) => (c.container.securityContext?.privileged === true ? `${c.label} runs privileged.` : undefined)),
});
