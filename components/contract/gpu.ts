/**
 * GPUs: the extended resource the NVIDIA device plugin advertises, the taint GPU nodes carry so that
 * only pods asking for GPUs land there, and the node label of GPU nodes (set by NVIDIA's GPU feature
 * discovery). ModelService renders them; the reliability pack's `gpu-scheduling` policy checks them.
 */

/** The NVIDIA device plugin's resource. */
export const GPU_RESOURCE = "nvidia.com/gpu";

/** The taint of GPU nodes (key and effect). */
export const GPU_TAINT = { key: "nvidia.com/gpu", effect: "NoSchedule" } as const;

/** Where GPU pods go unless the platform says otherwise: nodes labelled by GPU feature discovery. */
export const DEFAULT_GPU_NODE_SELECTOR: Readonly<Record<string, string>> = { "nvidia.com/gpu.present": "true" };

/** Most GPUs one model server may ask for (one node's). */
export const GPU_MAX_PER_POD = 8;
