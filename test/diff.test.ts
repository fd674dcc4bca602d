/**
 * Plan diffs (engine/diff.ts): a change to a real stack, planned twice, shows its stateful resource
 * first; moves, URN changes, immutable fields, secrets and policy results are classified as Pulumi
 * and Kubernetes would treat them.
 */
import { describe, expect, it } from "vitest";
import { changedPaths, dataLosingChanges, diffPlans, type PlanDocument, type PlanResource, renderDiff, renderDiffMarkdown, withoutStack } from "../engine/diff";
import { planStack } from "../engine/plan";
import { planDocument } from "../engine/render";
import { resolveStack } from "../engine/stack";
import { ROOT, vitestLoader } from "./harness";

async function planDoc(stack: string, configOverrides?: Record<string, string>): Promise<PlanDocument> {
    const p = await planStack({ root: ROOT, stack, configOverrides, policyPacks: [], policyTimeoutMs: 10_000, load: vitestLoader });
    const doc = planDocument({
        project: p.project,
        stack: p.stack,
        organization: p.organization,
        resources: p.resources,
        outputs: p.recording.outputs,
        schemaErrors: p.schemaErrors,
        kubernetesObjects: p.objects.length,
        exitCode: p.exitCode,
    });
    return JSON.parse(JSON.stringify(doc)) as PlanDocument;
}

/** The dev stack's plan, planned once for the tests that start from it. */
let devPlan: Promise<PlanDocument> | undefined;
const devBaseline = () => (devPlan ??= planDoc("dev"));

describe("a change to a real stack", () => {
    it("a bigger in-cluster database volume replaces the StatefulSet, shown first, above the Deployment's update", async () => {
        const mlflow = JSON.parse(resolveStack(ROOT, "dev").stackConfig.config["mlops:mlflow"]);
        const changed = { ...mlflow, replicas: 2, database: { ...mlflow.database, storageGiB: mlflow.database.storageGiB + 10 } };
        const [base, head] = [await devBaseline(), await planDoc("dev", { "mlops:mlflow": JSON.stringify(changed) })];
        const d = diffPlans(base, head);
        const first = d.changes[0];
        expect(first).toMatchObject({ kind: "replace", type: "kubernetes:apps/v1:StatefulSet", stateful: true });
        expect(first.replaceReasons).toEqual(["spec.volumeClaimTemplates cannot be changed in place"]);
        expect(first.changedPaths).toContain("spec.volumeClaimTemplates[0].spec.resources.requests.storage");
        const deployment = d.changes.find((c) => c.type === "kubernetes:apps/v1:Deployment");
        expect(deployment).toMatchObject({ kind: "update", changedPaths: ["spec.replicas", "spec.template.spec.topologySpreadConstraints"] });
        expect(d.changes.indexOf(deployment!)).toBeGreaterThan(0);
        expect(dataLosingChanges(d).map((c) => c.urn)).toEqual([first.urn]);
        const text = renderDiff(d);
        expect(text).toMatch(/WARNING: 1 stateful or protected resource deleted or replaced/);
        expect(text.split("\n").find((l) => /^\s+(\+-|~|\+|-|>)\s/.test(l))).toContain("StatefulSet");
        expect(renderDiffMarkdown(d)).toMatch(/\| ⚠️ \| replace \(stateful\) \| `kubernetes:apps\/v1:StatefulSet` \|/);
    }, 60_000);

    it("the same stack planned twice has no changes; test and prod compared show their drift without the stack in the URNs", async () => {
        // Two plans of the same stack (two runs of the program), not one plan compared with itself.
        const [first, second] = [await devBaseline(), await planDoc("dev")];
        expect(second).not.toBe(first);
        expect(diffPlans(first, second).changes).toEqual([]);
        const d = diffPlans(withoutStack(await planDoc("test")), withoutStack(await planDoc("prod")));
        expect(d.changes.length).toBeGreaterThan(0);
        expect(d.unchanged).toBeGreaterThan(0);
        expect(d.changes.every((c) => c.urn.startsWith("urn:pulumi:*::"))).toBe(true);
    }, 60_000);
});

const res = (name: string, inputs: Record<string, unknown>, extra: Partial<PlanResource> = {}): PlanResource => ({
    urn: `urn:pulumi:dev::p::${extra.type ?? "kubernetes:apps/v1:Deployment"}::${name}`,
    type: "kubernetes:apps/v1:Deployment",
    name,
    custom: true,
    parent: "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
    inputs,
    options: { protect: false, aliases: [] },
    ...extra,
});
const doc = (resources: PlanResource[], violations: PlanDocument["policy"] = { violations: [] }): PlanDocument => ({
    planFormat: 1,
    project: "p",
    stack: "dev",
    resources,
    policy: violations,
});

describe("classification", () => {
    it("changed paths are the shallowest differing ones; arrays of another length differ as a whole", () => {
        expect(changedPaths({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { b: 2, c: [1, 3] }, d: 1 })).toEqual(["a.b", "a.c[1]"]);
        expect(changedPaths({ c: [1] }, { c: [1, 2], e: 1 })).toEqual(["c", "e"]);
    });

    it("a Deployment's selector replaces it; its template updates it", () => {
        const before = res("web", { spec: { selector: { matchLabels: { app: "a" } }, template: { x: 1 } } });
        const sel = diffPlans(doc([before]), doc([res("web", { spec: { selector: { matchLabels: { app: "b" } }, template: { x: 1 } } })]));
        expect(sel.changes[0]).toMatchObject({ kind: "replace", replaceReasons: ["spec.selector cannot be changed in place"] });
        const tpl = diffPlans(doc([before]), doc([res("web", { spec: { selector: { matchLabels: { app: "a" } }, template: { x: 2 } } })]));
        expect(tpl.changes[0]).toMatchObject({ kind: "update", changedPaths: ["spec.template.x"] });
    });

    it("a Job's template and a resource's replaceOnChanges replace it", () => {
        const job = (x: number) =>
            res("j", { spec: { template: { x } } }, { type: "kubernetes:batch/v1:Job", urn: "urn:pulumi:dev::p::kubernetes:batch/v1:Job::j" });
        expect(diffPlans(doc([job(1)]), doc([job(2)])).changes[0].kind).toBe("replace");
        const r = (v: number) => res("b", { size: v }, { type: "aws:s3/bucketObjectv2:BucketObjectv2", options: { aliases: [], replaceOnChanges: ["size"] } });
        expect(diffPlans(doc([r(1)]), doc([r(2)])).changes[0].replaceReasons).toEqual(["replaceOnChanges: size"]);
    });

    it("a new URN with an alias to the old one is a move; without one, a replacement of the same type and name", () => {
        const old = res(
            "db",
            { a: 1 },
            { type: "aws:rds/instance:Instance", urn: "urn:pulumi:dev::p::aws:rds/instance:Instance::db", options: { protect: true, aliases: [] } },
        );
        const parent = "urn:pulumi:dev::p::mlops:index:Db::x";
        const movedUrn = "urn:pulumi:dev::p::mlops:index:Db$aws:rds/instance:Instance::db";
        const moved = { ...old, urn: movedUrn, parent, options: { protect: true, aliases: [{ noParent: true }] } };
        const m = diffPlans(doc([old]), doc([moved]));
        expect(m.changes).toEqual([expect.objectContaining({ kind: "move", oldUrn: old.urn, urn: movedUrn })]);
        expect(dataLosingChanges(m)).toEqual([]);
        const lost = diffPlans(doc([old]), doc([{ ...moved, options: { protect: true, aliases: [] } }]));
        expect(lost.changes).toEqual([expect.objectContaining({ kind: "replace", stateful: true, protected: true, oldUrn: old.urn })]);
        expect(lost.changes[0].replaceReasons[0]).toMatch(/URN changed without an alias/);
    });

    it("a component moved with an alias moves its children with it: they inherit the alias (no alias of their own)", () => {
        const comp = (urn: string, parent: string, aliases: PlanResource["options"]["aliases"] = []) =>
            res("db", {}, { type: "mlops:index:RdsPostgres", urn, parent, custom: false, options: { protect: false, aliases } });
        const tracking = res("mlflow", {}, { type: "mlops:index:Tracking", urn: "urn:pulumi:dev::p::mlops:index:Tracking::mlflow", custom: false });
        const database = res(
            "mlflow",
            {},
            { type: "mlops:index:Database", urn: "urn:pulumi:dev::p::mlops:index:Tracking$mlops:index:Database::mlflow", parent: tracking.urn, custom: false },
        );
        const instance = (parent: PlanResource) =>
            res(
                "db-instance",
                { a: 1 },
                {
                    type: "aws:rds/instance:Instance",
                    urn: `urn:pulumi:dev::p::${parent.urn.split("::")[2]}$aws:rds/instance:Instance::db-instance`,
                    parent: parent.urn,
                    options: { protect: true, aliases: [] },
                },
            );
        const oldComp = comp("urn:pulumi:dev::p::mlops:index:Tracking$mlops:index:RdsPostgres::db", tracking.urn);
        const movedComp = comp("urn:pulumi:dev::p::mlops:index:Tracking$mlops:index:Database$mlops:index:RdsPostgres::db", database.urn, [
            { parentUrn: tracking.urn },
        ]);
        const d = diffPlans(doc([tracking, oldComp, instance(oldComp)]), doc([tracking, database, movedComp, instance(movedComp)]));
        expect(dataLosingChanges(d)).toEqual([]);
        expect(d.changes.find((c) => c.type === "aws:rds/instance:Instance")).toMatchObject({ kind: "move", oldUrn: instance(oldComp).urn });
        // Without the component's alias, the instance is replaced.
        const lost = diffPlans(
            doc([tracking, oldComp, instance(oldComp)]),
            doc([tracking, database, { ...movedComp, options: { aliases: [] } }, instance(movedComp)]),
        );
        expect(dataLosingChanges(lost)).toEqual([expect.objectContaining({ kind: "replace", type: "aws:rds/instance:Instance" })]);
    });

    it("stateful deletions come first; a secret's value is never shown, only that it became a secret", () => {
        const cm = res(
            "cm",
            { data: "[secret]" },
            { type: "kubernetes:core/v1:ConfigMap", urn: "urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::cm", secretInputs: ["data"] },
        );
        const cmPlain = { ...cm, inputs: { data: "plain" }, secretInputs: [] };
        const ns = res("ns", {}, { type: "kubernetes:core/v1:Namespace", urn: "urn:pulumi:dev::p::kubernetes:core/v1:Namespace::ns" });
        const d = diffPlans(doc([cmPlain, ns]), doc([cm, res("new", {})]));
        expect(d.changes.map((c) => `${c.kind} ${c.name}`)).toEqual(["delete ns", "create new", "update cm"]);
        expect(d.changes[2].changedPaths).toEqual(["data"]);
        expect(renderDiff(d)).not.toContain('plain"');
        // Stateful or protected before anything else, whatever the kind of change.
        const nsChanged = { ...ns, inputs: { metadata: { labels: { a: "b" } } } };
        expect(diffPlans(doc([res("web", {}), ns]), doc([nsChanged])).changes.map((c) => `${c.kind} ${c.name}`)).toEqual(["update ns", "delete web"]);
    });

    it("policy results that appeared or went away", () => {
        const v = (policyName: string) => ({ policyPackName: "pk", policyName, enforcementLevel: "mandatory", urn: "u", message: `${policyName} broken` });
        const d = diffPlans(doc([], { violations: [v("a"), v("b")] }), doc([], { violations: [v("b"), v("c")] }));
        expect(d.policy).toEqual([
            { change: "new", violation: v("c") },
            { change: "resolved", violation: v("a") },
        ]);
        expect(renderDiff(d)).toContain("new mandatory pk/c");
    });
});
