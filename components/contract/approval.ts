/**
 * The approval of a model version for production (docs/registry-conventions.md, `approval.*` tags): what
 * ModelService and BatchInference take and stamp on the workload, and what the `model-approval-record`
 * policy accepts on it.
 */

/** The approval record of a model version. */
export interface ApprovalRecord {
    /** Who approved: a user or group name of the identity provider (`jane.doe`). */
    readonly approvedBy: string;
    /** Change ticket of the approval (`CHG-10423`). */
    readonly ticket: string;
    /** Date of the approval, `YYYY-MM-DD` (UTC). */
    readonly date: string;
}

/** Approvers: a user or group name of the identity provider, up to 128 characters. */
export const APPROVER = /^[A-Za-z0-9][A-Za-z0-9@._:+-]{0,127}$/;
/** Approval tickets: a project key and a number (`CHG-10423`); the policy's default `ticketPattern`. */
export const APPROVAL_TICKET = /^[A-Z][A-Z0-9]+-\d+$/;
/** Approval dates: a calendar date `YYYY-MM-DD` (UTC); it is also a label value, so no time or zone. */
const APPROVAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Days after which an approval expires in prod: the policy's default `maxApprovalAgeDays`. */
export const APPROVAL_MAX_AGE_DAYS = 90;
/** How far ahead of "now" an approval date may be (time zones east of UTC are a day ahead). */
const APPROVAL_CLOCK_SKEW_DAYS = 1;

const DAY_MS = 86_400_000;

/** The UTC date `YYYY-MM-DD` stands for, or undefined when it is not a real calendar date in that form. */
export function parseApprovalDate(date: string): Date | undefined {
    const m = APPROVAL_DATE.exec(date);
    if (!m) return undefined;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = new Date(Date.UTC(y, mo - 1, d));
    return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d ? t : undefined;
}

/**
 * Where an approval date stands at `now`: not a date in the contract's form, in the future (beyond
 * {@link APPROVAL_CLOCK_SKEW_DAYS}), or valid and `ageDays` old (negative within the skew).
 */
export function approvalDateStatus(
    date: unknown,
    now: Date,
): { readonly status: "invalid" } | { readonly status: "future" } | { readonly status: "valid"; readonly ageDays: number } {
    const parsed = typeof date === "string" ? parseApprovalDate(date) : undefined;
    if (!parsed) return { status: "invalid" };
    const ageDays = (now.getTime() - parsed.getTime()) / DAY_MS;
    return ageDays < -APPROVAL_CLOCK_SKEW_DAYS ? { status: "future" } : { status: "valid", ageDays };
}

/** Problems of an approval record (empty when valid). Its age is the policy's business (configurable per stack). */
export function approvalProblems(a: ApprovalRecord, now: Date = new Date()): string[] {
    const problems: string[] = [];
    if (typeof a.approvedBy !== "string" || !APPROVER.test(a.approvedBy)) {
        problems.push(`approval.approvedBy "${a.approvedBy}" must name who approved (a user or group name like jane.doe, up to 128 characters)`);
    }
    if (typeof a.ticket !== "string" || !APPROVAL_TICKET.test(a.ticket)) {
        problems.push(`approval.ticket "${a.ticket}" must be a change ticket like CHG-10423`);
    }
    const date = approvalDateStatus(a.date, now);
    if (date.status === "invalid") problems.push(`approval.date "${a.date}" must be a date written YYYY-MM-DD`);
    else if (date.status === "future") problems.push(`approval.date "${a.date}" is in the future`);
    return problems;
}
