import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { cronRef, CRONJOB_TYPES } from "./cronjobCommon";

/** CronJob runs retry a bounded number of times. */
export const cronjobBackoffBounded = defineResourcePolicy<{ maxBackoffLimit: number }>({
    meta: {
        name: "cronjob-backoff-bounded",
        pack: "mlops-reliability",
        title: "CronJob retries are bounded",
        description: "Every CronJob sets `spec.jobTemplate.spec.backoffLimit` to at most `maxBackoffLimit` (3); unset means Kubernetes' default of 6.",
        rationale:
            "A failing batch job retried many times multiplies its cost and its side effects (partial writes, load on the registry) before anyone is alerted.",
        severity: "low",
        remediation: "Set `jobTemplate.spec.backoffLimit` (e.g. 2) and alert on failed jobs.",
        controls: [{ framework: "NIST-800-53", control: "SC-6" }],
        topics: ["batch", "kubernetes"],
        protectsData: false,
        appliesTo: CRONJOB_TYPES,
    },
    config: {
        maxBackoffLimit: { type: "integer", minimum: 0, default: 3, description: "Largest accepted backoffLimit." },
    },
    types: CRONJOB_TYPES,
    admission: {
        kinds: "cronJobs",
        validations: ({ config }) => [
            {
                expression: `has(object.spec.jobTemplate.spec.backoffLimit) && object.spec.jobTemplate.spec.backoffLimit <= ${config.maxBackoffLimit}`,
                messageExpression: celMessage(
                    "cronjob-backoff-bounded",
                    `' does not bound its retries: set spec.jobTemplate.spec.backoffLimit to at most ${config.maxBackoffLimit}.'`,
                ),
            },
        ],
    },
    check: ({ props }, config) => {
        const limit = props.spec?.jobTemplate?.spec?.backoffLimit;
        if (typeof limit !== "number")
            return [`${cronRef(props)} does not set spec.jobTemplate.spec.backoffLimit (the default is 6); set it to at most ${config.maxBackoffLimit}.`];
        return limit > config.maxBackoffLimit
            ? [`${cronRef(props)} retries ${limit} times; expected a backoffLimit of at most ${config.maxBackoffLimit}.`]
            : [];
    },
});
