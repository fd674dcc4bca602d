import { celMessage, celStrings } from "../../framework/admission";
const WORKLOAD_KINDS = celStrings(["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"]);
import { OWNERSHIP_LABELS } from "../../../components/contract";
import { defineResourcePolicy } from "../../framework/define";
import { isKubernetesObjectType, objectRef, orgKeyName, orgValue, podTemplate } from "../../readers/k8s";

/** Every Kubernetes object (and pod template) carries team and owner labels. */
export const kubernetesOwnershipLabels = defineResourcePolicy<{ requiredLabels: string[] }>({
    meta: {
        name: "kubernetes-ownership-labels",
        pack: "mlops-governance",
        title: "Kubernetes objects carry ownership labels",
        description:
            "Every Kubernetes object, and the pod template of every workload, has non-empty `mlops.<domain>/team` and `mlops.<domain>/owner` labels (configurable suffixes).",
        rationale: "Labels are how alerts are routed, costs are allocated per team (pods are what consume the cluster), and orphaned objects are found.",
        severity: "low",
        remediation:
            "Label objects with `standardLabels(ctx, args)` from components/shared/naming.ts (every component does), on the object and on its pod template.",
        controls: [{ framework: "NIST-800-53", control: "CM-8" }],
        topics: ["ownership", "kubernetes"],
        protectsData: false,
        appliesTo: ["every kubernetes:* object (not Helm releases)"],
    },
    config: {
        requiredLabels: {
            type: "array",
            items: { type: "string" },
            default: [...OWNERSHIP_LABELS],
            description: "Suffixes of the org label keys (`mlops.<domain>/<suffix>`) every object must carry.",
        },
    },
    types: isKubernetesObjectType,
    admission: {
        kinds: "teamObjects",
        // The root CA ConfigMap kube-controller-manager publishes in every namespace carries no labels of ours.
        matchConditions: () => [
            {
                name: "not-kube-root-ca",
                expression: "!(object.kind == 'ConfigMap' && has(object.metadata.name) && object.metadata.name == 'kube-root-ca.crt')",
            },
        ],
        validations: ({ config, labelDomain }) => {
            const keys = celStrings(config.requiredLabels.map((s) => orgKeyName(s, labelDomain)));
            const missing = (labels: string) => `!(k in ${labels}) || ${labels}[k] == ''`;
            return [
                {
                    expression: `${keys}.all(k, !(${missing("variables.labels")}))`,
                    messageExpression: celMessage(
                        "kubernetes-ownership-labels",
                        `' is missing the label(s) ' + ${keys}.filter(k, ${missing("variables.labels")}).join(', ') + '.'`,
                    ),
                },
                {
                    expression: `!(object.kind in ${WORKLOAD_KINDS}) || ${keys}.all(k, !(${missing("variables.podLabels")}))`,
                    messageExpression: celMessage(
                        "kubernetes-ownership-labels",
                        `': its pod template is missing the label(s) ' + ${keys}.filter(k, ${missing("variables.podLabels")}).join(', ') + '.'`,
                    ),
                },
            ];
        },
    },
    check: ({ type, props }, config, ctx) => {
        const missingIn = (labels: Record<string, unknown> | undefined) =>
            config.requiredLabels.filter((s) => {
                const v = orgValue(labels, s, ctx.labelDomain);
                return typeof v !== "string" || v.trim() === "";
            });
        const names = (suffixes: string[]) => suffixes.map((s) => orgKeyName(s, ctx.labelDomain)).join(", ");
        const ref = objectRef(type, props);
        const problems: string[] = [];
        const own = missingIn(props.metadata?.labels);
        if (own.length > 0) problems.push(`${ref} is missing the label(s) ${names(own)}.`);
        const pod = podTemplate(type, props);
        if (pod && type !== "kubernetes:core/v1:Pod") {
            const inPod = missingIn(pod.metadata.labels);
            if (inPod.length > 0) problems.push(`${ref}: its pod template is missing the label(s) ${names(inPod)}.`);
        }
        return problems;
    },
});
