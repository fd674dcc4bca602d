import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { containersOf, quantityNumber } from "../../readers/k8s";
import { checkPod, eachContainer, POD_APPLIES_TO, POD_TYPES } from "../security/podCommon";

const RESOURCE = "ephemeral-storage";
/** CEL over container `c`: it requests and limits ephemeral storage. */
const SET = `has(c.resources) && has(c.resources.requests) && '${RESOURCE}' in c.resources.requests && has(c.resources.limits) && '${RESOURCE}' in c.resources.limits`;

/** Every container requests and limits ephemeral storage, and a pod's limits leave room for its disk-backed scratch volumes. */
export const containerEphemeralStorageSet = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "container-ephemeral-storage-set",
        pack: "mlops-reliability",
        title: "Containers request and limit ephemeral storage",
        description:
            "Every container (init containers included) sets `resources.requests` and `resources.limits` of `ephemeral-storage`, and the containers' limits add up to more than the pod's disk-backed `emptyDir` size limits.",
        rationale:
            "Without a request the scheduler does not count the node's local disk (logs, writable layers, emptyDir scratch), so it overcommits it; under disk pressure the kubelet evicts pods that exceed their requests first, and pods without limits can fill the node. A pod whose limits are below its scratch volumes is evicted before a volume reaches its own size limit.",
        severity: "medium",
        remediation:
            'Set `resources.requests["ephemeral-storage"]` and `resources.limits["ephemeral-storage"]` on every container: `containerResources(settings, ephemeralStorage(request, [emptyDir sizeLimits]))` in components/shared/k8sHelpers.ts sizes the limit at the scratch volumes plus 256Mi.',
        controls: [
            { framework: "NIST-800-53", control: "SC-6" },
            { framework: "SOC2", control: "A1.1" },
        ],
        topics: ["kubernetes", "capacity"],
        protectsData: false,
        appliesTo: POD_APPLIES_TO,
    },
    config: {},
    types: POD_TYPES,
    admission: {
        kinds: "workloads",
        partial:
            "the cluster checks that every container requests and limits ephemeral storage; the comparison of the limits' sum with the emptyDir volumes needs a sum over a list, which Kubernetes' CEL has not, so only the packs check it",
        validations: () => [
            {
                expression: `variables.containers.all(c, ${SET})`,
                messageExpression: celMessage(
                    "container-ephemeral-storage-set",
                    `': container(s) ' + variables.containers.filter(c, !(${SET})).map(c, c.name).join(', ') + ' do not set resources.requests and resources.limits of ${RESOURCE}.'`,
                ),
            },
        ],
    },
    check: ({ type, props }) =>
        checkPod(type, props, (pod) => {
            const problems = eachContainer(
                pod,
                (c) => {
                    const r = c.container.resources ?? {};
                    const missing = [
                        ...(r.requests?.[RESOURCE] === undefined ? [`requests["${RESOURCE}"]`] : []),
                        ...(r.limits?.[RESOURCE] === undefined ? [`limits["${RESOURCE}"]`] : []),
                    ];
                    return missing.length > 0 ? `${c.label} does not set resources.${missing.join(" or resources.")}.` : undefined;
                },
                ["container", "initContainer"],
            );
            if (problems.length > 0) return problems;
            const scratch = (pod.spec.volumes ?? []).filter((v: any) => v?.emptyDir && v.emptyDir.medium !== "Memory" && v.emptyDir.sizeLimit !== undefined);
            const scratchBytes = scratch.map((v: any) => quantityNumber(v.emptyDir.sizeLimit));
            const limitBytes = containersOf(pod.spec, ["container"]).map((c) => quantityNumber(c.container.resources.limits[RESOURCE]));
            // Values that are not quantities are left to the schema check.
            if ([...scratchBytes, ...limitBytes].some((b) => b === undefined)) return [];
            const total = (xs: (number | undefined)[]) => xs.reduce((a: number, b) => a + (b as number), 0);
            if (scratch.length > 0 && total(limitBytes) <= total(scratchBytes)) {
                const names = scratch.map((v: any) => `${v.name} (${v.emptyDir.sizeLimit})`).join(", ");
                return [
                    `the containers' ephemeral-storage limits add up to no more than the emptyDir volumes ${names}: the pod is evicted before they fill; limit each container at its scratch plus room for logs.`,
                ];
            }
            return [];
        }),
});
