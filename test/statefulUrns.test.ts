/**
 * Stateful resources (buckets, keys, databases, volumes, namespaces) must keep their URNs: a changed URN
 * is a delete and a create in a real deployment, which loses data. This test pins the URNs per stack
 * in test/stateful-urns.json. A refactor that moves one fails here until the moved resource carries an
 * alias to its old URN. Adding a stateful resource fails too, until the snapshot is updated on purpose:
 *   UPDATE_URN_SNAPSHOT=1 npx vitest run test/statefulUrns.test.ts
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import type { RecordedAlias, RecordedResource } from "../engine/recorder";
import { runStack, STACKS, STATEFUL_TYPES } from "./harness";

const SNAPSHOT = path.join(__dirname, "stateful-urns.json");
const update = process.env.UPDATE_URN_SNAPSHOT === "1";

/** The URN an alias stands for, filling in what the alias leaves out from the resource itself. */
export function aliasUrn(r: RecordedResource, alias: RecordedAlias, byUrn: Map<string, RecordedResource>): string {
    if ("urn" in alias) return alias.urn;
    const [stackPart, projectPart] = r.urn.split("::");
    const stack = alias.stack ?? stackPart.replace(/^urn:pulumi:/, "");
    const project = alias.project ?? projectPart;
    const type = alias.type ?? r.type;
    const name = alias.name ?? r.name;
    let parentChain = "";
    const parentUrn = alias.noParent ? undefined : (alias.parentUrn ?? r.parent);
    if (parentUrn && byUrn.get(parentUrn)?.type !== "pulumi:pulumi:Stack") {
        parentChain = `${parentUrn.split("::")[2]}$`;
    }
    return `urn:pulumi:${stack}::${project}::${parentChain}${type}::${name}`;
}

function load(): Record<string, string[]> {
    return fs.existsSync(SNAPSHOT) ? JSON.parse(fs.readFileSync(SNAPSHOT, "utf8")) : {};
}

describe("stateful resources keep their URNs", () => {
    const snapshot = load();
    const current: Record<string, string[]> = {};

    it.each(STACKS)("%s", async (stack) => {
        const run = await runStack(stack);
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        const stateful = run.resources.filter((r) => STATEFUL_TYPES.includes(r.type));
        const urns = stateful.map((r) => r.urn).sort();
        current[stack] = urns;
        if (update) {
            fs.writeFileSync(SNAPSHOT, `${JSON.stringify({ ...load(), [stack]: urns }, null, 2)}\n`);
            return;
        }
        const known = new Set(urns);
        const aliased = new Set(stateful.flatMap((r) => r.options.aliases.map((a) => aliasUrn(r, a, byUrn))));
        const lost = (snapshot[stack] ?? []).filter((u) => !known.has(u) && !aliased.has(u));
        expect(lost, `stateful resources would be replaced (data loss): add an alias to their old URN`).toEqual([]);
        const added = urns.filter((u) => !(snapshot[stack] ?? []).includes(u));
        expect(added, `new stateful resources: review, then UPDATE_URN_SNAPSHOT=1 npx vitest run test/statefulUrns.test.ts`).toEqual([]);
    });
});

describe("aliasUrn", () => {
    const stackUrn = "urn:pulumi:prod::mlops::pulumi:pulumi:Stack::mlops-prod";
    const parent = "urn:pulumi:prod::mlops::mlops:index:ArtifactStore::artifacts";
    const byUrn = new Map<string, RecordedResource>([
        [stackUrn, { type: "pulumi:pulumi:Stack" } as RecordedResource],
        [parent, { type: "mlops:index:ArtifactStore" } as RecordedResource],
    ]);
    const moved = {
        urn: "urn:pulumi:prod::mlops::mlops:index:ArtifactStore$aws:s3/bucket:Bucket::store-bucket",
        type: "aws:s3/bucket:Bucket",
        name: "store-bucket",
        parent,
    } as RecordedResource;

    it("resolves a renamed resource's alias to its old URN", () => {
        expect(aliasUrn(moved, { name: "artifacts-bucket" }, byUrn)).toBe(
            "urn:pulumi:prod::mlops::mlops:index:ArtifactStore$aws:s3/bucket:Bucket::artifacts-bucket",
        );
    });

    it("resolves a resource moved out of the stack root into a component", () => {
        expect(aliasUrn(moved, { name: "artifacts-bucket", parentUrn: stackUrn }, byUrn)).toBe(
            "urn:pulumi:prod::mlops::aws:s3/bucket:Bucket::artifacts-bucket",
        );
        expect(aliasUrn(moved, { noParent: true }, byUrn)).toBe("urn:pulumi:prod::mlops::aws:s3/bucket:Bucket::store-bucket");
    });

    it("passes full URN aliases through", () => {
        expect(aliasUrn(moved, { urn: "urn:pulumi:prod::mlops::x::y" }, byUrn)).toBe("urn:pulumi:prod::mlops::x::y");
    });
});
