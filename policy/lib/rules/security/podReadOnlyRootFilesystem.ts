import { defineResourcePolicy } from "../../define";
import { checkPod, eachContainer, POD_APPLIES_TO, POD_TYPES } from "./podCommon";

/** Containers mount their root filesystem read-only. */
export const podReadOnlyRootFilesystem = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "pod-read-only-root-filesystem",
        pack: "mlops-security",
        title: "Container root filesystems are read-only",
        description: "Every container sets `securityContext.readOnlyRootFilesystem: true`; writable paths are explicit volumes (emptyDir).",
        rationale: "An attacker who gets code execution cannot drop tools or modify the application (or a model file baked into the image) when the image filesystem is read-only.",
        severity: "medium",
        remediation: "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` at each path the process writes (/tmp, caches).",
        controls: [
            { framework: "NSA-CISA-K8S", control: "immutable container file systems" },
            { framework: "NIST-800-53", control: "SI-7" },
            { framework: "NIST-800-53", control: "CM-7" },
        ],
        topics: ["pod-security", "kubernetes"],
        protectsData: false,
        appliesTo: POD_APPLIES_TO,
    },
    config: {},
    types: POD_TYPES,
    check: ({ type, props }) =>
        checkPod(type, props, (pod) =>
            eachContainer(pod, (c) =>
                c.container.securityContext?.readOnlyRootFilesystem === true ? undefined : `${c.label} does not set securityContext.readOnlyRootFilesystem: true.`,
            ),
        ),
});
