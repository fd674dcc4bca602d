import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { cronRef, CRONJOB_TYPES } from "./cronjobCommon";

/** CronJobs bound how late a run may start and how long it may run. */
export const cronjobDeadlinesSet = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "cronjob-deadlines-set",
        pack: "mlops-reliability",
        title: "CronJobs have deadlines",
        description: "Every CronJob sets `spec.startingDeadlineSeconds` and `spec.jobTemplate.spec.activeDeadlineSeconds`.",
        rationale:
            "Without a starting deadline a controller outage makes missed runs start all at once (or the CronJob stops after 100 misses); without an active deadline a hung job holds its resources and, with Forbid, blocks every later run.",
        severity: "low",
        remediation: "Set `startingDeadlineSeconds` (e.g. 300) and `jobTemplate.spec.activeDeadlineSeconds` (the longest acceptable run).",
        controls: [{ framework: "NIST-800-53", control: "SC-6" }],
        topics: ["batch", "kubernetes"],
        protectsData: false,
        appliesTo: CRONJOB_TYPES,
    },
    config: {},
    types: CRONJOB_TYPES,
    admission: {
        kinds: "cronJobs",
        validations: () => [
            {
                expression: "has(object.spec.startingDeadlineSeconds)",
                messageExpression: celMessage("cronjob-deadlines-set", "' does not set spec.startingDeadlineSeconds.'"),
            },
            {
                expression: "has(object.spec.jobTemplate.spec.activeDeadlineSeconds)",
                messageExpression: celMessage("cronjob-deadlines-set", "' does not set spec.jobTemplate.spec.activeDeadlineSeconds.'"),
            },
        ],
    },
    check: ({ props }) => {
        const problems: string[] = [];
        if (typeof props.spec?.startingDeadlineSeconds !== "number") problems.push(`${cronRef(props)} does not set spec.startingDeadlineSeconds.`);
        if (typeof props.spec?.jobTemplate?.spec?.activeDeadlineSeconds !== "number")
            problems.push(`${cronRef(props)} does not set spec.jobTemplate.spec.activeDeadlineSeconds.`);
        return problems;
    },
});
