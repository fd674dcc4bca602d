import { defineResourcePolicy } from "../../define";
import { orgKeyName } from "../../k8s";
import { isModelWorkloadType, MODEL_APPLIES_TO, orgValues, requireModel } from "./modelCommon";

export interface Config {
    ticketPattern: string;
    maxApprovalAgeDays: number;
}

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parses an ISO 8601 date (`2025-06-01`) or timestamp (`2025-06-01T09:30:00Z`); undefined if invalid. */
export function parseIsoDate(value: string): Date | undefined {
    const m = ISO_DATE.exec(value);
    if (!m) return undefined;
    const date = new Date(m[4] ? value : `${value}T00:00:00Z`);
    if (Number.isNaN(date.getTime())) return undefined;
    // Reject dates JavaScript rolls over (2025-02-30 -> 2025-03-02).
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const check = new Date(Date.UTC(y, mo - 1, d));
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
    return date;
}

/** Prod model workloads carry an approval record: who approved, the change ticket, and when. */
export const modelApprovalRecord = defineResourcePolicy<Config>({
    meta: {
        name: "model-approval-record",
        pack: "mlops-governance",
        title: "Production models carry an approval record",
        description:
            "A model workload (labelled `mlops.<domain>/model`) carries `mlops.<domain>/approved-by`, `mlops.<domain>/approval-ticket` matching the ticket pattern and `mlops.<domain>/approval-date` (ISO 8601, not in the future, at most `maxApprovalAgeDays` old), as annotations or labels.",
        rationale:
            "Promoting a model to production is a change that affects customers: it needs a named approver and a ticket an auditor can follow to the evaluation results. An old approval no longer covers the data the model now sees.",
        severity: "high",
        remediation:
            "Record the approval on the workload (the ModelService component takes `approval: { approvedBy, ticket, date }`): annotations mlops.<domain>/approved-by, approval-ticket (e.g. MLOPS-1234), approval-date (YYYY-MM-DD). Re-approve models whose approval expired.",
        controls: [
            { framework: "NIST-800-53", control: "CM-3" },
            { framework: "SOC2", control: "CC8.1" },
        ],
        topics: ["model-governance", "change-management"],
        protectsData: false,
        appliesTo: MODEL_APPLIES_TO,
    },
    config: {
        ticketPattern: { type: "string", default: "^[A-Z][A-Z0-9]+-\\d+$", description: "Regular expression an approval ticket id must match." },
        maxApprovalAgeDays: { type: "integer", minimum: 1, default: 90, description: "Days after which an approval expires." },
    },
    environments: ["prod"],
    types: isModelWorkloadType,
    check: ({ type, props }, config, ctx) => {
        const { ref } = requireModel(type, props, ctx.labelDomain);
        const key = (suffix: string) => orgKeyName(suffix, ctx.labelDomain);
        const first = (suffix: string) => orgValues(type, props, suffix, ctx.labelDomain)[0]?.value;
        const approvedBy = first("approved-by");
        const ticket = first("approval-ticket");
        const date = first("approval-date");
        if (approvedBy === undefined && ticket === undefined && date === undefined) {
            return [`${ref} has no approval record: set ${key("approved-by")}, ${key("approval-ticket")} and ${key("approval-date")}.`];
        }
        const problems: string[] = [];
        if (typeof approvedBy !== "string" || approvedBy.trim() === "") problems.push(`${ref}: ${key("approved-by")} is missing or empty.`);
        if (typeof ticket !== "string" || !new RegExp(config.ticketPattern).test(ticket)) {
            problems.push(`${ref}: ${key("approval-ticket")} ${ticket === undefined ? "is missing" : `"${String(ticket)}" does not match ${config.ticketPattern}`}.`);
        }
        const parsed = typeof date === "string" ? parseIsoDate(date) : undefined;
        if (!parsed) {
            problems.push(`${ref}: ${key("approval-date")} ${date === undefined ? "is missing" : `"${String(date)}" is not an ISO 8601 date (YYYY-MM-DD)`}.`);
        } else {
            const age = (ctx.now.getTime() - parsed.getTime()) / DAY_MS;
            // One day of slack for time zones: an approval dated "today" east of UTC is still valid.
            if (age < -1) problems.push(`${ref}: ${key("approval-date")} ${date} is in the future.`);
            else if (age > config.maxApprovalAgeDays) {
                problems.push(`${ref}: the approval of ${date} is ${Math.floor(age)} days old; approvals expire after ${config.maxApprovalAgeDays} days: re-approve the model version.`);
            }
        }
        return problems;
    },
});
