/**
 * Approvals of model versions (components/contract/modelApprovals.ts, stacks/approvals.ts): the file
 * compliance owns is validated with every problem in one message; lookups refuse a missing, expired,
 * future or digest-less approval naming the version and where approvals are recorded; the admission
 * policy's parameters hold the approvals in force only.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { approvalFor, approvalParameterData, approvalsRecordedIn, type ModelApproval, parseModelApprovals } from "../components/contract";
import { ApprovalsError, loadModelApprovals } from "../stacks/approvals";
import { ROOT } from "./harness";

const NOW = new Date("2026-11-22T12:00:00Z");
const A = `sha256:${"a".repeat(64)}`;
const OK: ModelApproval = {
    team: "fraud",
    model: "fraud-scorer",
    version: 12,
    imageDigests: [A],
    approvedBy: "jane.doe",
    ticket: "CHG-10423",
    date: "2026-11-02",
    expires: "2027-01-31",
};

describe("the approvals file", () => {
    it("approvals/prod.yaml is valid and covers the images the example team deploys in prod", () => {
        const approvals = loadModelApprovals("prod", ["fraud", "recsys"]);
        const example = fs.readFileSync(path.join(ROOT, "examples", "team-fraud", "Pulumi.prod.yaml"), "utf8");
        const digests = [...example.matchAll(/@(sha256:[a-f0-9]{64})/g)].map((m) => m[1]);
        expect(digests).toHaveLength(2);
        const v12 = approvals.find((a) => a.team === "fraud" && a.model === "fraud-scorer" && a.version === 12);
        expect(v12?.imageDigests).toEqual(digests);
    });

    it("is optional: no file, no approvals", () => {
        expect(loadModelApprovals("dev", ["fraud"])).toEqual([]);
    });

    it("lists every problem at once, naming the entry, the field and the value", () => {
        const raw = {
            approvals: [
                OK,
                { ...OK, ticket: "chg 1", approvedBy: "", imageDigests: ["latest"], date: "2026-11-02", expires: "2027-03-01", extra: 1 },
                { ...OK },
                { ...OK, team: "recsys", version: 0, date: "02.11.2026", expires: "2026-10-01" },
                "nope",
            ],
            other: true,
        };
        const { problems, approvals } = parseModelApprovals(raw, "approvals/prod.yaml", ["fraud"]);
        expect(approvals).toEqual([OK]);
        expect(problems).toEqual([
            'approvals/prod.yaml: unknown key "other" (the file has one key, approvals)',
            'approvals/prod.yaml: approvals[1]: unknown field "extra" (allowed: team, model, version, imageDigests, approvedBy, ticket, date, expires)',
            'approvals/prod.yaml: approvals[1].imageDigests[0] "latest" must be a digest sha256:<64 hex>',
            'approvals/prod.yaml: approvals[1].approvedBy "" must name who approved (a user or group name like jane.doe)',
            'approvals/prod.yaml: approvals[1].ticket "chg 1" must be a change ticket like CHG-10423',
            "approvals/prod.yaml: approvals[1].expires 2027-03-01 is 119 days after its date 2026-11-02; an approval holds at most 90 days",
            "approvals/prod.yaml: approvals[2] approves fraud/fraud-scorer version 12 again (also approvals[0]): one entry per version; add digests to it or re-approve by editing it",
            'approvals/prod.yaml: approvals[3].team "recsys" is not a team of this environment (teams: fraud)',
            "approvals/prod.yaml: approvals[3].version 0 must be a registered version (a positive integer)",
            'approvals/prod.yaml: approvals[3].date "02.11.2026" must be a date written YYYY-MM-DD (quote it in YAML)',
            "approvals/prod.yaml: approvals[4] must be a mapping with team, model, version, imageDigests, approvedBy, ticket, date, expires",
        ]);
    });

    it("the loader refuses a bad file with one message before anything else happens", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "approvals-"));
        try {
            fs.mkdirSync(path.join(root, "approvals"));
            fs.writeFileSync(path.join(root, "approvals", "prod.yaml"), "approvals:\n  - team: fraud\n    model: fraud-scorer\n    version: 12\n");
            expect(() => loadModelApprovals("prod", ["fraud"], root)).toThrow(ApprovalsError);
            expect(() => loadModelApprovals("prod", ["fraud"], root)).toThrow(
                /^Invalid approvals file approvals\/prod.yaml \(5 problems\):\n {2}- approvals\/prod.yaml: approvals\[0\].imageDigests must list/,
            );
            fs.writeFileSync(path.join(root, "approvals", "prod.yaml"), "approvals: [\n");
            expect(() => loadModelApprovals("prod", ["fraud"], root)).toThrow(/not valid YAML/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("looking up the approval of a deployed version", () => {
    const q = { team: "fraud", model: "fraud-scorer", version: 12, digest: A, environment: "prod" };
    const where = approvalsRecordedIn("prod");
    it("finds the approval in force that covers the image", () => {
        expect(approvalFor([OK], q, NOW)).toEqual({ approval: OK });
        expect(approvalFor([OK], { ...q, digest: undefined }, NOW)).toEqual({ approval: OK });
        // Through its expiry day (UTC), not after.
        expect(approvalFor([OK], q, new Date("2027-01-31T23:59:00Z"))).toEqual({ approval: OK });
    });
    it.each([
        ["another version", { ...q, version: 13 }, NOW, `fraud/fraud-scorer version 13 has no approval: ${where}`],
        ["another team's", { ...q, team: "recsys" }, NOW, `recsys/fraud-scorer version 12 has no approval: ${where}`],
        [
            "an expired one",
            q,
            new Date("2027-02-01T00:00:00Z"),
            `the approval of fraud/fraud-scorer version 12 (CHG-10423) expired on 2027-01-31: re-approve it; ${where}`,
        ],
        [
            "one dated ahead",
            q,
            new Date("2026-10-30T00:00:00Z"),
            `the approval of fraud/fraud-scorer version 12 (CHG-10423) is dated 2026-11-02, in the future; ${where}`,
        ],
        [
            "another image",
            { ...q, digest: `sha256:${"c".repeat(64)}` },
            NOW,
            `the approval of fraud/fraud-scorer version 12 (CHG-10423) does not cover the image digest sha256:${"c".repeat(64)} (approved: ${A}); ${where}`,
        ],
    ])("refuses %s", (_what, query, now, problem) => {
        expect(approvalFor([OK], query, now)).toEqual({ problem });
    });
});

describe("the admission policy's parameters", () => {
    it("hold the ticket and digests of the approvals in force, and nothing of expired ones", () => {
        const expired = { ...OK, version: 11, date: "2026-06-01", expires: "2026-08-30" };
        expect(approvalParameterData([OK, expired], NOW)).toEqual({ "fraud.fraud-scorer.12.ticket": "CHG-10423", "fraud.fraud-scorer.12.images": A });
        expect(approvalParameterData([{ ...OK, imageDigests: [A, `sha256:${"b".repeat(64)}`] }], NOW)["fraud.fraud-scorer.12.images"]).toBe(
            `${A} sha256:${"b".repeat(64)}`,
        );
    });
});
