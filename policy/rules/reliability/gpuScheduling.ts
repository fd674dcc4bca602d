import { GPU_RESOURCE, GPU_TAINT } from "../../../components/contract";
import { celMessage, celString } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { containersOf } from "../../readers/k8s";
import { checkPod, POD_APPLIES_TO, POD_TYPES } from "../security/podCommon";

/** Does a toleration tolerate the GPU taint: its key, or an empty key with `Exists` (which tolerates every taint)? */
export function toleratesGpuTaint(t: any): boolean {
    const key = t?.key ?? "";
    return key === GPU_TAINT.key || (key === "" && t?.operator === "Exists");
}

const GPU = celString(GPU_RESOURCE);
/** CEL: container `c` asks for GPUs (requests or limits). */
const asksCel = (c: string) =>
    `has(${c}.resources) && ((has(${c}.resources.requests) && ${GPU} in ${c}.resources.requests) || (has(${c}.resources.limits) && ${GPU} in ${c}.resources.limits))`;
/** CEL: the pod tolerates the GPU taint (as {@link toleratesGpuTaint}). */
const TOLERATES_CEL = `has(variables.podSpec.tolerations) && variables.podSpec.tolerations.exists(t, (has(t.key) ? t.key : '') == ${celString(GPU_TAINT.key)} || ((has(t.key) ? t.key : '') == '' && has(t.operator) && t.operator == 'Exists'))`;
const ASKS_CEL = `variables.containers.exists(c, ${asksCel("c")})`;

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
    admission: {
        kinds: "workloads",
        validations: () => [
            {
                expression: `variables.containers.all(c, !(${asksCel("c")}) || (has(c.resources.limits) && ${GPU} in c.resources.limits))`,
                messageExpression: celMessage("gpu-scheduling", `' requests ${GPU_RESOURCE} without a limit.'`),
            },
            {
                expression: `!(${ASKS_CEL}) || (${TOLERATES_CEL})`,
                messageExpression: celMessage(
                    "gpu-scheduling",
                    `' asks for GPUs but does not tolerate the GPU nodes\\' taint ${GPU_TAINT.key}: it never schedules.'`,
                ),
            },
            {
                expression: `!(${ASKS_CEL}) || (has(variables.podSpec.nodeSelector) && size(variables.podSpec.nodeSelector) > 0)`,
                messageExpression: celMessage(
                    "gpu-scheduling",
                    "' asks for GPUs but selects no nodes (nodeSelector): it may wait on nodes of another GPU type.'",
                ),
            },
            {
                expression: `${ASKS_CEL} || object.kind == 'DaemonSet' || !(${TOLERATES_CEL})`,
                messageExpression: celMessage(
                    "gpu-scheduling",
                    `' tolerates the GPU taint ${GPU_TAINT.key} but asks for no GPU: it may take a GPU node\\'s room.'`,
                ),
            },
        ],
    },
    check: ({ type, props }) =>
        checkPod(type, props, (pod) => {
            const containers = containersOf(pod.spec, ["container", "initContainer"]);
            const asks = (c: (typeof containers)[number]) =>
                c.container.resources?.requests?.[GPU_RESOURCE] !== undefined || c.container.resources?.limits?.[GPU_RESOURCE] !== undefined;
            const gpu = containers.filter(asks);
            const tolerates = (pod.spec.tolerations ?? []).some(toleratesGpuTaint);
            if (gpu.length === 0) {
                // A DaemonSet's pod belongs on every node (node agents, exporters): tolerating every taint is its job.
                if (type === "kubernetes:apps/v1:DaemonSet") return [];
                return tolerates ? [`tolerates the GPU taint ${GPU_TAINT.key} but asks for no GPU: it may take a GPU node's room.`] : [];
            }
            const problems: string[] = [];
            for (const c of gpu)
                if (c.container.resources?.limits?.[GPU_RESOURCE] === undefined) problems.push(`${c.label} requests ${GPU_RESOURCE} without a limit.`);
            if (!tolerates) problems.push(`asks for GPUs but does not tolerate the GPU nodes' taint ${GPU_TAINT.key}: it never schedules.`);
            if (Object.keys(pod.spec.nodeSelector ?? {}).length === 0)
                problems.push("asks for GPUs but selects no nodes (nodeSelector): it may wait on nodes of another GPU type.");
            return problems;
        }),
});
