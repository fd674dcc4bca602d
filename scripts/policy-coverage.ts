/**
 * Writes docs/coverage.md and docs/coverage.json, the baseline coverage matrix (policy/reports/coverage.ts),
 * from the resource types the dev, test and prod platform stacks and the example team stacks record on
 * the offline engine: `npm run policy:coverage`. `--check` exits 1 when a file is out of date.
 */
import * as fs from "fs";
import * as path from "path";
import { setStackReferenceOutputs } from "../engine/mockState";
import { recordStack } from "../engine/stack";
import { coverageJson, coverageMarkdown } from "../policy/reports/coverage";
import { STACKS } from "../policy/packs";

const ROOT = path.resolve(__dirname, "..");
const TEAM = path.join(ROOT, "examples", "team-fraud");

async function recordedTypes(): Promise<string[]> {
    const types = new Set<string>();
    for (const stack of STACKS) {
        const platform = await recordStack({ root: ROOT, stack });
        platform.resources.forEach((r) => types.add(r.type));
        setStackReferenceOutputs({ [`acme/mlops/${stack}`]: { outputs: platform.outputs as Record<string, unknown> } });
        try {
            const team = await recordStack({ root: TEAM, stack });
            team.resources.forEach((r) => types.add(r.type));
        } finally {
            setStackReferenceOutputs({});
        }
    }
    return [...types].sort();
}

async function main(): Promise<void> {
    const types = await recordedTypes();
    const files = { [path.join(ROOT, "docs", "coverage.md")]: coverageMarkdown(types), [path.join(ROOT, "docs", "coverage.json")]: coverageJson(types) };
    let stale = false;
    for (const [file, text] of Object.entries(files)) {
        const rel = path.relative(process.cwd(), file);
        if (process.argv.includes("--check")) {
            if ((fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "") !== text) {
                console.error(`${rel} is out of date: run npm run policy:coverage`);
                stale = true;
            }
        } else {
            fs.writeFileSync(file, text);
            console.log(`wrote ${rel}`);
        }
    }
    if (stale) process.exit(1);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
