import { definePodPolicy } from "./podCommon";

/** Pods mount no hostPath volumes. */
export const podNoHostPath = definePodPolicy<Record<string, never>>({
    meta: {
        name: "pod-no-host-path",
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
    },
    config: {},
    check: (pod) =>
        (Array.isArray(pod.spec.volumes) ? pod.spec.volumes : [])
            .filter((v: any) => v?.hostPath)
            .map((v: any) => `volume "${v.name}" mounts the host path ${v.hostPath.path ?? "(unset)"}.`),
});
