/**
 * Registered models as the platform names them (docs/registry-conventions.md): the checks of team and
 * model names and of artifact-bucket prefixes that ModelService and BatchInference run; the formats
 * themselves (names, versions, `models:/` URIs, approval records) are the contract's (contract/). Each
 * check returns the sentence a user reads, or undefined when all is well.
 */
import { MODEL_NAME, MODEL_NAME_MAX, TEAM_NAME, teamModelPrefix } from "../contract";
import { normalizePrefix } from "../shared/s3Prefix";

export {
    type ApprovalRecord,
    approvalProblems,
    MODEL_NAME,
    MODEL_NAME_MAX,
    type ModelRef,
    modelVersionUri,
    parseApprovalDate,
    parseModelUri,
    TEAM_NAME,
} from "../contract";

/** What is wrong with a team name, if anything. */
export function teamNameProblem(team: string): string | undefined {
    return TEAM_NAME.test(team) ? undefined : `team "${team}" must be 2-20 lower-case letters, digits and -, starting with a letter`;
}

/** What is wrong with a registered model name of `team`, if anything: `<team>-<model>`, at most 40 characters. */
export function modelNameProblem(name: string, team: string): string | undefined {
    if (!MODEL_NAME.test(name)) return `model name "${name}" must be lower-case letters, digits and - (a registered model name like ${team}-scorer)`;
    if (name.length > MODEL_NAME_MAX) return `model name "${name}" is ${name.length} characters long; at most ${MODEL_NAME_MAX} are allowed`;
    if (!name.startsWith(teamModelPrefix(team))) return `model name "${name}" must start with the team name ("${teamModelPrefix(team)}")`;
    return undefined;
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
