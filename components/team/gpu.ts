/**
 * GPU placement of a model server: `resources.gpu` GPUs of the NVIDIA device plugin (request = limit, as
 * Kubernetes requires for extended resources), the GPU nodes' selector and the toleration of their taint
 * (platform.gpuNodes, or the defaults of contract/gpu.ts). Pods without GPUs get neither, so they never
 * take a GPU node's room.
 */
import type * as k8s from "@pulumi/kubernetes";
import { DEFAULT_GPU_NODE_SELECTOR, GPU_MAX_PER_POD, GPU_RESOURCE, GPU_TAINT } from "../contract";

/** Where the platform's GPU nodes are: their labels and taints (`platform.gpuNodes`). */
export interface GpuNodes {
    /** Labels every GPU node has. Default `nvidia.com/gpu.present: "true"`. */
    readonly nodeSelector?: Readonly<Record<string, string>>;
    /** Taints of the GPU nodes to tolerate. Default `nvidia.com/gpu` (NoSchedule). */
    readonly tolerations?: readonly k8s.types.input.core.v1.Toleration[];
}

/** Problems of `resources.gpu` (empty when fine). */
export function gpuProblems(gpu: unknown): string[] {
    if (gpu === undefined) return [];
    if (!Number.isInteger(gpu) || (gpu as number) < 1 || (gpu as number) > GPU_MAX_PER_POD)
        return [`resources.gpu must be a whole number of GPUs from 1 to ${GPU_MAX_PER_POD}, got ${String(gpu)}`];
    return [];
}

/** The container's resources with `gpu` GPUs requested and limited. */
export function withGpu(resources: k8s.types.input.core.v1.ResourceRequirements, gpu: number | undefined): k8s.types.input.core.v1.ResourceRequirements {
    if (!gpu) return resources;
    const r = resources as { requests: Record<string, unknown>; limits: Record<string, unknown> };
    return { requests: { ...r.requests, [GPU_RESOURCE]: String(gpu) }, limits: { ...r.limits, [GPU_RESOURCE]: String(gpu) } };
}

/** The pod's node selector and tolerations for GPUs (empty without GPUs). */
export function gpuPlacement(
    gpu: number | undefined,
    nodes: GpuNodes | undefined,
): { nodeSelector?: Record<string, string>; tolerations?: k8s.types.input.core.v1.Toleration[] } {
    if (!gpu) return {};
    return {
        nodeSelector: { ...(nodes?.nodeSelector ?? DEFAULT_GPU_NODE_SELECTOR) },
        tolerations: [...(nodes?.tolerations ?? [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }])],
    };
}
