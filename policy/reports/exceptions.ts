/**
 * The documented exceptions: advisory findings accepted on the real stacks, each with its reason, in the
 * table of docs/policy-exceptions.md (stack, policy, resource, reason, revisit when). The tests require
 * every advisory finding of the stacks to be listed and every listed one to occur; the plan's results
 * export marks a listed finding as an accepted exception.
 */
import * as fs from "fs";
import * as path from "path";

/** One row of the table. `stack` is `prod`, or `<team project>/prod` for a team stack. */
export interface PolicyException {
    readonly stack: string;
    readonly policy: string;
    /** The resource's name (the last part of its URN). */
    readonly resource: string;
    readonly reason: string;
    readonly revisitWhen: string;
}

/** docs/policy-exceptions.md of the repository. */
export const EXCEPTIONS_FILE = path.resolve(__dirname, "..", "..", "docs", "policy-exceptions.md");

/** The rows of the exceptions table in `text`. */
export function parsePolicyExceptions(text: string): PolicyException[] {
    return text
        .split("\n")
        .filter((l) => /^\|\s*([a-z0-9-]+\/)?(dev|test|prod)\s*\|/.test(l))
        .map((l) => {
            const [stack, policy, resource, reason, revisitWhen] = l
                .split("|")
                .slice(1, 6)
                .map((c) => (c ?? "").trim());
            return { stack, policy, resource, reason, revisitWhen };
        });
}

/** The rows of docs/policy-exceptions.md. */
export function readPolicyExceptions(file: string = EXCEPTIONS_FILE): PolicyException[] {
    return fs.existsSync(file) ? parsePolicyExceptions(fs.readFileSync(file, "utf8")) : [];
}
