/**
 * Writes docs/policies.md, the compliance view of the policy packs, from the packs' metadata and the
 * per-stack enforcement files: `npm run policy:docs` (or `npx tsx scripts/policy-docs.ts`).
 * `--check` exits 1 when the file is out of date instead of writing it.
 */
import * as fs from "fs";
import * as path from "path";
import { policyDocs } from "../policy/packs";

const out = path.resolve(__dirname, "..", "docs", "policies.md");
const text = policyDocs();
if (process.argv.includes("--check")) {
    const current = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "";
    if (current !== text) {
        console.error(`${path.relative(process.cwd(), out)} is out of date: run npm run policy:docs`);
        process.exit(1);
    }
    console.log(`${path.relative(process.cwd(), out)} is up to date`);
} else {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
}
