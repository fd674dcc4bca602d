/**
 * The analyzer client against the tiny pack in test/fixtures/policy-pack, started as the Pulumi CLI
 * starts a pack (its own process, port on stdout, gRPC), and against packs that misbehave.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    type AnalyzerResource,
    type AnalyzerStackResource,
    EngineServer,
    parsePort,
    policyPackArgs,
    policyPackEnv,
    PolicyPackError,
    PolicyPackProcess,
    readPolicyPackProject,
    type StackContext,
} from "../engine/analyzer";
import { configurePack } from "../engine/policies";
import { PolicyConfigError } from "../engine/policyConfig";
import { SECRET_SIG, SIG_KEY } from "../engine/values";
import { ROOT } from "./harness";

const FIXTURES = path.join(ROOT, "test", "fixtures");
const PACK = path.join(FIXTURES, "policy-pack");
const ctx: StackContext = { project: "fixture", stack: "ok", organization: "acme", dryRun: true, config: { "fixture:mode": "ok" }, configSecretKeys: [] };

function resource(type: string, name: string, properties: Record<string, unknown>): AnalyzerResource {
    return {
        urn: `urn:pulumi:ok::fixture::${type}::${name}`,
        type,
        name,
        properties,
        options: {
            protect: false,
            ignoreChanges: [],
            additionalSecretOutputs: [],
            aliases: [],
            customTimeouts: { create: 0, update: 0, delete: 0 },
            parent: "",
        },
    };
}
const bucket = (name: string, props: Record<string, unknown>) => resource("aws:s3/bucket:Bucket", name, props);
const stackResource = (r: AnalyzerResource): AnalyzerStackResource => ({ ...r, parent: "", dependencies: [], propertyDependencies: {} });

describe("how the CLI starts a nodejs pack", () => {
    it("passes the engine address, the program directory and runtime options as -key=value", () => {
        expect(policyPackArgs("127.0.0.1:1234", { typescript: true, nodeargs: "", x: null })).toEqual(["127.0.0.1:1234", ".", "-typescript=true"]);
    });

    it("sets the stack's config and identity in the environment", () => {
        const env = policyPackEnv({ PATH: "/bin" }, { ...ctx, dryRun: false });
        expect(env).toEqual({
            PATH: "/bin",
            PULUMI_CONFIG: '{"fixture:mode":"ok"}',
            PULUMI_NODEJS_ORGANIZATION: "acme",
            PULUMI_NODEJS_PROJECT: "fixture",
            PULUMI_NODEJS_STACK: "ok",
            PULUMI_NODEJS_DRY_RUN: "false",
            PULUMI_ORGANIZATION: "acme",
            PULUMI_PROJECT: "fixture",
            PULUMI_STACK: "ok",
            PULUMI_DRY_RUN: "false",
        });
        expect(policyPackEnv({}, { ...ctx, config: {} }).PULUMI_CONFIG).toBeUndefined();
    });

    it("reads the port line as the CLI does", () => {
        expect(parsePort("41234\r")).toBe(41234);
        expect(parsePort("\x1b]9;4;3;\x1b\\ 8080 ")).toBe(8080);
        expect(() => parsePort("listening on 80")).toThrow(/could not parse port/);
        expect(() => parsePort("70000")).toThrow(/could not parse port/);
    });

    it("reads PulumiPolicy.yaml", () => {
        expect(readPolicyPackProject(PACK)).toMatchObject({ dir: PACK, runtime: "nodejs", runtimeOptions: {} });
        expect(() => readPolicyPackProject(FIXTURES)).toThrow(/no PulumiPolicy.yaml there/);
    });
});

describe("the fixture pack over gRPC", () => {
    let engine: EngineServer;
    let pack: PolicyPackProcess;

    beforeAll(async () => {
        engine = await EngineServer.start();
        pack = await PolicyPackProcess.start(PACK, { engineAddress: engine.address, stack: ctx, timeoutMs: 20_000 });
        await pack.configureStack(ctx);
    });

    afterAll(async () => {
        await pack?.close();
        await engine?.close();
    });

    it("describes its policies", async () => {
        const info = await pack.getAnalyzerInfo();
        expect(info).toMatchObject({ name: "mlops-fixture", version: "0.1.0", supportsConfig: true, initialConfig: {} });
        expect(info.policies.map((p) => [p.name, p.enforcementLevel, p.type, p.severity])).toEqual([
            ["bucket-owner-tag", "advisory", "resource", ""],
            ["max-buckets", "advisory", "stack", ""],
            ["namespace-checked-label", "remediate", "resource", ""],
            ["no-force-destroy", "mandatory", "resource", "high"],
        ]);
        expect(info.policies.find((p) => p.name === "no-force-destroy")?.remediationSteps).toMatch(/^Set forceDestroy to false/);
        expect(info.policies.find((p) => p.name === "max-buckets")?.configSchema?.properties?.maxBuckets).toEqual({ type: "integer", minimum: 0, default: 5 });
        const plugin = await pack.getPluginInfo();
        expect(plugin.version).toBe(JSON.parse(fs.readFileSync(require.resolve("@pulumi/policy/package.json"), "utf8")).version.replace(/^v/, ""));
    });

    it("returns no violation for a compliant resource", async () => {
        const res = await pack.analyze(bucket("ok", { forceDestroy: false, tags: { owner: "ml" } }));
        expect(res.diagnostics).toEqual([]);
        expect(res.notApplicable).toEqual([{ policyName: "namespace-checked-label", reason: "Policy does not implement validateResource" }]);
    });

    it("returns the exact advisory and mandatory violations", async () => {
        const res = await pack.analyze(bucket("bad", { forceDestroy: true }));
        expect(res.diagnostics).toEqual([
            {
                policyName: "bucket-owner-tag",
                policyPackName: "mlops-fixture",
                policyPackVersion: "0.1.0",
                description: "Buckets carry an owner tag.",
                message: "Buckets carry an owner tag.\nBucket bad has no owner tag.",
                enforcementLevel: "advisory",
                urn: "",
                severity: "",
            },
            {
                policyName: "no-force-destroy",
                policyPackName: "mlops-fixture",
                policyPackVersion: "0.1.0",
                description: "Buckets are never force-destroyed.",
                message: "Buckets are never force-destroyed.\nforceDestroy is true: deleting the stack would delete every object.",
                enforcementLevel: "mandatory",
                urn: "",
                severity: "high",
            },
        ]);
    });

    it("hands secrets to policies as plain values, as the engine's wire form intends", async () => {
        const res = await pack.analyze(bucket("secret-tags", { forceDestroy: false, tags: { [SIG_KEY]: SECRET_SIG, value: { owner: "ml" } } }));
        expect(res.diagnostics).toEqual([]);
    });

    it("remediates a namespace and leaves a remediated one alone", async () => {
        const ns = resource("kubernetes:core/v1:Namespace", "team", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
        const [m, ...rest] = await pack.remediate(ns);
        expect(rest).toEqual([]);
        expect(m).toMatchObject({ policyName: "namespace-checked-label", policyPackName: "mlops-fixture", diagnostic: "" });
        expect(m.properties).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team", labels: { "policy.example.io/checked": "true" } } });
        expect(await pack.remediate({ ...ns, properties: m.properties! })).toEqual([]);
    });

    it("checks the whole stack with the policy's config", async () => {
        const six = Array.from({ length: 6 }, (_, i) => stackResource(bucket(`b${i}`, { forceDestroy: false })));
        // Before Configure the pack knows no config: the schema default is the CLI's to send.
        await pack.configure({ "max-buckets": { enforcementLevel: "advisory", properties: { maxBuckets: 5 } } });
        const res = await pack.analyzeStack(six);
        expect(res.diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.message])).toEqual([
            ["max-buckets", "advisory", "A stack holds at most maxBuckets buckets.\n6 buckets, at most 5 allowed."],
        ]);
        await pack.configure({ "max-buckets": { enforcementLevel: "advisory", properties: { maxBuckets: 10 } } });
        expect((await pack.analyzeStack(six)).diagnostics).toEqual([]);
    });

    it("is configured from a config file as the CLI does, schema defaults filled in", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pack-config-"));
        const configFile = path.join(tmp, "ok.json");
        fs.writeFileSync(configFile, JSON.stringify({ all: "mandatory", "bucket-owner-tag": "advisory" }));
        const loaded = await configurePack(pack, { dir: PACK, configFile }, ctx);
        expect(loaded.report).toMatchObject({ name: "mlops-fixture", version: "0.1.0", configFile });
        expect(loaded.report.config).toEqual({
            all: { enforcementLevel: "mandatory" },
            "bucket-owner-tag": { enforcementLevel: "advisory" },
            "max-buckets": { enforcementLevel: "mandatory", properties: { maxBuckets: 5 } },
            "namespace-checked-label": { enforcementLevel: "mandatory" },
            "no-force-destroy": { enforcementLevel: "mandatory" },
        });
        const six = Array.from({ length: 6 }, (_, i) => stackResource(bucket(`b${i}`, { forceDestroy: false, tags: { owner: "x" } })));
        expect((await pack.analyzeStack(six)).diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual([["max-buckets", "mandatory"]]);

        fs.writeFileSync(configFile, JSON.stringify({ "max-buckets": { maxBuckets: -1, enforcementLevel: "advisory" } }));
        const err = await configurePack(pack, { dir: PACK, configFile }, ctx).catch((e) => e);
        expect(err).toBeInstanceOf(PolicyConfigError);
        expect(err.message).toBe("validating policy config: mlops-fixture 0.1.0  max-buckets: maxBuckets: must be >= 0");
        fs.writeFileSync(configFile, `{"no-force-destroy": "strict"}`);
        await expect(configurePack(pack, { dir: PACK, configFile }, ctx)).rejects.toThrow(
            `policy pack config ${configFile}: parsing enforcement level for "no-force-destroy": "strict" is not a valid enforcement level`,
        );
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("obeys enforcement levels sent with Configure", async () => {
        await pack.configure({ "no-force-destroy": { enforcementLevel: "advisory" }, "bucket-owner-tag": { enforcementLevel: "disabled" } });
        const res = await pack.analyze(bucket("bad", { forceDestroy: true }));
        expect(res.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual([["no-force-destroy", "advisory"]]);
    });
});

describe("packs that fail", () => {
    const start = (dir: string, timeoutMs = 20_000) => PolicyPackProcess.start(dir, { engineAddress: "127.0.0.1:1", stack: ctx, timeoutMs });

    it("reports a pack that crashes while loading, with its stderr", async () => {
        const err = await start(path.join(FIXTURES, "broken-packs", "crashing")).catch((e) => e);
        expect(err).toBeInstanceOf(PolicyPackError);
        expect(err.message).toMatch(/^policy pack ".*crashing" failed to start: could not read plugin \[.*\]: exit status 32$/);
        expect(err.stderr).toContain("fixture pack exploded while loading");
    });

    it("tells to install a pack's dependencies when @pulumi/pulumi cannot be found", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pack-no-deps-"));
        fs.writeFileSync(path.join(tmp, "PulumiPolicy.yaml"), "runtime: nodejs\n");
        const err = await start(tmp).catch((e) => e);
        fs.rmSync(tmp, { recursive: true, force: true });
        expect(err).toBeInstanceOf(PolicyPackError);
        expect(err.message).toBe(`it looks like the policy pack's dependencies are not installed; try running npm install or yarn install in "${tmp}"`);
    });

    it("refuses runtimes it cannot start", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pack-python-"));
        fs.writeFileSync(path.join(tmp, "PulumiPolicy.yaml"), "runtime:\n  name: python\n  options:\n    virtualenv: venv\n");
        const err = await start(tmp).catch((e) => e);
        fs.rmSync(tmp, { recursive: true, force: true });
        expect(err.message).toMatch(/has runtime "python"; the offline plan runs nodejs packs only/);
    });
});
