/**
 * The contract (components/contract): its pure functions, that it stays dependency-free, and that the
 * two sides agree on it: what ModelService and BatchInference render (labels, annotations, environment)
 * is exactly what the policy packs accept, and what the policies tell users to do names things that
 * exist. (test/policy.stacks.test.ts runs every pack over the example stacks and the team example.)
 */
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as contract from "../components/contract";
import {
    APPROVAL_MAX_AGE_DAYS,
    APPROVAL_TICKET,
    type ApprovalRecord,
    approvalDateStatus,
    approvalProblems,
    AWS_TAGS,
    isEnvironment,
    labelKeys,
    MODEL_URI_ENV,
    modelVersionUri,
    ORG_ANNOTATIONS,
    ORG_LABELS,
    orgKey,
    OWNERSHIP_LABELS,
    OWNERSHIP_TAGS,
    parseApprovalDate,
    parseModelUri,
    PINNED_MODEL_URI,
    servingNamespaceName,
} from "../components/contract";
import { modelEnv, modelWorkloadAnnotations, modelWorkloadLabels, teamLabelContext } from "../components/team/modelWorkload";
import { awsDefaultTags } from "../components/platform/awsNames";
import { standardLabels } from "../components/shared/naming";
import type { ResourcePolicyFactory } from "../policy/framework/define";
import { PACKS } from "../policy/packs";
import { awsOwnershipTags } from "../policy/rules/governance/awsOwnershipTags";
import { kubernetesOwnershipLabels } from "../policy/rules/governance/kubernetesOwnershipLabels";
import { modelApprovalRecord } from "../policy/rules/governance/modelApprovalRecord";
import { modelVersionPinned } from "../policy/rules/governance/modelVersionPinned";
import { ROOT } from "./harness";
import { context, createResourceValidationArgs, NOW, resourcePolicy, runResourcePolicy } from "./policies/util";

const CONTRACT_DIR = path.join(ROOT, "components", "contract");
const DOMAIN = "acme.io";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const day = (offset: number) => new Date(NOW.getTime() + offset * 86_400_000).toISOString().slice(0, 10);

describe("the contract module", () => {
    it("imports nothing but its own files (no @pulumi/*, no Node built-ins, no other component)", () => {
        const files = fs.readdirSync(CONTRACT_DIR).filter((f) => f.endsWith(".ts"));
        expect(files).toContain("index.ts");
        for (const f of files) {
            const text = fs.readFileSync(path.join(CONTRACT_DIR, f), "utf8");
            const specifiers = [...text.matchAll(/(?:from|import|require\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
            for (const s of specifiers) expect(s, `${f} imports ${s}`).toMatch(/^\.\/[A-Za-z]+$/);
        }
    });

    it("index.ts exports every file of the folder", () => {
        const index = fs.readFileSync(path.join(CONTRACT_DIR, "index.ts"), "utf8");
        const files = fs.readdirSync(CONTRACT_DIR).filter((f) => f.endsWith(".ts") && f !== "index.ts");
        for (const f of files) expect(index).toContain(`export * from "./${f.replace(/\.ts$/, "")}";`);
    });

    it("is what the components and the packs import the shared facts from", () => {
        // The duplicates that used to exist: the packs' own copies of the keys, the ticket pattern, the date parser.
        const policyFiles = (dir: string): string[] =>
            fs
                .readdirSync(dir, { withFileTypes: true })
                .filter((e) => e.name !== "node_modules" && e.name !== "bin")
                .flatMap((e) => (e.isDirectory() ? policyFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
        const files = policyFiles(path.join(ROOT, "policy"));
        expect(files.map((f) => path.relative(ROOT, f))).toContain(path.join("policy", "rules", "governance", "modelApprovalRecord.ts"));
        for (const file of files) {
            const code = fs.readFileSync(file, "utf8").replace(/^\s*(description|rationale|remediation|limitations|title):.*$/gm, "");
            const rel = path.relative(ROOT, file);
            expect(code, `${rel} spells a ticket pattern`).not.toContain("[A-Z][A-Z0-9]+-");
            expect(code, `${rel} spells an org key`).not.toMatch(/`mlops\.\$\{/);
            expect(code, `${rel} spells a label suffix`).not.toMatch(/"(model-version|model-uri|approved-by|approval-ticket|approval-date|cost-centre)"/);
            expect(code, `${rel} parses dates itself`).not.toMatch(/Date\.UTC|Date\.parse/);
        }
    });
});

describe("keys and names", () => {
    it("builds org keys in the label domain", () => {
        expect(orgKey(DOMAIN, ORG_LABELS.modelVersion)).toBe("mlops.acme.io/model-version");
        expect(labelKeys(DOMAIN)).toMatchObject({
            team: "mlops.acme.io/team",
            approvalDate: "mlops.acme.io/approval-date",
            costCentre: "mlops.acme.io/cost-centre",
        });
        expect(orgKey("example.org", ORG_ANNOTATIONS.modelUri)).toBe("mlops.example.org/model-uri");
    });
    it("names serving namespaces and knows the environments", () => {
        expect(servingNamespaceName("fraud")).toBe("ml-fraud");
        expect(["dev", "test", "prod", "staging", undefined].map(isEnvironment)).toEqual([true, true, true, false, false]);
    });
});

describe("approval format", () => {
    it("parses real calendar dates written YYYY-MM-DD only", () => {
        expect(parseApprovalDate("2025-06-01")?.toISOString()).toBe("2025-06-01T00:00:00.000Z");
        expect(parseApprovalDate("2024-02-29")?.toISOString()).toBe("2024-02-29T00:00:00.000Z");
        for (const bad of ["2025-02-30", "2025-02-29", "2025-13-01", "2025-6-1", "2025-06-01T09:30:00Z", "June 1", ""])
            expect(parseApprovalDate(bad), bad).toBeUndefined();
    });
    it("places a date relative to now, with one day of slack for time zones", () => {
        expect(approvalDateStatus(day(0), NOW)).toEqual({ status: "valid", ageDays: 0.5 });
        expect(approvalDateStatus(day(1), NOW)).toEqual({ status: "valid", ageDays: -0.5 });
        expect(approvalDateStatus(day(2), NOW)).toEqual({ status: "future" });
        expect(approvalDateStatus("yesterday", NOW)).toEqual({ status: "invalid" });
        expect(approvalDateStatus(20250601, NOW)).toEqual({ status: "invalid" });
    });
    it("says what is wrong with a record", () => {
        expect(approvalProblems({ approvedBy: "jane.doe", ticket: "CHG-10423", date: day(-3) }, NOW)).toEqual([]);
        expect(approvalProblems({ approvedBy: "", ticket: "chg 1", date: day(5) }, NOW)).toEqual([
            'approval.approvedBy "" must name who approved (a user or group name like jane.doe, up to 128 characters)',
            'approval.ticket "chg 1" must be a change ticket like CHG-10423',
            `approval.date "${day(5)}" is in the future`,
        ]);
    });
    it("is the policy's default ticket pattern and maximum age", () => {
        expect(modelApprovalRecord.defaults).toMatchObject({ ticketPattern: APPROVAL_TICKET.source, maxApprovalAgeDays: APPROVAL_MAX_AGE_DAYS });
    });
});

describe("model URIs", () => {
    it("a URI the components accept as pinned is one the policy reads as pinned, and no other (property)", () => {
        const uri = fc.oneof(
            fc.tuple(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/), fc.integer({ min: 1, max: 1_000_000 })).map(([n, v]) => modelVersionUri(n, v)),
            fc.string().map((s) => `models:/${s}`),
            fc.string(),
        );
        fc.assert(
            fc.property(uri, (u) => {
                let pinned: boolean;
                try {
                    pinned = "version" in parseModelUri(u);
                } catch {
                    pinned = false;
                }
                if (pinned) expect(PINNED_MODEL_URI.test(u), u).toBe(true);
            }),
            { numRuns: 300 },
        );
    });
});

/** A model Deployment as ModelService renders its metadata and model environment. */
function renderedWorkload(o: { modelUri: string; approval?: ApprovalRecord }): Record<string, unknown> {
    const model = parseModelUri(o.modelUri);
    const ctx = teamLabelContext({ labelDomain: DOMAIN, environment: "prod", costCentre: "CC-4410" }, "fraud");
    const labels = modelWorkloadLabels(ctx, { team: "fraud", instance: "fraud-scorer", component: "model-server", model, approval: o.approval });
    const annotations = modelWorkloadAnnotations(DOMAIN, { owners: ["jane.doe@acme.io"], modelUri: o.modelUri, approval: o.approval });
    return {
        metadata: { name: "fraud-scorer", namespace: servingNamespaceName("fraud"), labels, annotations },
        spec: {
            replicas: 2,
            template: { metadata: { labels, annotations }, spec: { containers: [{ name: "server", env: modelEnv(o.modelUri, model, undefined, "fraud") }] } },
        },
    };
}

async function violations(factory: ResourcePolicyFactory<any>, props: Record<string, unknown>): Promise<string[]> {
    const run = await runResourcePolicy(resourcePolicy(factory, context("prod", DOMAIN)), createResourceValidationArgs(DEPLOYMENT, props, { factory }));
    expect(run.notApplicable).toBeUndefined();
    return run.violations.map((v) => v.message);
}

describe("the packs accept exactly what the components render", () => {
    it("an approval the components accept passes model-approval-record, and one they refuse fails it (property)", async () => {
        const approver = fc.oneof(fc.constantFrom("jane.doe", "ml-platform", "jane.doe@acme.io", "svc:deployer"), fc.string({ maxLength: 12 }));
        const ticket = fc.oneof(fc.stringMatching(/^[A-Z][A-Z0-9]{1,5}-\d{1,6}$/), fc.string({ maxLength: 10 }), fc.constantFrom("chg-1", "CHG-", "C-1"));
        const date = fc.oneof(
            fc.integer({ min: 1 - APPROVAL_MAX_AGE_DAYS, max: 4 }).map(day),
            fc.constantFrom("2025-02-30", "2025-06-01T09:30:00Z", "01/06/2025", ""),
            fc.string({ maxLength: 10 }),
        );
        await fc.assert(
            fc.asyncProperty(approver, ticket, date, async (approvedBy, t, d) => {
                const approval = { approvedBy, ticket: t, date: d };
                const componentOk = approvalProblems(approval, NOW).length === 0;
                const found = await violations(modelApprovalRecord, renderedWorkload({ modelUri: "models:/fraud-scorer/7", approval }));
                expect(
                    found.length === 0,
                    `${JSON.stringify(approval)}: component ${componentOk ? "accepts" : "refuses"}, policy says ${JSON.stringify(found)}`,
                ).toBe(componentOk);
            }),
            { numRuns: 200 },
        );
    });

    it("a pinned model URI passes model-version-pinned; an alias (dev only) does not (property)", async () => {
        const name = fc.stringMatching(/^fraud-[a-z0-9]{1,8}$/);
        await fc.assert(
            fc.asyncProperty(name, fc.integer({ min: 1, max: 100_000 }), async (n, v) => {
                expect(await violations(modelVersionPinned, renderedWorkload({ modelUri: modelVersionUri(n, v) }))).toEqual([]);
            }),
            { numRuns: 50 },
        );
        const alias = await violations(modelVersionPinned, renderedWorkload({ modelUri: "models:/fraud-scorer@champion" }));
        expect(alias.join("\n")).toContain("does not pin a model version");
        expect(alias.join("\n")).toContain(`sets ${MODEL_URI_ENV}="models:/fraud-scorer@champion", the alias "@champion"`);
    });

    it("the ownership labels and tags the components set are the ones the policies require", () => {
        expect(kubernetesOwnershipLabels.defaults).toEqual({ requiredLabels: [...OWNERSHIP_LABELS], chartExceptions: [] });
        expect(awsOwnershipTags.defaults).toEqual({ requiredTags: [...OWNERSHIP_TAGS], chartExceptions: [] });
        const labels = standardLabels(
            { labelDomain: DOMAIN, owner: "ml-platform", environment: "prod", costCentre: "CC-1" },
            { name: "mlflow", component: "tracking-server" },
        );
        for (const suffix of OWNERSHIP_LABELS) expect(labels[orgKey(DOMAIN, suffix)], suffix).toBeTruthy();
        const tags = awsDefaultTags({ owner: "ml-platform", environment: "prod", costCentre: "CC-1" });
        for (const key of OWNERSHIP_TAGS) expect(tags[key], key).toBeTruthy();
        expect(tags[AWS_TAGS.environment]).toBe("prod");
    });
});

describe("what the policies tell users to do", () => {
    const texts = PACKS.flatMap((p) => p.policies.map((f) => ({ name: f.meta.name, text: `${f.meta.description} ${f.meta.remediation}` })));
    const componentSources = fs
        .readdirSync(path.join(ROOT, "components"), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith(".ts"))
        .map((f) => fs.readFileSync(path.join(ROOT, "components", f), "utf8"))
        .join("\n");
    /** The property names of an exported interface, from its source (readonly fields only). */
    function argNames(file: string, iface: string): string[] {
        const text = fs.readFileSync(path.join(ROOT, "components", file), "utf8");
        const body = text.slice(text.indexOf(`export interface ${iface}`));
        return [...body.slice(0, body.indexOf("\n}\n")).matchAll(/^ {4}readonly (\w+)\??:/gm)].map((m) => m[1]);
    }
    const args = {
        ModelService: argNames("team/modelService.ts", "ModelServiceArgs"),
        BatchInference: argNames("team/batchInference.ts", "BatchInferenceArgs"),
    };

    it("knows the arguments of the components", () => {
        expect(args.ModelService).toEqual(expect.arrayContaining(["modelUri", "approval", "replicas", "slo"]));
        expect(args.BatchInference).toEqual(expect.arrayContaining(["modelUri", "approval", "schedule"]));
    });

    it.each(texts.map((t) => [t.name, t.text] as const))("%s names only arguments ModelService and BatchInference take", (_name, text) => {
        // `ModelService ... \`arg\``: the first code span after a component's name, in the same sentence.
        for (const m of text.matchAll(/\b(ModelService|BatchInference)\b[^`.;(),]*`([a-z][A-Za-z]*)/g)) {
            const component = m[1] as keyof typeof args;
            const others = text.includes("ModelService and BatchInference") ? ["ModelService", "BatchInference"] : [component];
            for (const c of others) expect(args[c as keyof typeof args], `${c} has no argument ${m[2]}`).toContain(m[2]);
        }
    });

    it.each(texts.map((t) => [t.name, t.text] as const))("%s names only functions and files that exist", (_name, text) => {
        for (const [, fn] of text.matchAll(/`([a-z][A-Za-z]+)\(/g)) expect(componentSources, `function ${fn}`).toMatch(new RegExp(`export function ${fn}\\b`));
        for (const [, file] of text.matchAll(/\b(components\/[\w/]+\.ts)\b/g)) expect(fs.existsSync(path.join(ROOT, file)), file).toBe(true);
    });

    it("every export of the contract is used outside it", () => {
        const sources = (dir: string) =>
            fs
                .readdirSync(path.join(ROOT, dir), { recursive: true })
                .map(String)
                .filter((f) => f.endsWith(".ts") && !f.startsWith("contract"))
                .map((f) => fs.readFileSync(path.join(ROOT, dir, f), "utf8"))
                .join("\n");
        const outside = `${sources("components")}\n${sources("policy")}\n${sources("stacks")}`;
        expect(Object.keys(contract).filter((name) => !new RegExp(`\\b${name}\\b`).test(outside))).toEqual([]);
    });
});
