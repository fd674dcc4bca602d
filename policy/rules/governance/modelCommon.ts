/** Shared by the model governance policies: model workloads and their org labels/annotations. */
import { ORG_LABELS } from "../../../components/contract";
import { skip } from "../../framework/define";
import { isModelWorkloadType, modelName, objectRef, orgKeyName, orgValue, podTemplate } from "../../readers/k8s";

export const MODEL_APPLIES_TO = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].map((k) => `${k} labelled mlops.<domain>/model`);

export { isModelWorkloadType };

/** The model a workload runs; skips (not applicable) when it is not a model workload. */
export function requireModel(type: string, props: Record<string, any>, domain: string | undefined): { model: string; ref: string } {
    const model = modelName(type, props, domain);
    if (!model) skip(`not a model workload (no ${orgKeyName(ORG_LABELS.model, domain)} label)`);
    return { model, ref: objectRef(type, props) };
}

/**
 * An org key's value on a workload: its annotations, then labels, then the pod template's annotations
 * and labels. Returns each place it was found, so disagreeing copies are caught.
 */
export function orgValues(type: string, props: Record<string, any>, suffix: string, domain: string | undefined): { where: string; value: unknown }[] {
    const pod = podTemplate(type, props);
    const places: [string, Record<string, unknown> | undefined][] = [
        ["annotation", props.metadata?.annotations],
        ["label", props.metadata?.labels],
        ["pod annotation", pod?.metadata?.annotations],
        ["pod label", pod?.metadata?.labels],
    ];
    const out: { where: string; value: unknown }[] = [];
    for (const [where, map] of places) {
        const value = orgValue(map, suffix, domain);
        if (value !== undefined) out.push({ where, value });
    }
    return out;
}
