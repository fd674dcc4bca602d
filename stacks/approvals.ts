/**
 * Reads the approvals of the stack's environment: `approvals/<environment>.yaml` beside the platform
 * program (compliance owns it, see .github/CODEOWNERS), validated once, before any resource, with every
 * problem in one message. A missing file means no approvals: nothing can be deployed to prod then.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { type ModelApproval, approvalsFile, parseModelApprovals } from "../components/contract";

/** Root of the platform repository (where Pulumi.yaml and approvals/ are). */
const ROOT = path.resolve(__dirname, "..");

/** Thrown for an invalid approvals file; `problems` holds one sentence per problem. */
export class ApprovalsError extends Error {
    constructor(
        readonly file: string,
        readonly problems: readonly string[],
    ) {
        super(`Invalid approvals file ${file} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ApprovalsError";
    }
}

/**
 * The approvals of `environment`, from `<root>/approvals/<environment>.yaml`. `teams`: the teams of the
 * environment (an approval for any other team is refused).
 * @throws ApprovalsError listing every problem.
 */
export function loadModelApprovals(environment: string, teams: readonly string[], root: string = ROOT): ModelApproval[] {
    const rel = approvalsFile(environment);
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) return [];
    let raw: unknown;
    try {
        raw = parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new ApprovalsError(rel, [`not valid YAML: ${(e as Error).message}`]);
    }
    const { approvals, problems } = parseModelApprovals(raw, rel, teams);
    if (problems.length > 0) throw new ApprovalsError(rel, problems);
    return approvals;
}
