import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";

export const JOB_TYPES = ["kubernetes:batch/v1:Job"];
/** `Job mlflow/mlflow-team-users`. */
const jobRef = (props: Record<string, any>): string => `Job ${props.metadata?.namespace ?? "default"}/${props.metadata?.name ?? "(unnamed)"}`;

/**
 * Jobs (not only CronJobs' templates) bound how long a run may take and how often it is retried. No
 * `ttlSecondsAfterFinished` is required of a Job: a Job the stack owns must stay after it finishes, or
 * Pulumi sees it vanish and creates it again (components/platform/mlflowTeamAccess.ts); the Jobs a CronJob starts
 * inherit its template's TTL (cronjob-history-bounded).
 */
export const jobRunsBounded = defineResourcePolicy<{ maxBackoffLimit: number }>({
    meta: {
        name: "job-runs-bounded",
        pack: "mlops-reliability",
        title: "Jobs have a deadline and bounded retries",
        description:
            "Every Job sets `spec.activeDeadlineSeconds` and `spec.backoffLimit` at most `maxBackoffLimit` (3); unset means no deadline and Kubernetes' default of 6 retries.",
        rationale:
            "A hung Job without a deadline holds its pods, quota and credentials until someone notices; a failing one retried many times multiplies its cost and side effects (partial writes, load on the registry) before anyone is alerted.",
        severity: "low",
        remediation: "Set `spec.activeDeadlineSeconds` (the longest acceptable run) and `spec.backoffLimit` (e.g. 2); alert on failed jobs.",
        controls: [{ framework: "NIST-800-53", control: "SC-6" }],
        topics: ["batch", "kubernetes"],
        protectsData: false,
        appliesTo: JOB_TYPES,
    },
    config: {
        maxBackoffLimit: { type: "integer", minimum: 0, default: 3, description: "Largest accepted backoffLimit." },
    },
    types: JOB_TYPES,
    admission: {
        kinds: "jobs",
        validations: ({ config }) => [
            {
                expression: "has(object.spec.activeDeadlineSeconds)",
                messageExpression: celMessage("job-runs-bounded", "' does not set spec.activeDeadlineSeconds.'"),
            },
            {
                expression: `has(object.spec.backoffLimit) && object.spec.backoffLimit <= ${config.maxBackoffLimit}`,
                messageExpression: celMessage("job-runs-bounded", `' does not bound its retries: set spec.backoffLimit to at most ${config.maxBackoffLimit}.'`),
            },
        ],
    },
    check: ({ props }, config) => {
        const problems: string[] = [];
        if (typeof props.spec?.activeDeadlineSeconds !== "number") problems.push(`${jobRef(props)} does not set spec.activeDeadlineSeconds.`);
        const limit = props.spec?.backoffLimit;
        if (typeof limit !== "number")
            problems.push(`${jobRef(props)} does not set spec.backoffLimit (the default is 6); set it to at most ${config.maxBackoffLimit}.`);
        else if (limit > config.maxBackoffLimit)
            problems.push(`${jobRef(props)} retries ${limit} times; expected a backoffLimit of at most ${config.maxBackoffLimit}.`);
        return problems;
    },
});
