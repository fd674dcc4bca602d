/**
 * Kubernetes building blocks every component uses alike: requests and limits, the `restricted` Pod
 * Security Standard contexts, and common network-policy peers. Pure functions.
 */
import type * as k8s from "@pulumi/kubernetes";
import { quantityValue, type ResourceSettings } from "./resources";

/** Local disk (`ephemeral-storage`) a container is sized for: the scheduler counts the request; the kubelet evicts the pod past the limit. */
export interface EphemeralStorage {
    readonly request: string;
    readonly limit: string;
}

/** Room in every ephemeral-storage limit beyond the pod's scratch volumes: the container's logs and writable layer. */
export const EPHEMERAL_STORAGE_HEADROOM = "256Mi";

/**
 * The ephemeral storage of a container whose pod has disk-backed scratch volumes (emptyDir) of the given
 * size limits: `request` reserved, and a limit of the volumes' sizes plus {@link EPHEMERAL_STORAGE_HEADROOM},
 * so the kubelet evicts the pod no earlier than a volume reaches its own size limit.
 */
export function ephemeralStorage(request: string, scratchSizeLimits: readonly string[] = []): EphemeralStorage {
    const bytes = [...scratchSizeLimits, EPHEMERAL_STORAGE_HEADROOM].reduce((sum, q) => sum + quantityValue(q), 0);
    const limit = `${Math.ceil(bytes / 1024 ** 2)}Mi`;
    if (quantityValue(request) > quantityValue(limit)) throw new Error(`ephemeral-storage request ${request} is above its limit ${limit}`);
    return { request, limit };
}

/**
 * Requests and limits of a container: CPU, memory and ephemeral storage. The ephemeral storage is the
 * settings' (`ephemeralStorageRequest`, `ephemeralStorageLimit`) where set, else the workload's `storage`.
 */
export function containerResources(r: ResourceSettings, storage: EphemeralStorage): k8s.types.input.core.v1.ResourceRequirements {
    return {
        requests: { cpu: r.cpuRequest, memory: r.memoryRequest, "ephemeral-storage": r.ephemeralStorageRequest ?? storage.request },
        limits: { cpu: r.cpuLimit, memory: r.memoryLimit, "ephemeral-storage": r.ephemeralStorageLimit ?? storage.limit },
    };
}

/** Pod security context of the `restricted` Pod Security Standard, as a numeric non-root user. */
export function restrictedPodSecurityContext(uid: number): k8s.types.input.core.v1.PodSecurityContext {
    return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

/** Container security context of the `restricted` standard, with a read-only root filesystem. */
export function restrictedContainerSecurityContext(uid: number): k8s.types.input.core.v1.SecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** Egress to the cluster DNS (CoreDNS in kube-system) on port 53. */
export function dnsEgressRule(): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
    return {
        to: [{ namespaceSelector: { matchLabels: namespaceNameLabel("kube-system") }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
        ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
        ],
    };
}

/** Selects a namespace by name (the label Kubernetes sets on every namespace). */
export function namespaceNameLabel(namespace: string): Record<string, string> {
    return { "kubernetes.io/metadata.name": namespace };
}
