/**
 * MlflowTracking is split into child components (mlflow/*.ts). Moving a resource under a new parent
 * changes its URN, which a real deployment reads as a delete and a create; so every resource that was
 * registered under MlflowTracking before the split must still be found at its URN, as the engine finds
 * it: at its own URN, at an alias of its own, or at one it inherits from a component that moved with an
 * alias (engine/aliases.ts). test/fixtures/mlflow-urns.json holds the URNs of every resource under
 * MlflowTracking per stack as they were before the split (recorded once, from the unsplit component):
 *   UPDATE_MLFLOW_URN_BASELINE=1 npx vitest run test/mlflowUrns.test.ts
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { resolveOldUrns } from "../engine/aliases";
import type { RecordedResource } from "../engine/recorder";
import { runStack, STACKS } from "./harness";

const BASELINE = path.join(__dirname, "fixtures", "mlflow-urns.json");
const update = process.env.UPDATE_MLFLOW_URN_BASELINE === "1";

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
        // Where the engine finds each resource in a state made by the unsplit component (engine/aliases.ts):
        // its own URN, an alias of its own, or one inherited from a component found at its old URN.
        const foundAt = resolveOldUrns(run.resources, (u) => before.includes(u));
        const reached = mine.map((r) => foundAt.get(r.urn)).filter((u) => u !== undefined);
        // Every old URN is found, and by one resource only.
        expect(before.filter((u) => !reached.includes(u))).toEqual([]);
        expect(reached.filter((u, i) => reached.indexOf(u) !== i)).toEqual([]);
        // Only the new child components themselves are found nowhere (created: a component has no cloud resource).
        const created = mine.filter((r) => foundAt.get(r.urn) === undefined);
        expect(
            created.every((r) => !r.custom && /^mlops:index:Mlflow(Auth|Server|Gc|Database)$/.test(r.type)),
            created.map((r) => r.urn).join(),
        ).toBe(true);
    });
});
