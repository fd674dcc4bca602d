import { definePodPolicy, eachContainer } from "./podCommon";

/** Containers drop all capabilities and add back only allowed ones. */
export const podCapabilitiesRestricted = definePodPolicy<{ allowedCapabilities: string[] }>({
    meta: {
        name: "pod-capabilities-restricted",
        title: "Containers drop all capabilities",
        description: "Every container drops `ALL` capabilities and adds back none but the allowed ones (`NET_BIND_SERVICE`).",
        rationale:
            "The default capability set includes NET_RAW, CHOWN, SETUID and others that container breakouts rely on; an inference server or batch job needs none of them.",
        severity: "medium",
        remediation: 'Set `securityContext.capabilities: { drop: ["ALL"] }` on every container; add `NET_BIND_SERVICE` only to bind a port below 1024.',
        controls: [
            { framework: "PSS", control: "restricted" },
            { framework: "CIS-K8S", control: "5.2.9" },
            { framework: "NIST-800-53", control: "CM-7" },
        ],
    },
    config: {
        allowedCapabilities: { type: "array", items: { type: "string" }, default: ["NET_BIND_SERVICE"], description: "Capabilities a container may add back." },
    },
    check: (pod, config) =>
        eachContainer(pod, (c) => {
            const caps = c.container.securityContext?.capabilities ?? {};
            const problems: string[] = [];
            const drop: string[] = Array.isArray(caps.drop) ? caps.drop : [];
            if (!drop.includes("ALL")) problems.push(`${c.label} does not drop ALL capabilities.`);
            const extra = (Array.isArray(caps.add) ? (caps.add as string[]) : []).filter((a) => !config.allowedCapabilities.includes(a));
            if (extra.length > 0)
                problems.push(`${c.label} adds capabilities ${extra.join(", ")}; allowed: ${config.allowedCapabilities.join(", ") || "none"}.`);
            return problems;
        }),
});
