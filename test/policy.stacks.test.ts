/**
 * The packs on the real program: every stack the harness records (dev, test, prod) passes every pack
 * with its own config file - no mandatory violation, and each advisory one is an accepted exception in
 * docs/policy-exceptions.md. A simulated preview (inputs from other resources unknown) crashes nothing
 * and reports nothing new. Then the corpus: one defect at a time on the recorded resources, each caught
 * by the intended policy at the level the stack's config file sets.
 *
 * This is the in-process path (policy/framework/runner.ts builds what @pulumi/policy's server would hand the
 * policies). The offline plan runs the same packs out of process over gRPC.
 */
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../engine/recorder";
import { effectiveLevel, readPackConfig } from "../policy/framework/configFiles";
import { definePack } from "../policy/framework/define";
import { PACKS } from "../policy/packs";
import { contextForStack, type Finding, runDecoder, runPack, runPacks } from "../policy/framework/runner";
import { readProject, readStackConfig } from "../engine/project";
import { deepFreeze, ROOT, runProject, runStack, stackReferenceOutputs, STACKS, type StackName, type StackRun } from "./harness";
import { asModelWorkload, asPreview, DEFECTS, type Defect, StackEditor } from "./policies/corpus";
import { readPolicyExceptions } from "../policy/reports/exceptions";
import { loadModelApprovals } from "../stacks/approvals";
import { NOW } from "./policies/util";
import type { PolicyContext } from "../policy/framework/types";

/** The example team project: ModelService and BatchInference as a team deploys them, on each platform stack. */
const TEAM = path.join(ROOT, "examples", "team-fraud");

/**
 * "Now" for the team example: a week after the latest approval date of its environment (the platform's
 * approvals/<environment>.yaml), so the check of approval ages does not depend on the day the tests run.
 */
function approvalClock(stack: StackName): Date {
    const dates = loadModelApprovals(stack, ["fraud", "recsys"]).map((a) => Date.parse(`${a.date}T00:00:00Z`));
    return dates.length > 0 ? new Date(Math.max(...dates) + 7 * 86_400_000) : NOW;
}

interface Recorded {
    resources: RecordedResource[];
    context: PolicyContext;
}

/** The platform stacks, and the team example deployed on each. */
const platform = new Map<StackName, Recorded>();
const team = new Map<StackName, Recorded>();
// The recordings are frozen (deepFreeze): a test that changed one instead of a StackEditor's copy would throw.

beforeAll(async () => {
    for (const stack of STACKS) {
        const run: StackRun = await runStack(stack);
        platform.set(stack, { resources: deepFreeze(run.resources), context: contextForStack(stack, run.recording.stackConfig.config, NOW) });
        const teamConfig = readStackConfig(readProject(TEAM), stack).config;
        const teamRun = await runProject(TEAM, stack, { stackReferences: { [teamConfig["team-fraud:platformStack"]]: stackReferenceOutputs(run) } });
        team.set(stack, {
            resources: deepFreeze(teamRun.resources),
            context: contextForStack(stack, teamRun.recording.stackConfig.config, approvalClock(stack)),
        });
    }
}, 120_000);

const contextOf = (stack: StackName) => platform.get(stack)!.context;
const runAll = (stack: StackName, resources: readonly RecordedResource[]) =>
    runPacks(PACKS, resources, (pack) => readPackConfig(stack, pack), contextOf(stack));
const resourceName = (urn: string | undefined) => (urn ?? "").split("::").pop() ?? "";
const show = (fs_: readonly Finding[]) => fs_.map((f) => `${f.level} ${f.policy} ${resourceName(f.urn)}: ${f.message}`).join("\n");

/** Rows of the exceptions table: stack (`prod`, or `<team project>/prod`), policy, resource. */
const exceptions = () => readPolicyExceptions();

/** The documented-exceptions check of one stack's findings (`stackId`: `prod` or `team-fraud/prod`). */
function expectOnlyDocumentedAdvisories(stackId: string, findings: readonly Finding[]): void {
    const documented = exceptions().filter((e) => e.stack === stackId);
    const advisory = findings.filter((f) => f.level === "advisory");
    const undocumented = advisory.filter((f) => !documented.some((e) => e.policy === f.policy && e.resource === resourceName(f.urn)));
    expect(show(undocumented), "add these to docs/policy-exceptions.md with a reason, or fix them").toBe("");
    const stale = documented.filter((e) => !advisory.some((f) => f.policy === e.policy && resourceName(f.urn) === e.resource));
    expect(stale, "these exceptions no longer occur: remove them from docs/policy-exceptions.md").toEqual([]);
}

describe.each(STACKS.map((s) => [s]))("the %s stack", (stack) => {
    let findings: Finding[];
    beforeAll(async () => {
        findings = (await runAll(stack, platform.get(stack)!.resources)).findings;
    });

    it("has no mandatory violation", () => {
        expect(show(findings.filter((f) => f.level === "mandatory"))).toBe("");
    });
    it("has only advisory violations that are documented exceptions, and no stale exceptions", () => {
        expectOnlyDocumentedAdvisories(stack, findings);
    });
    it("survives a preview: unknown values crash nothing and add no violation", async () => {
        const preview = await runAll(stack, asPreview(platform.get(stack)!.resources));
        const before = new Set(findings.map((f) => `${f.policy} ${f.urn} ${f.message}`));
        expect(show(preview.findings.filter((f) => !before.has(`${f.policy} ${f.urn} ${f.message}`)))).toBe("");
        expect(preview.notApplicable.some((n) => /unknown during preview/.test(n.reason))).toBe(true);
    });
});

describe.each(STACKS.map((s) => [s]))("the team-fraud example on %s", (stack) => {
    it("passes every pack: no mandatory violation, advisory ones documented", async () => {
        const { resources, context } = team.get(stack)!;
        const findings = (await runPacks(PACKS, resources, (pack) => readPackConfig(stack, pack), context)).findings;
        expect(show(findings.filter((f) => f.level === "mandatory"))).toBe("");
        expectOnlyDocumentedAdvisories(`team-fraud/${stack}`, findings);
    });
});

describe("the corpus of misconfigured stacks", () => {
    it("has at least 30 defects and covers every policy", () => {
        expect(DEFECTS.length).toBeGreaterThanOrEqual(30);
        const covered = new Set(DEFECTS.map((d) => d.policy));
        const all = PACKS.flatMap((p) => p.policies.map((f) => f.meta.name));
        expect(all.filter((n) => !covered.has(n))).toEqual([]);
        expect([...covered].filter((n) => !all.includes(n))).toEqual([]);
    });
    it("expects the levels the config files set", () => {
        for (const d of DEFECTS) {
            const pack = PACKS.find((p) => p.policies.some((f) => f.meta.name === d.policy))!;
            expect(effectiveLevel(readPackConfig(d.stack, pack.name), d.policy), `${d.stack}: ${d.id}`).toBe(d.level);
        }
    });

    /**
     * Decodes each resource once for the whole corpus: the recordings are never changed (StackEditor
     * edits copies), so an unedited resource is the same object in every defect's stacks.
     */
    const decode = runDecoder();

    /** Runs the one policy with its pack's config file for the stack. */
    async function findingsOf(d: Defect, resources: readonly RecordedResource[]): Promise<Finding[]> {
        const pack = PACKS.find((p) => p.policies.some((f) => f.meta.name === d.policy))!;
        const only = definePack({ name: pack.name, description: pack.description, policies: pack.policies.filter((f) => f.meta.name === d.policy) });
        const { context } = (d.base === "team-fraud" ? team : platform).get(d.stack)!;
        return (await runPack(only, resources, readPackConfig(d.stack, pack.name), context, decode)).findings;
    }

    it.each(DEFECTS.map((d) => [`${d.stack}: ${d.id} -> ${d.policy} (${d.level})`, d] as const))("%s", async (_title, d) => {
        const base = new StackEditor((d.base === "team-fraud" ? team : platform).get(d.stack)!.resources);
        if (d.base === "model") asModelWorkload(base);
        const baseline = await findingsOf(d, base.resources);
        expect(show(baseline), "the baseline must comply").toBe("");
        const broken = new StackEditor(base.resources);
        d.apply(broken);
        const found = await findingsOf(d, broken.resources);
        expect(found.length, `${d.policy} did not catch "${d.id}"`).toBeGreaterThan(0);
        for (const f of found) expect(f.level).toBe(d.level);
    });
});
