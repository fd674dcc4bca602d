/**
 * The team scaffold (templates/team, `npm run -s new-team`): the repository it writes plans green with
 * the platform's policy packs, found through the plan package it depends on (no --policy-pack), against the
 * real dev and prod platform stacks' outputs; a wrong argument in its stack file gets one message that
 * lists every problem; its package.json pins the library's peers, the plan and the TypeScript toolchain.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { setStackReferenceOutputs } from "../engine/mockState";
import { describeFailure, EXIT, planStack, resolvePolicyPacks } from "../engine/plan";
import { PEER_MODULES, type PackageJson } from "../scripts/build-lib";
import { enginePackage } from "../scripts/build-plan";
import { defaultTeamOptions, writeTeamRepository } from "../scripts/new-team";
import { ROOT, runStack, stackReferenceOutputs, vitestLoader } from "./harness";

const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "team-scaffold-"));
const repo = path.join(dir, "team-fraud");
let files: string[];

beforeAll(() => {
    // Team fraud of the platform's stacks; images from each environment's own account registry.
    files = writeTeamRepository(
        repo,
        {
            ...defaultTeamOptions("fraud", rootPackage),
            registries: {
                dev: "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
                test: "310987654321.dkr.ecr.eu-west-1.amazonaws.com",
                prod: "410987654321.dkr.ecr.eu-west-1.amazonaws.com",
            },
        },
        rootPackage,
    );
    // What `npm install` gives the team: the library (this repository) and its peers, and the plan package
    // with the packs it ships (this repository's policy/, as scripts/build-plan.ts copies it).
    const modules = path.join(repo, "node_modules");
    fs.mkdirSync(path.join(modules, "@pulumi"), { recursive: true });
    fs.symlinkSync(ROOT, path.join(modules, "mlops-platform"));
    for (const m of PEER_MODULES) fs.symlinkSync(path.join(ROOT, "node_modules", m), path.join(modules, m));
    fs.mkdirSync(path.join(modules, "mlops-plan"));
    fs.writeFileSync(path.join(modules, "mlops-plan", "package.json"), JSON.stringify({ name: "mlops-plan", version: enginePackage().version }));
    fs.symlinkSync(path.join(ROOT, "policy"), path.join(modules, "mlops-plan", "policy"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function planTeam(stack: string, configOverrides?: Record<string, string>, packs = true) {
    const platform = await runStack(stack);
    const refs = stackReferenceOutputs(platform);
    // Compliance approves the scaffold's model version and image, as it would in the platform's approvals/prod.yaml.
    const today = new Date().toISOString().slice(0, 10);
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const approval = {
        team: "fraud",
        model: "fraud-scorer",
        version: 1,
        imageDigests: [`sha256:${"0".repeat(64)}`],
        approvedBy: "jane.doe",
        ticket: "CHG-1",
        date: today,
        expires,
    };
    refs.outputs.modelApprovals = [...((refs.outputs.modelApprovals as unknown[]) ?? []), approval];
    setStackReferenceOutputs({ [`acme/mlops/${stack}`]: refs });
    try {
        return await planStack({
            root: repo,
            stack,
            configOverrides,
            policyPacks: packs ? resolvePolicyPacks(repo, stack, undefined, []) : [],
            policyTimeoutMs: 180_000,
            load: vitestLoader,
        });
    } finally {
        setStackReferenceOutputs({});
    }
}

describe("npm run -s new-team -- fraud", () => {
    it("writes a team repository: Pulumi project, stacks, tsconfig, package.json, CI workflow", () => {
        expect(files).toEqual([
            ".github/workflows/plan.yml",
            ".gitignore",
            "Pulumi.dev.yaml",
            "Pulumi.prod.yaml",
            "Pulumi.test.yaml",
            "Pulumi.yaml",
            "README.md",
            "index.ts",
            "package.json",
            "schemas/request.schema.json",
            "tsconfig.json",
        ]);
        const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"));
        expect(pkg.dependencies).toEqual({
            "mlops-platform": rootPackage.version,
            ...Object.fromEntries(PEER_MODULES.map((m) => [m, rootPackage.dependencies?.[m]])),
        });
        expect(pkg.devDependencies).toEqual({
            "mlops-plan": enginePackage().version,
            typescript: rootPackage.devDependencies?.typescript,
            "@types/node": rootPackage.devDependencies?.["@types/node"],
        });
        expect(pkg.scripts.plan).toBe("mlops-plan");
        const workflow = YAML.parse(fs.readFileSync(path.join(repo, ".github/workflows/plan.yml"), "utf8"));
        expect(Object.keys(workflow.jobs)).toEqual(["plan", "deploy"]);
        expect(JSON.stringify(workflow.jobs.plan.steps)).toContain(
            "npm run -s plan -- dev test prod --out .plan --diff ../baseline --markdown plan-diff.md --fail-on-stateful-delete",
        );
        expect(JSON.stringify(workflow.jobs.deploy.steps)).toContain("pulumi up --yes --stack");
        expect(fs.readFileSync(path.join(repo, "Pulumi.prod.yaml"), "utf8")).not.toMatch(/__[A-Z_]+__/);
    });

    it("the platform's three packs run by default (from the plan package), with the platform's config for the stack", () => {
        const packs = resolvePolicyPacks(repo, "prod", undefined, []);
        const plan = path.join(repo, "node_modules", "mlops-plan");
        expect(packs.map((p) => path.relative(plan, p.dir))).toEqual(["policy/mlops-governance", "policy/mlops-reliability", "policy/mlops-security"]);
        expect(packs.map((p) => [path.basename(p.dir), path.relative(plan, p.configFile ?? "")])).toEqual([
            ["mlops-governance", "policy/config/prod/mlops-governance.json"],
            ["mlops-reliability", "policy/config/prod/mlops-reliability.json"],
            ["mlops-security", "policy/config/prod/mlops-security.json"],
        ]);
    });

    // prod: where every policy is mandatory (dev and test plan the same way, with fewer checks enforced).
    it.each(["prod"])(
        "%s plans green with the packs: no violation, valid objects",
        async (stack) => {
            const plan = await planTeam(stack);
            expect(plan.policy?.packs.map((p) => p.name)).toEqual(["mlops-governance", "mlops-reliability", "mlops-security"]);
            expect(plan.policy?.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policyName}: ${v.message}`)).toEqual([]);
            expect(plan.schemaErrors).toEqual([]);
            expect(plan.exitCode).toBe(EXIT.OK);
            expect(plan.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment").map((r) => r.name)).toEqual(["fraud-scorer-deployment"]);
        },
        120_000,
    );

    it("a wrong argument in the stack file: one message listing every problem", async () => {
        const scorer = YAML.parse(fs.readFileSync(path.join(repo, "Pulumi.prod.yaml"), "utf8")).config["team-fraud:scorer"];
        const { predictionLogging: _p, ...rest } = scorer;
        const broken = { ...rest, replicas: { min: "3", max: 6 }, modelUri: "fraud-scorer:1", sampleRate: 0.1 };
        const err = await planTeam("prod", { "team-fraud:scorer": JSON.stringify(broken) }, false).catch((e) => e);
        const { exitCode, message } = describeFailure(err, repo);
        expect(exitCode).toBe(EXIT.PROGRAM_ERROR);
        const first = message.split("\n")[0];
        expect(first.startsWith('the program failed: ModelService "fraud-scorer": ')).toBe(true);
        const problems = first.replace('the program failed: ModelService "fraud-scorer": ', "").replace(/\.$/, "").split("; ");
        expect(problems).toEqual([
            'replicas.min must be an integer, got "3" (a string)',
            "predictionLogging is required: { enabled, sampleRate?, prefix? }",
            expect.stringMatching(/^sampleRate is not an argument/),
            'model URI "fraud-scorer:1" is malformed: expected models:/<name>/<version> or models:/<name>@<alias>',
        ]);
    }, 120_000);
});
