import { defineResourcePolicy } from "../../define";
import { checkPod, POD_APPLIES_TO, POD_TYPES } from "./podCommon";

/** Pods mount no hostPath volumes. */
export const podNoHostPath = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "pod-no-host-path",
        pack: "mlops-security",
        title: "Pods mount no host paths",
        description: "No pod declares a `hostPath` volume.",
        rationale: "A hostPath volume exposes the node's filesystem (kubelet credentials, the container runtime socket, other pods' data) to the container.",
        severity: "high",
        remediation: "Use emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead of hostPath.",
        controls: [
            { framework: "PSS", control: "baseline" },
            { framework: "CIS-K8S", control: "5.2.12" },
            { framework: "NIST-800-53", control: "AC-3" },
        ],
        topics: ["pod-security", "kubernetes"],
        protectsData: false,
        appliesTo: POD_APPLIES_TO,
    },
    config: {},
    types: POD_TYPES,
    check: ({ type, props }) =>
        checkPod(type, props, (pod) =>
            (Array.isArray(pod.spec.volumes) ? pod.spec.volumes : [])
                .filter((v: any) => v?.hostPath)
                .map((v: any) => `volume "${v.name}" mounts the host path ${v.hostPath.path ?? "(unset)"}.`),
        ),
});
