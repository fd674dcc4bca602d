/**
 * Registered models as the platform names them (docs/registry-conventions.md): pure functions for model
 * names, versions, `models:/` URIs, approval records and artifact-bucket prefixes, shared by ModelService
 * and BatchInference. Each check returns the sentence a user reads, or undefined when all is well.
 */
import { normalizePrefix } from "./iam";

/** Longest registered model name: it becomes part of object names and label values. */
export const MODEL_NAME_MAX = 40;
/** Registered model names: lower-case letters, digits and `-`, alphanumeric at both ends. */
export const MODEL_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** MLflow registry aliases. */
export const MODEL_ALIAS = /^[a-z][a-z0-9_-]{0,62}$/;
/** Team names, as in `mlops:teams[].name`. */
export const TEAM_NAME = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;
/** Approval tickets: a project key and a number (`CHG-10423`), as the approval policy expects. */
export const APPROVAL_TICKET = /^[A-Z][A-Z0-9]+-\d+$/;

/** What is wrong with a team name, if anything. */
export function teamNameProblem(team: string): string | undefined {
    return TEAM_NAME.test(team) ? undefined : `team "${team}" must be 2-20 lower-case letters, digits and -, starting with a letter`;
}

/** What is wrong with a registered model name of `team`, if anything: `<team>-<model>`, at most 40 characters. */
export function modelNameProblem(name: string, team: string): string | undefined {
    if (!MODEL_NAME.test(name)) return `model name "${name}" must be lower-case letters, digits and - (a registered model name like ${team}-scorer)`;
    if (name.length > MODEL_NAME_MAX) return `model name "${name}" is ${name.length} characters long; at most ${MODEL_NAME_MAX} are allowed`;
    if (!name.startsWith(`${team}-`)) return `model name "${name}" must start with the team name ("${team}-")`;
    return undefined;
}

/** Is `v` a registered model version (a positive integer)? */
export function isModelVersion(v: unknown): v is number {
    return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}

/** `models:/<name>/<version>`: the pinned registry URI of a version. */
export function modelVersionUri(name: string, version: number): string {
    return `models:/${name}/${version}`;
}

/** A parsed registry URI: a pinned version, or an alias resolved when the server loads it. */
export type ModelRef = { readonly name: string; readonly version: number } | { readonly name: string; readonly alias: string };

/** Thrown for a malformed `models:/` URI. */
export class ModelUriError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ModelUriError";
    }
}

const STAGES = /^(production|staging|archived|none)$/i;

/**
 * Parses `models:/<name>/<version>` or `models:/<name>@<alias>`.
 * @throws ModelUriError saying what is wrong and what a good URI looks like.
 */
export function parseModelUri(uri: string): ModelRef {
    const bad = (why: string) => new ModelUriError(`model URI "${uri}" ${why}`);
    const m = /^models:\/([^/@]+)(?:\/([^/@]+)|@([^/@]+))$/.exec(uri);
    if (!m) throw bad("is malformed: expected models:/<name>/<version> or models:/<name>@<alias>");
    const [, name, version, alias] = m;
    if (!MODEL_NAME.test(name)) throw bad(`names "${name}", which is not a registered model name (lower-case letters, digits and -)`);
    if (alias !== undefined) {
        if (!MODEL_ALIAS.test(alias)) throw bad(`has an invalid alias "${alias}" (lower-case letters, digits, _ and -, starting with a letter)`);
        return { name, alias };
    }
    if (STAGES.test(version)) throw bad(`names the stage "${version}": stages are not used, pin models:/${name}/<version>`);
    if (/^latest$/i.test(version)) throw bad(`names "latest", which moves: pin models:/${name}/<version>`);
    if (!/^\d+$/.test(version) || !isModelVersion(Number(version))) throw bad(`has version "${version}"; a version is a positive integer`);
    return { name, version: Number(version) };
}

/** The approval of a model version for production (docs/registry-conventions.md, `approval.*` tags). */
export interface ApprovalRecord {
    /** Who approved: a user or group name of the identity provider (`jane.doe`). */
    readonly approvedBy: string;
    /** Change ticket of the approval (`CHG-10423`). */
    readonly ticket: string;
    /** Date of the approval, `YYYY-MM-DD` (UTC). */
    readonly date: string;
}

/** The UTC date `YYYY-MM-DD` stands for, or undefined when it is not a real calendar date in that form. */
export function parseApprovalDate(date: string): Date | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    if (!m) return undefined;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = new Date(Date.UTC(y, mo - 1, d));
    return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d ? t : undefined;
}

/** Problems of an approval record (empty when valid). A date up to one day ahead of `now` is accepted (time zones). */
export function approvalProblems(a: ApprovalRecord, now: Date = new Date()): string[] {
    const problems: string[] = [];
    if (typeof a.approvedBy !== "string" || !/^[A-Za-z0-9][A-Za-z0-9@._:+-]{0,127}$/.test(a.approvedBy)) {
        problems.push(`approval.approvedBy "${a.approvedBy}" must name who approved (a user or group name like jane.doe, up to 128 characters)`);
    }
    if (typeof a.ticket !== "string" || !APPROVAL_TICKET.test(a.ticket)) {
        problems.push(`approval.ticket "${a.ticket}" must be a change ticket like CHG-10423`);
    }
    const date = typeof a.date === "string" ? parseApprovalDate(a.date) : undefined;
    if (!date) problems.push(`approval.date "${a.date}" must be a date written YYYY-MM-DD`);
    else if (date.getTime() > now.getTime() + 86_400_000) problems.push(`approval.date "${a.date}" is in the future`);
    return problems;
}

/**
 * Is `prefix` inside `root` (or `root` itself)? Both are bucket prefixes; slashes at either end are
 * ignored, `.`/`..` segments and wildcards are never inside anything.
 */
export function isUnderPrefix(prefix: string, root: string): boolean {
    let p: string;
    try {
        p = normalizePrefix(prefix);
    } catch {
        return false;
    }
    const segments = p.split("/");
    if (segments.some((s) => s === "" || s === "." || s === "..")) return false;
    const r = normalizePrefix(root);
    return p === r || p.startsWith(`${r}/`);
}
