import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";
import { cronRef, CRONJOB_TYPES } from "./cronjobCommon";

/** Kubernetes' defaults of the history limits. */
const DEFAULT_HISTORY = { successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 } as const;

/** A CronJob's finished runs are cleaned up: few kept, each for a bounded time. */
export const cronjobHistoryBounded = defineResourcePolicy<{ maxHistory: number }>({
    meta: {
        name: "cronjob-history-bounded",
        pack: "mlops-reliability",
        title: "CronJobs clean up their finished runs",
        description: `Every CronJob keeps at most \`maxHistory\` (3) finished Jobs of each outcome (\`successfulJobsHistoryLimit\`, \`failedJobsHistoryLimit\`; unset means Kubernetes' defaults, ${DEFAULT_HISTORY.successfulJobsHistoryLimit} and ${DEFAULT_HISTORY.failedJobsHistoryLimit}) and sets \`spec.jobTemplate.spec.ttlSecondsAfterFinished\`, so a finished run is deleted after a bounded time, also when it was started by hand or by an orchestrator.`,
        rationale:
            "A finished Job keeps its pods, and with them their logs and environment, in the namespace until the Job is deleted: an hourly job with a large history fills the namespace's object quota and the API server's storage, and keeps old runs' data around longer than anyone needs it.",
        severity: "low",
        remediation: "Set `successfulJobsHistoryLimit` and `failedJobsHistoryLimit` (e.g. 3) and `jobTemplate.spec.ttlSecondsAfterFinished` (e.g. 86400).",
        controls: [{ framework: "NIST-800-53", control: "SC-6" }],
        topics: ["batch", "kubernetes"],
        protectsData: false,
        appliesTo: CRONJOB_TYPES,
    },
    config: {
        maxHistory: { type: "integer", minimum: 0, default: 3, description: "Largest accepted successfulJobsHistoryLimit and failedJobsHistoryLimit." },
    },
    types: CRONJOB_TYPES,
    admission: {
        kinds: "cronJobs",
        validations: ({ config }) => [
            ...(["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] as const).map((field) => ({
                expression: `(has(object.spec.${field}) ? object.spec.${field} : ${DEFAULT_HISTORY[field]}) <= ${config.maxHistory}`,
                messageExpression: celMessage(
                    "cronjob-history-bounded",
                    `' keeps ' + string(has(object.spec.${field}) ? object.spec.${field} : ${DEFAULT_HISTORY[field]}) + ' finished jobs (spec.${field}); expected at most ${config.maxHistory}.'`,
                ),
            })),
            {
                expression: "has(object.spec.jobTemplate.spec.ttlSecondsAfterFinished)",
                messageExpression: celMessage("cronjob-history-bounded", "' does not set spec.jobTemplate.spec.ttlSecondsAfterFinished.'"),
            },
        ],
    },
    check: ({ props }, config) => {
        const problems: string[] = [];
        for (const field of ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] as const) {
            const kept = props.spec?.[field] ?? DEFAULT_HISTORY[field];
            if (typeof kept === "number" && kept > config.maxHistory)
                problems.push(`${cronRef(props)} keeps ${kept} finished jobs (spec.${field}); expected at most ${config.maxHistory}.`);
        }
        if (typeof props.spec?.jobTemplate?.spec?.ttlSecondsAfterFinished !== "number")
            problems.push(`${cronRef(props)} does not set spec.jobTemplate.spec.ttlSecondsAfterFinished.`);
        return problems;
    },
});
