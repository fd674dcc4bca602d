import { definePodPolicy, eachContainer } from "./podCommon";

/** Containers cannot gain privileges (setuid binaries, file capabilities). */
export const podNoPrivilegeEscalation = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-no-privilege-escalation",
        title: "Containers cannot escalate privileges",
        description: "Every container sets `securityContext.allowPrivilegeEscalation: false`.",
        rationale:
            "With escalation allowed, a process can gain more privileges than its parent through setuid binaries or file capabilities, undoing runAsNonRoot and dropped capabilities.",
        severity: "high",
        remediation: "Set `securityContext.allowPrivilegeEscalation: false` on every container and init container.",
        controls: [
            { framework: "PSS", control: "restricted" },
            { framework: "CIS-K8S", control: "5.2.6" },
            { framework: "NIST-800-53", control: "AC-6" },
        ],
    },
    config: {},
    check: (pod) =>
        eachContainer(pod, (c) =>
            c.container.securityContext?.allowPrivilegeEscalation === false
                ? undefined
                : `${c.label} does not set securityContext.allowPrivilegeEscalation: false.`,
        ),
});
