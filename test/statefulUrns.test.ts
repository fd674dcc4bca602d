/**
 * Stateful resources (buckets, keys, databases, volumes, namespaces) must keep their URNs: a changed URN
 * is a delete and a create in a real deployment, which loses data. test/stateful-urns.json holds, per
 * stack, the URNs the deployed state holds for them and for their ancestor components (what the engine
 * matches a moved component's alias against: children inherit it). Each stack's program is matched
 * against that state as the Pulumi engine matches it (engine/aliases.ts: own URN, then aliases, aliases
 * inherited from a parent found at its old URN included). A refactor that moves a stateful resource or
 * one of its components fails here until an alias leads back to the old URN. Adding a stateful resource
 * fails too, until the snapshot is updated on purpose (which keeps the old URNs of moved resources):
 *   UPDATE_URN_SNAPSHOT=1 npx vitest run test/statefulUrns.test.ts
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { resolveOldUrns } from "../engine/aliases";
import type { RecordedResource } from "../engine/recorder";
import { runStack, STACKS, STATEFUL_TYPES } from "./harness";

const SNAPSHOT = path.join(__dirname, "stateful-urns.json");
const update = process.env.UPDATE_URN_SNAPSHOT === "1";
const ROOT_STACK = "pulumi:pulumi:Stack";

function load(): Record<string, string[]> {
    return fs.existsSync(SNAPSHOT) ? JSON.parse(fs.readFileSync(SNAPSHOT, "utf8")) : {};
}

const typeOfUrn = (urn: string) => urn.split("::")[2].split("$").pop() ?? "";

/** The stateful resources of a run and their ancestors (the root stack aside). */
export function statefulAndAncestors(resources: readonly RecordedResource[]): RecordedResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const out = new Set<RecordedResource>();
    for (const r of resources.filter((x) => STATEFUL_TYPES.includes(x.type))) {
        for (let at: RecordedResource | undefined = r; at && at.type !== ROOT_STACK && !out.has(at); at = byUrn.get(at.parent)) out.add(at);
    }
    return [...out];
}

/** Matches a run's stateful resources against the deployed state: the old URNs no one is found at, the resources found nowhere, and old URNs claimed twice. */
export function checkStatefulUrns(
    resources: readonly RecordedResource[],
    deployed: ReadonlySet<string>,
): { lost: string[]; added: string[]; claimedTwice: string[] } {
    const foundAt = resolveOldUrns(resources, (u) => deployed.has(u));
    const stateful = resources.filter((r) => STATEFUL_TYPES.includes(r.type));
    const reached = stateful.map((r) => foundAt.get(r.urn)).filter((u) => u !== undefined);
    return {
        lost: [...deployed].filter((u) => STATEFUL_TYPES.includes(typeOfUrn(u)) && !reached.includes(u)),
        added: stateful.filter((r) => foundAt.get(r.urn) === undefined).map((r) => r.urn),
        claimedTwice: reached.filter((u, i) => reached.indexOf(u) !== i),
    };
}

describe("stateful resources keep their URNs", () => {
    const snapshot = load();

    it.each(STACKS)("%s", async (stack) => {
        const run = await runStack(stack);
        const deployed = new Set(snapshot[stack] ?? []);
        if (update) {
            // The URN each is found at in the deployed state (an old URN for a moved one), or its own if new.
            const foundAt = resolveOldUrns(run.resources, (u) => deployed.has(u));
            const urns = [...new Set(statefulAndAncestors(run.resources).map((r) => foundAt.get(r.urn) ?? r.urn))].sort();
            fs.writeFileSync(SNAPSHOT, `${JSON.stringify({ ...load(), [stack]: urns }, null, 2)}\n`);
            return;
        }
        const { lost, added, claimedTwice } = checkStatefulUrns(run.resources, deployed);
        expect(claimedTwice, "two resources claim one old URN (the engine refuses that)").toEqual([]);
        expect(lost, "stateful resources would be replaced (data loss): add an alias to their old URN (or to their component's)").toEqual([]);
        expect(added, "new stateful resources: review, then UPDATE_URN_SNAPSHOT=1 npx vitest run test/statefulUrns.test.ts").toEqual([]);
    });
});

describe("the check itself", () => {
    // MlflowDatabase moved the database components under it with an alias to MlflowTracking; their stateful
    // children inherit it. Without that alias, the check finds them lost.
    it.each([
        ["prod", "mlops:index:RdsPostgres", ["aws:kms/key:Key::mlflow-db-key", "aws:rds/instance:Instance::mlflow-db-instance"]],
        ["dev", "mlops:index:InClusterPostgres", ["kubernetes:apps/v1:StatefulSet::mlflow-postgres-statefulset"]],
    ])("%s: without the alias of %s, its stateful children are lost at their old URNs and found nowhere", async (stack, component, children) => {
        const run = await runStack(stack);
        const deployed = new Set(load()[stack]);
        expect(checkStatefulUrns(run.resources, deployed)).toEqual({ lost: [], added: [], claimedTwice: [] });
        const unaliased = run.resources.map((r) => (r.type === component ? { ...r, options: { ...r.options, aliases: [] } } : r));
        const { lost, added } = checkStatefulUrns(unaliased, deployed);
        expect(lost.map((u) => u.split("$").pop()).sort()).toEqual(children);
        expect(lost.every((u) => u.includes(`mlops:index:MlflowTracking$${component}$`))).toBe(true);
        expect(added.map((u) => u.split("$").pop()).sort()).toEqual(children);
    });
});
