import { APPROVAL_PARAM, approvalsWhere, celMessage, celString } from "../../framework/admission";
import { APPROVAL_MAX_AGE_DAYS, APPROVAL_TICKET, approvalDateStatus, APPROVER, ORG_LABELS } from "../../../components/contract";
import { defineResourcePolicy } from "../../framework/define";
import { orgKeyName } from "../../readers/k8s";
import { isModelWorkloadType, MODEL_APPLIES_TO, orgValues, requireModel } from "./modelCommon";

export interface Config {
    ticketPattern: string;
    maxApprovalAgeDays: number;
}

/** Prod model workloads carry an approval record: who approved, the change ticket, and when (the contract's approval format). */
export const modelApprovalRecord = defineResourcePolicy<Config>({
    meta: {
        name: "model-approval-record",
        pack: "mlops-governance",
        title: "Production models carry an approval record",
        description:
            "A model workload (labelled `mlops.<domain>/model`) carries `mlops.<domain>/approved-by` (a user or group name), `mlops.<domain>/approval-ticket` matching the ticket pattern and `mlops.<domain>/approval-date` (a date written `YYYY-MM-DD`, not in the future, at most `maxApprovalAgeDays` old), as annotations or labels.",
        rationale:
            "Promoting a model to production is a change that affects customers: it needs a named approver and a ticket an auditor can follow to the evaluation results. An old approval no longer covers the data the model now sees.",
        severity: "high",
        remediation:
            "Have compliance record the version in the platform's approvals/<environment>.yaml (ModelService and BatchInference look it up and set these): annotations mlops.<domain>/approved-by, approval-ticket (e.g. CHG-10423), approval-date (YYYY-MM-DD). Re-approve models whose approval expired.",
        controls: [
            { framework: "NIST-800-53", control: "CM-3" },
            { framework: "SOC2", control: "CC8.1" },
        ],
        topics: ["model-governance", "change-management"],
        protectsData: false,
        appliesTo: MODEL_APPLIES_TO,
    },
    config: {
        ticketPattern: { type: "string", default: APPROVAL_TICKET.source, description: "Regular expression an approval ticket id must match." },
        maxApprovalAgeDays: { type: "integer", minimum: 1, default: APPROVAL_MAX_AGE_DAYS, description: "Days after which an approval expires." },
    },
    environments: ["prod"],
    types: isModelWorkloadType,
    admission: {
        kinds: "workloads",
        params: "approvals",
        // Only model workloads: every other object is admitted even before the parameters exist.
        matchConditions: ({ labelDomain }) => [
            {
                name: "model-workload",
                expression: `has(object.metadata.labels) && ${celString(orgKeyName(ORG_LABELS.model, labelDomain))} in object.metadata.labels`,
            },
        ],
        validations: ({ labelDomain, environment }) => {
            const ticketKey = celString(orgKeyName(ORG_LABELS.approvalTicket, labelDomain));
            const where = celString(approvalsWhere(environment));
            const subject = "variables.model + ' version ' + variables.version + ' of team ' + variables.team";
            const approvedImage = `variables.approvals[${APPROVAL_PARAM.images}].split(' ').exists(d, c.image.endsWith('@' + d))`;
            return [
                {
                    expression: `${APPROVAL_PARAM.ticket} in variables.approvals`,
                    messageExpression: celMessage("model-approval-record", `' runs ' + ${subject} + ', which has no approval in force: ' + ${where} + '.'`),
                    reason: "Forbidden",
                },
                {
                    expression: `!(${APPROVAL_PARAM.ticket} in variables.approvals) || (${ticketKey} in variables.labels && variables.labels[${ticketKey}] == variables.approvals[${APPROVAL_PARAM.ticket}])`,
                    messageExpression: celMessage(
                        "model-approval-record",
                        `' carries the approval ticket ' + (${ticketKey} in variables.labels ? variables.labels[${ticketKey}] : '(none)') + ', but ' + ${subject} + ' is approved under ' + variables.approvals[${APPROVAL_PARAM.ticket}] + ': ' + ${where} + '.'`,
                    ),
                    reason: "Forbidden",
                },
                {
                    expression: `!(${APPROVAL_PARAM.images} in variables.approvals) || variables.containers.all(c, ${approvedImage})`,
                    messageExpression: celMessage(
                        "model-approval-record",
                        `' runs ' + variables.containers.filter(c, !${approvedImage}).map(c, c.image).join(', ') + ', whose digest the approval of ' + ${subject} + ' does not cover: ' + ${where} + '.'`,
                    ),
                    reason: "Forbidden",
                },
            ];
        },
    },
    check: ({ type, props }, config, ctx) => {
        const { ref } = requireModel(type, props, ctx.labelDomain);
        const key = (suffix: string) => orgKeyName(suffix, ctx.labelDomain);
        const first = (suffix: string) => orgValues(type, props, suffix, ctx.labelDomain)[0]?.value;
        const approvedBy = first(ORG_LABELS.approvedBy);
        const ticket = first(ORG_LABELS.approvalTicket);
        const date = first(ORG_LABELS.approvalDate);
        if (approvedBy === undefined && ticket === undefined && date === undefined) {
            return [`${ref} has no approval record: set ${key(ORG_LABELS.approvedBy)}, ${key(ORG_LABELS.approvalTicket)} and ${key(ORG_LABELS.approvalDate)}.`];
        }
        const problems: string[] = [];
        if (typeof approvedBy !== "string" || approvedBy.trim() === "") problems.push(`${ref}: ${key(ORG_LABELS.approvedBy)} is missing or empty.`);
        else if (!APPROVER.test(approvedBy))
            problems.push(`${ref}: ${key(ORG_LABELS.approvedBy)} "${approvedBy}" is not a user or group name (like jane.doe).`);
        if (typeof ticket !== "string" || !new RegExp(config.ticketPattern).test(ticket)) {
            problems.push(
                `${ref}: ${key(ORG_LABELS.approvalTicket)} ${ticket === undefined ? "is missing" : `"${String(ticket)}" does not match ${config.ticketPattern}`}.`,
            );
        }
        const when = approvalDateStatus(date, ctx.now);
        if (when.status === "invalid") {
            problems.push(
                `${ref}: ${key(ORG_LABELS.approvalDate)} ${date === undefined ? "is missing" : `"${String(date)}" is not a date written YYYY-MM-DD`}.`,
            );
        } else if (when.status === "future") {
            problems.push(`${ref}: ${key(ORG_LABELS.approvalDate)} ${date} is in the future.`);
        } else if (when.ageDays > config.maxApprovalAgeDays) {
            problems.push(
                `${ref}: the approval of ${date} is ${Math.floor(when.ageDays)} days old; approvals expire after ${config.maxApprovalAgeDays} days: re-approve the model version.`,
            );
        }
        return problems;
    },
});
