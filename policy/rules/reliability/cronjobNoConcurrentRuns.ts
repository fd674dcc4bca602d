import { celMessage, celStrings } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { cronRef, CRONJOB_TYPES } from "./cronjobCommon";

/** CronJobs never run two jobs at once. */
export const cronjobNoConcurrentRuns = defineResourcePolicy<{ allowedPolicies: string[] }>({
    meta: {
        name: "cronjob-no-concurrent-runs",
        pack: "mlops-reliability",
        title: "CronJobs do not overlap",
        description: "Every CronJob sets `concurrencyPolicy` to `Forbid` (configurable), so a slow run is never joined by the next one.",
        rationale:
            "Overlapping batch scoring, drift checks or `mlflow gc` runs double the load, write the same outputs twice and can race on deletes; the default policy `Allow` lets them pile up.",
        severity: "low",
        remediation: 'Set `spec.concurrencyPolicy: "Forbid"`.',
        controls: [{ framework: "NIST-800-53", control: "SC-6" }],
        topics: ["batch", "kubernetes"],
        protectsData: false,
        appliesTo: CRONJOB_TYPES,
    },
    config: {
        allowedPolicies: {
            type: "array",
            items: { type: "string", enum: ["Forbid", "Replace", "Allow"] },
            default: ["Forbid"],
            description: "Accepted concurrency policies.",
        },
    },
    types: CRONJOB_TYPES,
    admission: {
        kinds: "cronJobs",
        validations: ({ config }) => {
            const policy = "(has(object.spec.concurrencyPolicy) ? object.spec.concurrencyPolicy : 'Allow')";
            return [
                {
                    expression: `${policy} in ${celStrings(config.allowedPolicies)}`,
                    messageExpression: celMessage(
                        "cronjob-no-concurrent-runs",
                        `' has concurrencyPolicy ' + ${policy} + '; expected ${config.allowedPolicies.join(" or ")}.'`,
                    ),
                },
            ];
        },
    },
    check: ({ props }, config) => {
        const policy = props.spec?.concurrencyPolicy ?? "Allow";
        return config.allowedPolicies.includes(policy)
            ? []
            : [`${cronRef(props)} has concurrencyPolicy ${policy}; expected ${config.allowedPolicies.join(" or ")}.`];
    },
});
