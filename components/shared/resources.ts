/**
 * Container resources as both sides give them: the platform's stack config (stacks/config) for its own
 * workloads, a team's ModelService and BatchInference args for theirs. Kubernetes quantities as strings.
 */

/** A Kubernetes quantity: `500m`, `2`, `512Mi`, `4Gi`. */
export const K8S_QUANTITY = /^(\d+(\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** Requests and limits of one container. */
export interface ResourceSettings {
    /** CPU the scheduler reserves for the container. */
    readonly cpuRequest: string;
    /** Memory the scheduler reserves for the container. */
    readonly memoryRequest: string;
    /** CPU the container is throttled at. */
    readonly cpuLimit: string;
    /** Memory the container is killed at (OOM). */
    readonly memoryLimit: string;
    /** Local disk (logs, writable layer, emptyDir scratch) the scheduler reserves; default per workload. */
    readonly ephemeralStorageRequest?: string | undefined;
    /** Local disk the pod is evicted at; default per workload: its scratch volumes' size limits plus 256Mi. */
    readonly ephemeralStorageLimit?: string | undefined;
}

const QUANTITY_SUFFIX: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** The number a Kubernetes quantity stands for (`500m` -> 0.5, `2Gi` -> 2147483648). */
export function quantityValue(q: string): number {
    const m = K8S_QUANTITY.exec(q);
    if (!m) throw new Error(`not a Kubernetes quantity: "${q}"`);
    return Number(m[1]) * QUANTITY_SUFFIX[m[3] ?? ""];
}
