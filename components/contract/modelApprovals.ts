/**
 * Approvals of model versions for production, as compliance records them: one place per environment,
 * `approvals/<environment>.yaml` in the platform repository (CODEOWNERS gives it to compliance). The
 * platform program reads and validates the file and publishes it as the stack output `modelApprovals`;
 * team stacks read it through `readPlatform`; ModelService and BatchInference look up the approval of the
 * version they deploy; the cluster's admission policy checks workloads against the same records
 * (rendered as the parameter ConfigMap by {@link approvalParameterData}).
 */
import { APPROVAL_TICKET, APPROVER, parseApprovalDate, APPROVAL_MAX_AGE_DAYS } from "./approval";
import { isModelVersion, MODEL_NAME, TEAM_NAME } from "./modelRegistry";

/** One approval: a model version of a team, the image digests approved to run it, who approved, the ticket, when, and until when. */
export interface ModelApproval {
    readonly team: string;
    /** Registered model name (`fraud-scorer`). */
    readonly model: string;
    /** Registered version number. */
    readonly version: number;
    /** Digests (`sha256:<64 hex>`) of the images approved to run this version (server and batch images). */
    readonly imageDigests: readonly string[];
    readonly approvedBy: string;
    readonly ticket: string;
    /** Date of the approval, `YYYY-MM-DD` (UTC). */
    readonly date: string;
    /** Last day (UTC, inclusive) the approval holds, `YYYY-MM-DD`: at most {@link APPROVAL_MAX_AGE_DAYS} days after `date`. */
    readonly expires: string;
}

/** Where approvals of an environment are recorded, relative to the platform repository's root. */
export function approvalsFile(environment: string): string {
    return `approvals/${environment}.yaml`;
}

/** The words every refusal uses to say where approvals are recorded. */
export function approvalsRecordedIn(environment: string): string {
    return `approvals are recorded by compliance in ${approvalsFile(environment)} of the platform repository and published by the platform stack (output modelApprovals)`;
}

/** Image digests as approvals name them. */
const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;

const FIELDS = ["team", "model", "version", "imageDigests", "approvedBy", "ticket", "date", "expires"] as const;
const DAY_MS = 86_400_000;

/** `team/model/version`: how messages name an approved version. */
function approvalSubject(a: Pick<ModelApproval, "team" | "model" | "version">): string {
    return `${a.team}/${a.model} version ${a.version}`;
}

/**
 * Validates the parsed approvals file (`{ approvals: [...] }`): every problem at once, each naming the
 * entry, the field, the value and what is allowed. `teams` are the teams of the environment (an approval
 * for another team is a mistake).
 */
export function parseModelApprovals(raw: unknown, source: string, teams?: readonly string[]): { approvals: ModelApproval[]; problems: string[] } {
    const problems: string[] = [];
    const list = raw === null || raw === undefined ? [] : (raw as { approvals?: unknown }).approvals;
    if (raw !== null && raw !== undefined && (typeof raw !== "object" || Array.isArray(raw))) {
        return { approvals: [], problems: [`${source} must be a mapping with one key, approvals: a list of approvals`] };
    }
    const extra = raw && typeof raw === "object" ? Object.keys(raw).filter((k) => k !== "approvals") : [];
    for (const k of extra) problems.push(`${source}: unknown key "${k}" (the file has one key, approvals)`);
    if (list === undefined || list === null) return { approvals: [], problems };
    if (!Array.isArray(list)) return { approvals: [], problems: [...problems, `${source}: approvals must be a list`] };
    const approvals: ModelApproval[] = [];
    const seen = new Map<string, number>();
    list.forEach((entry: Record<string, unknown>, i: number) => {
        const at = `${source}: approvals[${i}]`;
        if (!entry || typeof entry !== "object" || Array.isArray(entry)) {
            problems.push(`${at} must be a mapping with ${FIELDS.join(", ")}`);
            return;
        }
        const before = problems.length;
        for (const k of Object.keys(entry))
            if (!(FIELDS as readonly string[]).includes(k)) problems.push(`${at}: unknown field "${k}" (allowed: ${FIELDS.join(", ")})`);
        const str = (k: string) => (typeof entry[k] === "string" ? (entry[k] as string) : undefined);
        if (!str("team") || !TEAM_NAME.test(str("team")!)) problems.push(`${at}.team "${entry.team}" must be a team name like fraud`);
        else if (teams && !teams.includes(str("team")!))
            problems.push(`${at}.team "${entry.team}" is not a team of this environment (teams: ${teams.join(", ") || "none"})`);
        if (!str("model") || !MODEL_NAME.test(str("model")!)) problems.push(`${at}.model "${entry.model}" must be a registered model name like fraud-scorer`);
        if (!isModelVersion(entry.version)) problems.push(`${at}.version ${JSON.stringify(entry.version)} must be a registered version (a positive integer)`);
        const digests = entry.imageDigests;
        if (!Array.isArray(digests) || digests.length === 0)
            problems.push(`${at}.imageDigests must list the digests (sha256:<64 hex>) of the images approved to run this version`);
        else
            digests.forEach(
                (d: unknown, j: number) =>
                    !(typeof d === "string" && IMAGE_DIGEST.test(d)) && problems.push(`${at}.imageDigests[${j}] "${d}" must be a digest sha256:<64 hex>`),
            );
        if (!str("approvedBy") || !APPROVER.test(str("approvedBy")!))
            problems.push(`${at}.approvedBy "${entry.approvedBy}" must name who approved (a user or group name like jane.doe)`);
        if (!str("ticket") || !APPROVAL_TICKET.test(str("ticket")!)) problems.push(`${at}.ticket "${entry.ticket}" must be a change ticket like CHG-10423`);
        const date = str("date") ? parseApprovalDate(str("date")!) : undefined;
        const expires = str("expires") ? parseApprovalDate(str("expires")!) : undefined;
        if (!date) problems.push(`${at}.date ${JSON.stringify(entry.date)} must be a date written YYYY-MM-DD (quote it in YAML)`);
        if (!expires) problems.push(`${at}.expires ${JSON.stringify(entry.expires)} must be a date written YYYY-MM-DD (quote it in YAML)`);
        if (date && expires) {
            const days = (expires.getTime() - date.getTime()) / DAY_MS;
            if (days < 0) problems.push(`${at}.expires ${entry.expires} is before its date ${entry.date}`);
            else if (days > APPROVAL_MAX_AGE_DAYS)
                problems.push(
                    `${at}.expires ${entry.expires} is ${days} days after its date ${entry.date}; an approval holds at most ${APPROVAL_MAX_AGE_DAYS} days`,
                );
        }
        if (problems.length > before) return;
        const a: ModelApproval = {
            team: str("team")!,
            model: str("model")!,
            version: entry.version as number,
            imageDigests: [...(digests as string[])],
            approvedBy: str("approvedBy")!,
            ticket: str("ticket")!,
            date: str("date")!,
            expires: str("expires")!,
        };
        const key = approvalKey(a.team, a.model, a.version);
        const first = seen.get(key);
        if (first !== undefined) {
            problems.push(
                `${at} approves ${approvalSubject(a)} again (also approvals[${first}]): one entry per version; add digests to it or re-approve by editing it`,
            );
            return;
        }
        seen.set(key, i);
        approvals.push(a);
    });
    return { approvals, problems };
}

/** Where an approval stands at `now`: in force, not yet (dated in the future), or expired. */
function approvalValidity(a: Pick<ModelApproval, "date" | "expires">, now: Date): "valid" | "future" | "expired" {
    const date = parseApprovalDate(a.date);
    const expires = parseApprovalDate(a.expires);
    if (!date || !expires) return "expired";
    // The approval date may be a day ahead (time zones east of UTC); it holds through its expiry day.
    if (date.getTime() - now.getTime() > DAY_MS) return "future";
    if (now.getTime() >= expires.getTime() + DAY_MS) return "expired";
    return "valid";
}

/** `<team>.<model>.<version>`: the key of an approval (and the prefix of its parameter ConfigMap keys). */
export function approvalKey(team: string, model: string, version: number | string): string {
    return `${team}.${model}.${version}`;
}

/**
 * The approval of the version a workload deploys, or why there is none: no entry, not yet valid,
 * expired, or the image's digest is not among the approved ones. `digest` undefined: not checked (the
 * image is not pinned; the digest rules refuse it separately).
 */
export function approvalFor(
    approvals: readonly ModelApproval[],
    q: { team: string; model: string; version: number; digest?: string; environment: string },
    now: Date,
): { approval: ModelApproval } | { problem: string } {
    const subject = approvalSubject(q);
    const where = approvalsRecordedIn(q.environment);
    const a = approvals.find((x) => x.team === q.team && x.model === q.model && x.version === q.version);
    if (!a) return { problem: `${subject} has no approval: ${where}` };
    const validity = approvalValidity(a, now);
    if (validity === "expired") return { problem: `the approval of ${subject} (${a.ticket}) expired on ${a.expires}: re-approve it; ${where}` };
    if (validity === "future") return { problem: `the approval of ${subject} (${a.ticket}) is dated ${a.date}, in the future; ${where}` };
    if (q.digest !== undefined && !a.imageDigests.includes(q.digest)) {
        return {
            problem: `the approval of ${subject} (${a.ticket}) does not cover the image digest ${q.digest} (approved: ${a.imageDigests.join(", ")}); ${where}`,
        };
    }
    return { approval: a };
}

/** The digest of an image reference pinned by digest, or undefined. */
export function imageDigestOf(ref: string): string | undefined {
    const m = /@(sha256:[a-f0-9]{64})$/.exec(ref);
    return m ? m[1] : undefined;
}

/** Suffixes of the parameter ConfigMap's keys: `<key>.ticket` = the ticket, `<key>.images` = the approved digests, space-separated. */
export const APPROVAL_PARAM_SUFFIXES = { ticket: "ticket", images: "images" } as const;

/**
 * Data of the admission policy's parameter ConfigMap: the approvals in force at `now`, two keys each
 * (`<team>.<model>.<version>.ticket`, `<team>.<model>.<version>.images`). The API server has no clock in
 * its admission rules: an approval that expires leaves the parameters at the platform stack's next update.
 */
export function approvalParameterData(approvals: readonly ModelApproval[], now: Date): Record<string, string> {
    const data: Record<string, string> = {};
    for (const a of approvals) {
        if (approvalValidity(a, now) !== "valid") continue;
        const key = approvalKey(a.team, a.model, a.version);
        data[`${key}.${APPROVAL_PARAM_SUFFIXES.ticket}`] = a.ticket;
        data[`${key}.${APPROVAL_PARAM_SUFFIXES.images}`] = a.imageDigests.join(" ");
    }
    return data;
}
