/**
 * engine/aliases.ts: where each resource is found in an earlier state, as the Pulumi engine's step
 * generator resolves own, spec'd and inherited aliases (pkg/resource/deploy/step_generator.go).
 */
import { describe, expect, it } from "vitest";
import { type AliasedResource, resolveOldUrns } from "../engine/aliases";
import type { RecordedAlias } from "../engine/recorder";

const STACK = "urn:pulumi:prod::mlops::pulumi:pulumi:Stack::mlops-prod";

/** A resource registered under `parent` (a URN, or the stack), its URN built as the engine builds it. */
function res(type: string, name: string, parent: string = STACK, aliases: RecordedAlias[] = []): AliasedResource {
    const chain = parent === STACK ? type : `${parent.split("::")[2]}$${type}`;
    return { urn: `urn:pulumi:prod::mlops::${chain}::${name}`, type, name, parent, options: { aliases } };
}

describe("resolveOldUrns", () => {
    // Before: Tracking > RdsPostgres "db" > Instance "db-instance". After: Tracking > Database > RdsPostgres > Instance.
    const stack = { urn: STACK, type: "pulumi:pulumi:Stack", name: "mlops-prod", parent: "", options: {} };
    const tracking = res("mlops:index:Tracking", "mlflow");
    const oldRds = res("mlops:index:RdsPostgres", "db", tracking.urn);
    const oldInstance = res("aws:rds/instance:Instance", "db-instance", oldRds.urn);
    const database = res("mlops:index:Database", "mlflow", tracking.urn);
    const rds = res("mlops:index:RdsPostgres", "db", database.urn, [{ parentUrn: tracking.urn }]);
    const instance = res("aws:rds/instance:Instance", "db-instance", rds.urn);
    const before = [STACK, tracking.urn, oldRds.urn, oldInstance.urn];

    it("finds a resource at its own URN first, even when an alias names another URN the state holds", () => {
        const aliased = { ...oldInstance, options: { aliases: [{ name: "db-old" }] } };
        const state = [...before, oldInstance.urn.replace("::db-instance", "::db-old")];
        expect(resolveOldUrns([stack, tracking, oldRds, aliased], (u) => state.includes(u)).get(oldInstance.urn)).toBe(oldInstance.urn);
    });

    it("finds a component moved under a new parent at its alias, and its children at the alias they inherit", () => {
        const at = resolveOldUrns([stack, tracking, database, rds, instance], (u) => before.includes(u));
        expect(at.get(rds.urn)).toBe(oldRds.urn);
        expect(at.get(instance.urn)).toBe(oldInstance.urn);
        // The new component itself is created: nothing of the old state is its.
        expect(at.get(database.urn)).toBeUndefined();
    });

    it("without the component's alias, its children are created (and the old ones deleted)", () => {
        const unaliased = { ...rds, options: { aliases: [] } };
        const at = resolveOldUrns([stack, tracking, database, unaliased, instance], (u) => before.includes(u));
        expect(at.get(instance.urn)).toBeUndefined();
    });

    it("children inherit only an alias their parent was found at: a parent found at its own URN passes none on", () => {
        // The state already holds the new URNs (a second deployment): everything is found at its own URN.
        const after = [STACK, tracking.urn, database.urn, rds.urn, instance.urn];
        const at = resolveOldUrns([stack, tracking, database, rds, instance], (u) => after.includes(u));
        expect([...at.values()]).toEqual([STACK, tracking.urn, database.urn, rds.urn, instance.urn]);
    });

    it("a child named after its parent takes the parent's old name as prefix (a renamed component)", () => {
        const renamed = res("mlops:index:RdsPostgres", "tracking-db", tracking.urn, [{ name: "db" }]);
        const child = res("aws:rds/instance:Instance", "tracking-db-instance", renamed.urn);
        const other = res("aws:kms/key:Key", "key", renamed.urn);
        const oldKey = res("aws:kms/key:Key", "key", oldRds.urn);
        const at = resolveOldUrns([stack, tracking, renamed, child, other], (u) => [...before, oldKey.urn].includes(u));
        expect(at.get(child.urn)).toBe(oldInstance.urn);
        // A name without the parent's as prefix is kept.
        expect(at.get(other.urn)).toBe(oldKey.urn);
    });

    it("a child's own aliases are inherited too (an older type of the child under the parent's old URN)", () => {
        const oldSet = res("kubernetes:apps/v1beta1:StatefulSet", "pg", oldRds.urn);
        const set = res("kubernetes:apps/v1:StatefulSet", "pg", rds.urn, [{ type: "kubernetes:apps/v1beta1:StatefulSet" }]);
        const at = resolveOldUrns([stack, tracking, database, rds, set], (u) => [...before, oldSet.urn].includes(u));
        expect(at.get(set.urn)).toBe(oldSet.urn);
    });

    it("an alias spec's parent that was itself found at an alias stands for that alias", () => {
        // The secret moved from under the RdsPostgres component to the Database component, and the RdsPostgres component moved too.
        const oldSecret = res("kubernetes:core/v1:Secret", "db-secret", oldRds.urn);
        const secret = res("kubernetes:core/v1:Secret", "db-secret", database.urn, [{ parentUrn: rds.urn }]);
        const at = resolveOldUrns([stack, tracking, database, rds, secret], (u) => [...before, oldSecret.urn].includes(u));
        expect(at.get(secret.urn)).toBe(oldSecret.urn);
    });

    it("resolves plain aliases as specs completed from the resource: names, no parent, the stack as parent, full URNs", () => {
        const bucket = res("aws:s3/bucket:Bucket", "artifacts-bucket", database.urn, [
            { name: "old-name" },
            { noParent: true },
            { parentUrn: STACK, name: "root-name" },
            { urn: "urn:pulumi:prod::mlops::x::y" },
        ]);
        const candidates = [
            "urn:pulumi:prod::mlops::mlops:index:Tracking$mlops:index:Database$aws:s3/bucket:Bucket::old-name",
            "urn:pulumi:prod::mlops::aws:s3/bucket:Bucket::artifacts-bucket",
            "urn:pulumi:prod::mlops::aws:s3/bucket:Bucket::root-name",
            "urn:pulumi:prod::mlops::x::y",
        ];
        for (const old of candidates) expect(resolveOldUrns([stack, tracking, database, bucket], (u) => u === old).get(bucket.urn)).toBe(old);
    });

    it("skips an alias that is another resource's current URN (the engine refuses two resources claiming one)", () => {
        const a = res("aws:s3/bucket:Bucket", "a");
        const b = res("aws:s3/bucket:Bucket", "b", STACK, [{ name: "a" }]);
        const at = resolveOldUrns([stack, a, b], (u) => u === a.urn);
        expect(at.get(a.urn)).toBe(a.urn);
        expect(at.get(b.urn)).toBeUndefined();
    });
});
