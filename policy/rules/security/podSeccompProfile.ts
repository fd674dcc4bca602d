import { definePodPolicy, eachContainer, effective } from "./podCommon";

const ALLOWED = ["RuntimeDefault", "Localhost"];

/** Containers run under a seccomp profile. */
export const podSeccompProfile = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-seccomp-profile",
        title: "Containers run with a seccomp profile",
        description:
            "Every container runs with `seccompProfile.type` `RuntimeDefault` or `Localhost` (its own or the pod's); `Unconfined` or unset is a violation.",
        rationale: "Seccomp removes the rarely used system calls most kernel exploits need; without it a container may call any of the kernel's ~400 syscalls.",
        severity: "medium",
        remediation: 'Set `securityContext.seccompProfile: { type: "RuntimeDefault" }` on the pod.',
        controls: [
            { framework: "PSS", control: "restricted" },
            { framework: "CIS-K8S", control: "5.7.2" },
            { framework: "NIST-800-53", control: "SC-39" },
        ],
    },
    config: {},
    check: (pod) =>
        eachContainer(pod, (c) => {
            const profile = effective(pod, c, "seccompProfile")?.type;
            return ALLOWED.includes(profile)
                ? undefined
                : `${c.label} runs with seccomp profile "${profile ?? "unset"}"; expected RuntimeDefault or Localhost.`;
        }),
});
