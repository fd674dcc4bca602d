import { GPU_RESOURCE, GPU_TAINT } from "../../../../components/contract";
import { defineResourcePolicy } from "../../define";
import { containersOf } from "../../k8s";
import { checkPod, POD_APPLIES_TO, POD_TYPES } from "../security/podCommon";

/** GPU pods go to GPU nodes only, and only GPU pods may: the GPU taint is tolerated exactly by pods that ask for GPUs. */
export const gpuScheduling = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "gpu-scheduling",
        pack: "mlops-reliability",
        title: "GPU pods select GPU nodes; only they tolerate the GPU taint",
        description: `A pod whose containers ask for \`${GPU_RESOURCE}\` limits it (Kubernetes takes the request from the limit), selects nodes (\`nodeSelector\`) and tolerates the \`${GPU_TAINT.key}\` taint; a pod that asks for no GPU does not tolerate that taint (DaemonSets, which run on every node, excepted).`,
        rationale:
            "GPU nodes are tainted so that they run GPU work only. A GPU pod without the toleration never schedules; one without a node selector may wait on nodes of the wrong GPU type. A pod without GPUs that tolerates the taint takes a GPU node's CPU and memory, and the next GPU pod cannot start.",
        severity: "medium",
        remediation: `Use \`resources.gpu\` of ModelService (components/team/gpu.ts): it limits \`${GPU_RESOURCE}\`, selects the platform's GPU nodes and tolerates their taint. Remove a \`${GPU_TAINT.key}\` toleration from pods that ask for no GPU.`,
        controls: [{ framework: "SOC2", control: "A1.1" }],
        topics: ["kubernetes", "capacity"],
        protectsData: false,
        appliesTo: POD_APPLIES_TO,
    },
    config: {},
    types: POD_TYPES,
    check: ({ type, props }) =>
        checkPod(type, props, (pod) => {
            const containers = containersOf(pod.spec, ["container", "initContainer"]);
            const asks = (c: (typeof containers)[number]) => c.container.resources?.requests?.[GPU_RESOURCE] !== undefined || c.container.resources?.limits?.[GPU_RESOURCE] !== undefined;
            const gpu = containers.filter(asks);
            const tolerates = (pod.spec.tolerations ?? []).some((t: any) => t?.key === GPU_TAINT.key || (t?.operator === "Exists" && t?.key === undefined));
            if (gpu.length === 0) {
                // A DaemonSet's pod belongs on every node (node agents, exporters): tolerating every taint is its job.
                if (type === "kubernetes:apps/v1:DaemonSet") return [];
                return tolerates ? [`tolerates the GPU taint ${GPU_TAINT.key} but asks for no GPU: it may take a GPU node's room.`] : [];
            }
            const problems: string[] = [];
            for (const c of gpu) if (c.container.resources?.limits?.[GPU_RESOURCE] === undefined) problems.push(`${c.label} requests ${GPU_RESOURCE} without a limit.`);
            if (!tolerates) problems.push(`asks for GPUs but does not tolerate the GPU nodes' taint ${GPU_TAINT.key}: it never schedules.`);
            if (Object.keys(pod.spec.nodeSelector ?? {}).length === 0) problems.push("asks for GPUs but selects no nodes (nodeSelector): it may wait on nodes of another GPU type.");
            return problems;
        }),
});
