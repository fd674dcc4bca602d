/**
 * The SARIF 2.1.0 JSON schema (the OASIS schema as @microsoft/jest-sarif ships it, draft-04, validated
 * with ajv-draft-04 and ajv-formats): what the plan's `--sarif` file is checked against.
 */
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const schema = require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");

// The schema has a pattern with a stray "]" that is invalid in unicode mode: compile its patterns as plain RegExps.
const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, logger: false });
addFormats(ajv);
const validate = ajv.compile(schema);

/** Every schema error of `log` (`path: message`), `[]` when it is valid SARIF 2.1.0. */
export function validateSarif(log: unknown): string[] {
    return validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message}`);
}
