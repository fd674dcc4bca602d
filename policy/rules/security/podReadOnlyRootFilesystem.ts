import { celMessage } from "../../framework/admission";
const READ_ONLY = "has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem";
import { definePodPolicy, eachContainer } from "./podCommon";

/** Containers mount their root filesystem read-only. */
export const podReadOnlyRootFilesystem = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-read-only-root-filesystem",
        title: "Container root filesystems are read-only",
        description: "Every container sets `securityContext.readOnlyRootFilesystem: true`; writable paths are explicit volumes (emptyDir).",
        rationale:
            "An attacker who gets code execution cannot drop tools or modify the application (or a model file baked into the image) when the image filesystem is read-only.",
        severity: "medium",
        remediation: "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` at each path the process writes (/tmp, caches).",
        controls: [
            { framework: "NSA-CISA-K8S", control: "immutable container file systems" },
            { framework: "NIST-800-53", control: "SI-7" },
            { framework: "NIST-800-53", control: "CM-7" },
        ],
    },
    config: {},
    admission: {
        kinds: "workloads",
        validations: () => [
            {
                expression: `variables.containers.all(c, ${READ_ONLY})`,
                messageExpression: celMessage(
                    "pod-read-only-root-filesystem",
                    `': container(s) ' + variables.containers.filter(c, !(${READ_ONLY})).map(c, c.name).join(', ') + ' do not set securityContext.readOnlyRootFilesystem: true.'`,
                ),
            },
        ],
    },
    check: (pod) =>
        eachContainer(pod, (c) =>
            c.container.securityContext?.readOnlyRootFilesystem === true ? undefined : `${c.label} does not set securityContext.readOnlyRootFilesystem: true.`,
        ),
});
