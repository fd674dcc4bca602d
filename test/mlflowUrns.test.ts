/**
 * MlflowTracking is split into child components (mlflow/*.ts). Moving a resource under a new parent
 * changes its URN, which a real deployment reads as a delete and a create; so every resource that was
 * registered under MlflowTracking before the split must still be registered at its URN, or carry an
 * alias that resolves to it. test/fixtures/mlflow-urns.json holds the URNs of every resource under
 * MlflowTracking per stack as they were before the split (recorded once, from the unsplit component):
 *   UPDATE_MLFLOW_URN_BASELINE=1 npx vitest run test/mlflowUrns.test.ts
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import type { RecordedAlias, RecordedResource } from "../engine/recorder";
import { runStack, STACKS } from "./harness";

const BASELINE = path.join(__dirname, "fixtures", "mlflow-urns.json");
const update = process.env.UPDATE_MLFLOW_URN_BASELINE === "1";

/** The URN an alias spec stands for: what it leaves out comes from the resource itself (as the engine does). */
function resolveAlias(r: RecordedResource, alias: RecordedAlias, byUrn: Map<string, RecordedResource>): string {
    if ("urn" in alias) return alias.urn;
    const [stackPart, projectPart] = r.urn.split("::");
    const parentUrn = alias.noParent ? undefined : (alias.parentUrn ?? r.parent);
    const parentChain = parentUrn && byUrn.get(parentUrn)?.type !== "pulumi:pulumi:Stack" ? `${parentUrn.split("::")[2]}$` : "";
    return `urn:pulumi:${alias.stack ?? stackPart.replace(/^urn:pulumi:/, "")}::${alias.project ?? projectPart}::${parentChain}${alias.type ?? r.type}::${alias.name ?? r.name}`;
}

const underMlflow = (r: RecordedResource) => r.urn.split("::")[2].startsWith("mlops:index:MlflowTracking");

describe("resources under MlflowTracking keep their URNs (or alias them)", () => {
    // dev runs MLflow without basic auth and an in-cluster database, test and prod with auth and RDS.
    it.each(STACKS)("%s", async (stack) => {
        const run = await runStack(stack);
        const key = stack;
        const mine = run.resources.filter(underMlflow);
        if (update) {
            const all = fs.existsSync(BASELINE) ? JSON.parse(fs.readFileSync(BASELINE, "utf8")) : {};
            fs.writeFileSync(BASELINE, `${JSON.stringify({ ...all, [key]: mine.map((r) => r.urn).sort() }, null, 2)}\n`);
            return;
        }
        const before: string[] = JSON.parse(fs.readFileSync(BASELINE, "utf8"))[key];
        expect(before.length).toBeGreaterThan(10);
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        const now = new Set(mine.map((r) => r.urn));
        const aliasesOf = new Map(mine.map((r) => [r.urn, r.options.aliases.map((a) => resolveAlias(r, a, byUrn))]));
        const reached = new Set([...aliasesOf.values()].flat());
        // Every old URN is still registered or is the alias of a registered resource.
        expect(before.filter((u) => !now.has(u) && !reached.has(u))).toEqual([]);
        // Every resource whose URN is new either is one of the new child components or aliases an old URN.
        const moved = mine.filter((r) => !before.includes(r.urn) && r.custom);
        for (const r of moved)
            expect(
                aliasesOf.get(r.urn)!.filter((u) => before.includes(u)),
                r.urn,
            ).toHaveLength(1);
        // Only the new components themselves are new without an alias.
        const newComponents = mine.filter((r) => !before.includes(r.urn) && !r.custom).map((r) => r.type);
        expect(
            newComponents.every((t) => /^mlops:index:Mlflow(Auth|Server|Gc|Database)$/.test(t)),
            newComponents.join(),
        ).toBe(true);
    });
});
