import { definePodPolicy, eachContainer, effective } from "./podCommon";

/** Containers run as a non-root user. */
export const podRunAsNonRoot = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-run-as-non-root",
        title: "Containers run as non-root",
        description: "Every container has `runAsNonRoot: true` (its own or the pod's securityContext) and no `runAsUser: 0`.",
        rationale: "Root in a container is root on the node's kernel namespaces; a container escape or a writable host mount then means node compromise.",
        severity: "high",
        remediation: "Set `securityContext.runAsNonRoot: true` and a non-zero `runAsUser` on the pod, and build images with a numeric non-root USER.",
        controls: [
            { framework: "PSS", control: "restricted" },
            { framework: "CIS-K8S", control: "5.2.7" },
            { framework: "NIST-800-53", control: "AC-6" },
        ],
    },
    config: {},
    check: (pod) =>
        eachContainer(pod, (c) => {
            const problems: string[] = [];
            if (effective(pod, c, "runAsNonRoot") !== true) problems.push(`${c.label} does not set securityContext.runAsNonRoot: true.`);
            if (effective(pod, c, "runAsUser") === 0) problems.push(`${c.label} runs as user 0 (root).`);
            return problems;
        }),
});
