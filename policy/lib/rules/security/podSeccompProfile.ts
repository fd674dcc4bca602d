import { defineResourcePolicy } from "../../define";
import { checkPod, eachContainer, effective, POD_APPLIES_TO, POD_TYPES } from "./podCommon";

const ALLOWED = ["RuntimeDefault", "Localhost"];

/** Containers run under a seccomp profile. */
export const podSeccompProfile = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "pod-seccomp-profile",
        pack: "mlops-security",
        title: "Containers run with a seccomp profile",
        description: "Every container runs with `seccompProfile.type` `RuntimeDefault` or `Localhost` (its own or the pod's); `Unconfined` or unset is a violation.",
        rationale: "Seccomp removes the rarely used system calls most kernel exploits need; without it a container may call any of the kernel's ~400 syscalls.",
        severity: "medium",
        remediation: "Set `securityContext.seccompProfile: { type: \"RuntimeDefault\" }` on the pod.",
        controls: [
            { framework: "PSS", control: "restricted" },
            { framework: "CIS-K8S", control: "5.7.2" },
            { framework: "NIST-800-53", control: "SC-39" },
        ],
        topics: ["pod-security", "kubernetes"],
        protectsData: false,
        appliesTo: POD_APPLIES_TO,
    },
    config: {},
    types: POD_TYPES,
    check: ({ type, props }) =>
        checkPod(type, props, (pod) =>
            eachContainer(pod, (c) => {
                const profile = effective(pod, c, "seccompProfile")?.type;
                return ALLOWED.includes(profile) ? undefined : `${c.label} runs with seccomp profile "${profile ?? "unset"}"; expected RuntimeDefault or Localhost.`;
            }),
        ),
});
