/**
 * Kubernetes building blocks every component uses alike: requests and limits, the `restricted` Pod
 * Security Standard contexts, and common network-policy peers. Pure functions.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { ResourceSettings } from "./config";

/** Requests and limits of a container. */
export function containerResources(r: ResourceSettings): k8s.types.input.core.v1.ResourceRequirements {
    return { requests: { cpu: r.cpuRequest, memory: r.memoryRequest }, limits: { cpu: r.cpuLimit, memory: r.memoryLimit } };
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
