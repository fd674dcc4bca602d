import { celMessage, celStrings } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { kindOf, LONG_RUNNING_KINDS } from "../../readers/k8s";
import { checkPod, eachContainer } from "./podCommon";

const TYPES = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:ReplicaSet"];

/** Long-running containers have readiness and liveness probes. */
export const containerProbesRequired = defineResourcePolicy<{ probes: string[] }>({
    meta: {
        name: "container-probes-required",
        pack: "mlops-security",
        title: "Long-running containers have probes",
        description: "Every container of a Deployment, StatefulSet, DaemonSet or ReplicaSet has a `readinessProbe` and a `livenessProbe` (configurable).",
        rationale:
            "Without readiness a model server receives traffic before its model is loaded and during rollouts; without liveness a hung server keeps its place in the Service forever.",
        severity: "medium",
        remediation: "Add `readinessProbe` and `livenessProbe` (and a `startupProbe` for slow model loads) on the health endpoint.",
        controls: [
            { framework: "NIST-800-53", control: "CP-10" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["kubernetes", "availability"],
        protectsData: false,
        appliesTo: LONG_RUNNING_KINDS.map((k) => `${k} (containers)`),
    },
    config: {
        probes: {
            type: "array",
            items: { type: "string", enum: ["readinessProbe", "livenessProbe", "startupProbe"] },
            default: ["readinessProbe", "livenessProbe"],
            description: "Probes every long-running container must have.",
        },
    },
    types: TYPES,
    admission: {
        kinds: "workloads",
        validations: ({ config }) => {
            const ok = `(${config.probes.map((p) => `has(c.${p})`).join(" && ") || "true"})`;
            return [
                {
                    expression: `!(object.kind in ${celStrings(LONG_RUNNING_KINDS)}) || variables.podSpec.containers.all(c, ${ok})`,
                    messageExpression: celMessage(
                        "container-probes-required",
                        `': container(s) ' + variables.podSpec.containers.filter(c, !${ok}).map(c, c.name).join(', ') + ' lack a ${config.probes.join(" or ")}.'`,
                    ),
                },
            ];
        },
    },
    check: ({ type, props }, config) => {
        if (!(LONG_RUNNING_KINDS as readonly string[]).includes(kindOf(type))) return [];
        return checkPod(type, props, (pod) =>
            eachContainer(
                pod,
                (c) => {
                    const missing = config.probes.filter((p) => !c.container[p]);
                    return missing.length > 0 ? `${c.label} has no ${missing.join(" or ")}.` : undefined;
                },
                ["container"],
            ),
        );
    },
});
