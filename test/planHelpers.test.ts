/**
 * The plan's pure helpers: how a recorded registration becomes what analyzers receive, how manifests
 * are cleaned, placed and redacted, the tree, flags, exit codes and failure messages.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { PolicyPackError } from "../engine/analyzer";
import type { KubernetesObject } from "../engine/kubernetes";
import { combineExitCodes, describeFailure, discoverPolicyPacks, EXIT, planExitCode, resolvePolicyPacks, UsageError } from "../engine/plan";
import { aliasUrn, parseGoDuration, providerUrn, remediates, toAnalyzerResource, toAnalyzerStackResource, urnName } from "../engine/policies";
import { PolicyConfigError } from "../engine/policyConfig";
import { ProjectError } from "../engine/project";
import { ProgramError, type RecordedResource } from "../engine/recorder";
import {
    countByType,
    countKinds,
    MANIFEST_SECRET_PLACEHOLDER,
    manifestFiles,
    manifestObject,
    manifestYaml,
    manifestPath,
    owningComponent,
    programAliases,
    renderTree,
    renderViolation,
} from "../engine/render";
import { SECRET_SIG, SIG_KEY } from "../engine/values";
import { parseFlags } from "../engine/cli/plan";
import { ROOT } from "./harness";

const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });
const STACK_URN = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev";

function res(partial: Partial<RecordedResource> & Pick<RecordedResource, "urn" | "type" | "name">): RecordedResource {
    return {
        custom: true,
        parent: STACK_URN,
        provider: "",
        providers: {},
        inputs: {},
        outputs: {},
        dependencies: [],
        propertyDependencies: {},
        options: {
            protect: false,
            retainOnDelete: false,
            deleteBeforeReplace: false,
            ignoreChanges: [],
            replaceOnChanges: [],
            additionalSecretOutputs: [],
            aliases: [],
        },
        ...partial,
    };
}

const stackRes = res({ urn: STACK_URN, type: "pulumi:pulumi:Stack", name: "p-dev", custom: false, parent: "" });
const provider = res({
    urn: "urn:pulumi:dev::p::pulumi:providers:aws::aws",
    type: "pulumi:providers:aws",
    name: "aws",
    inputs: { region: "eu-west-1", __internal: "x" },
});
const team = res({ urn: "urn:pulumi:dev::p::my:index:Team::fraud", type: "my:index:Team", name: "fraud", custom: false });
const storage = res({
    urn: "urn:pulumi:dev::p::my:index:Team$my:index:Storage::fraud-storage",
    type: "my:index:Storage",
    name: "fraud-storage",
    custom: false,
    parent: team.urn,
});
const bucket = res({
    urn: "urn:pulumi:dev::p::my:index:Team$my:index:Storage$aws:s3/bucket:Bucket::fraud-data",
    type: "aws:s3/bucket:Bucket",
    name: "fraud-data",
    parent: storage.urn,
    provider: `${provider.urn}::aws-id`,
    inputs: { bucket: "b", forceDestroy: false, password: secret("hunter2") },
    outputs: { bucket: "b", forceDestroy: false, password: secret("hunter2"), arn: "arn:aws:s3:::b" },
    dependencies: [provider.urn],
    propertyDependencies: { bucket: [], tags: [team.urn] },
    options: {
        protect: true,
        retainOnDelete: true,
        deleteBeforeReplace: false,
        ignoreChanges: ["tags"],
        replaceOnChanges: [],
        additionalSecretOutputs: ["password"],
        aliases: [{ name: "old-data" }, { noParent: true }, { urn: "urn:pulumi:dev::p::aws:s3/bucket:Bucket::legacy" }],
        customTimeouts: { create: "1h30m", delete: "90s" },
    },
});
const all = [stackRes, provider, team, storage, bucket];
const byUrn = new Map(all.map((r) => [r.urn, r]));

describe("parseGoDuration", () => {
    it("reads Go duration strings as seconds", () => {
        expect(parseGoDuration("")).toBe(0);
        expect(parseGoDuration("90s")).toBe(90);
        expect(parseGoDuration("1h30m")).toBe(5400);
        expect(parseGoDuration("1.5m")).toBe(90);
        expect(parseGoDuration("250ms")).toBeCloseTo(0.25);
        expect(parseGoDuration("-2m")).toBe(-120);
        expect(() => parseGoDuration("10 minutes")).toThrow(/invalid duration/);
        expect(() => parseGoDuration("5")).toThrow(/invalid duration/);
    });

    it("round-trips any h/m/s combination", () => {
        fc.assert(
            fc.property(fc.nat(99), fc.nat(59), fc.nat(59), (h, m, s) => {
                const text = `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
                expect(parseGoDuration(text)).toBe(h * 3600 + m * 60 + s);
            }),
        );
    });
});

describe("from a registration to what analyzers receive", () => {
    it("completes alias specs into URNs as the engine does", () => {
        expect(aliasUrn(bucket, { name: "old-data" })).toBe("urn:pulumi:dev::p::my:index:Team$my:index:Storage$aws:s3/bucket:Bucket::old-data");
        expect(aliasUrn(bucket, { noParent: true })).toBe("urn:pulumi:dev::p::aws:s3/bucket:Bucket::fraud-data");
        // A parent that is the stack adds no type to the chain.
        expect(aliasUrn(bucket, { parentUrn: STACK_URN, type: "aws:s3/bucketV2:BucketV2" })).toBe("urn:pulumi:dev::p::aws:s3/bucketV2:BucketV2::fraud-data");
        expect(aliasUrn(bucket, { stack: "prod", project: "q" })).toBe("urn:pulumi:prod::q::my:index:Team$my:index:Storage$aws:s3/bucket:Bucket::fraud-data");
        expect(aliasUrn(bucket, { urn: "urn:x" })).toBe("urn:x");
    });

    it("splits URNs and provider references", () => {
        expect(urnName("urn:pulumi:s::p::t::a::b")).toBe("a::b");
        expect(providerUrn(`${provider.urn}::aws-id`)).toBe(provider.urn);
    });

    it("Analyze gets inputs, options with parent, provider inputs and timeouts in seconds", () => {
        const a = toAnalyzerResource(bucket, byUrn);
        expect(a).toEqual({
            urn: bucket.urn,
            type: "aws:s3/bucket:Bucket",
            name: "fraud-data",
            properties: bucket.inputs,
            options: {
                protect: true,
                ignoreChanges: ["tags"],
                deleteBeforeReplace: undefined,
                additionalSecretOutputs: ["password"],
                aliases: [
                    "urn:pulumi:dev::p::my:index:Team$my:index:Storage$aws:s3/bucket:Bucket::old-data",
                    "urn:pulumi:dev::p::aws:s3/bucket:Bucket::fraud-data",
                    "urn:pulumi:dev::p::aws:s3/bucket:Bucket::legacy",
                ],
                customTimeouts: { create: 5400, update: 0, delete: 90 },
                parent: storage.urn,
            },
            provider: { urn: provider.urn, type: "pulumi:providers:aws", name: "aws", properties: provider.inputs },
        });
        expect(toAnalyzerResource(team, byUrn).provider).toBeUndefined();
    });

    it("AnalyzeStack gets the final state (outputs), parent and dependencies, no parent in options", () => {
        const s = toAnalyzerStackResource(bucket, byUrn);
        expect(s.properties).toEqual(bucket.outputs);
        expect(s.options.parent).toBe("");
        expect(s.parent).toBe(storage.urn);
        expect(s.dependencies).toEqual([provider.urn]);
        expect(s.propertyDependencies).toEqual(bucket.propertyDependencies);
    });
});

describe("remediates", () => {
    const p = (name: string, enforcementLevel: any, type: any = "resource") => ({ name, enforcementLevel, type }) as any;
    it("is true only when a resource policy runs at the remediate level", () => {
        expect(remediates([p("a", "advisory"), p("b", "mandatory")], {})).toBe(false);
        expect(remediates([p("a", "remediate")], {})).toBe(true);
        expect(remediates([p("a", "remediate")], { a: { enforcementLevel: "advisory" } })).toBe(false);
        expect(remediates([p("a", "advisory")], { a: { enforcementLevel: "remediate" } })).toBe(true);
        expect(remediates([p("s", "remediate", "stack")], {})).toBe(false);
    });
});

describe("manifests", () => {
    const secretObject: KubernetesObject = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "db", namespace: "team" },
        type: "Opaque",
        stringData: { password: secret("hunter2") as unknown as string, user: "admin" },
        data: { token: "aHVudGVyMg==" },
        __inputs: { leaked: true },
    };

    it("masks Secret values whether or not they are marked secret, and drops Pulumi-internal keys", () => {
        const m = manifestObject(secretObject) as any;
        expect(Object.keys(m).slice(0, 3)).toEqual(["apiVersion", "kind", "metadata"]);
        expect(m.stringData).toEqual({ password: MANIFEST_SECRET_PLACEHOLDER, user: MANIFEST_SECRET_PLACEHOLDER });
        expect(Buffer.from(m.data.token, "base64").toString()).toBe(MANIFEST_SECRET_PLACEHOLDER);
        expect(m.__inputs).toBeUndefined();
        expect(JSON.stringify(m)).not.toContain("hunter2");
    });

    it("masks secrets in any other object", () => {
        const cm = manifestObject({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "c" },
            data: { dsn: secret("postgres://u:p@h") as unknown as string },
        }) as any;
        expect(cm.data.dsn).toBe(MANIFEST_SECRET_PLACEHOLDER);
    });

    it("places objects by namespace (or _cluster) and owning component", () => {
        expect(manifestPath({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } }, "fraud")).toBe("_cluster/fraud/namespace-team.yaml");
        expect(manifestPath({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "team" } }, "fraud")).toBe(
            "team/fraud/deployment-api.yaml",
        );
        expect(manifestPath({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a/b" } }, "_stack")).toBe("default/_stack/configmap-a_b.yaml");
        const deploy = res({
            urn: `${storage.urn.replace("my:index:Storage::fraud-storage", "my:index:Storage$kubernetes:apps/v1:Deployment::api")}`,
            type: "kubernetes:apps/v1:Deployment",
            name: "api",
            parent: storage.urn,
        });
        expect(owningComponent(deploy, byUrn)).toBe("fraud-storage");
        expect(owningComponent(provider, byUrn)).toBe("_stack");
    });

    it("writes YAML that kubectl (YAML 1.1) reads back unchanged (portableYaml, test/yaml.test.ts)", () => {
        const text = manifestYaml({ metadata: { labels: { enabled: "on", legacy: "yes" } } });
        expect(text).toBe("metadata:\n  labels:\n    enabled: 'on'\n    legacy: 'yes'\n");
        expect(YAML.parse(text, { version: "1.1" })).toEqual({ metadata: { labels: { enabled: "on", legacy: "yes" } } });
    });

    it("keeps two objects that would share a file", () => {
        const mk = (apiVersion: string): any => ({ resource: bucket, object: { apiVersion, kind: "Ingress", metadata: { name: "x", namespace: "n" } } });
        const files = manifestFiles([mk("networking.k8s.io/v1"), mk("extensions/v1beta1")], all);
        expect(new Set(files.map((f) => f.path)).size).toBe(2);
        expect(files[0].content.startsWith(`# Source: ${bucket.urn}\napiVersion: networking.k8s.io/v1\n`)).toBe(true);
    });
});

describe("the tree", () => {
    it("nests children under their parent and flags options and secrets, never values", () => {
        const lines = renderTree(all).split("\n");
        expect(lines).toEqual([
            "pulumi:pulumi:Stack  p-dev",
            "├─ pulumi:providers:aws  aws",
            "└─ my:index:Team  fraud",
            "   └─ my:index:Storage  fraud-storage",
            "      └─ aws:s3/bucket:Bucket  fraud-data  [protect; retainOnDelete; ignoreChanges: tags; 3 aliases; 1 secret input]",
        ]);
        const detailed = renderTree(all, { details: true });
        expect(detailed).toContain('password: "[secret]"');
        expect(detailed).not.toContain("hunter2");
    });

    it("counts by type and kind", () => {
        expect(countByType([...all, bucket])[0]).toEqual(["aws:s3/bucket:Bucket", 2]);
        expect(countKinds(all)).toEqual({ custom: 1, components: 2, providers: 1 });
    });

    it("prints a violation like the Pulumi CLI", () => {
        const text = renderViolation({
            policyName: "no-force-destroy",
            policyPackName: "pack",
            policyPackVersion: "1.2.0",
            description: "d",
            message: "Buckets are never force-destroyed.\nforceDestroy is true.",
            enforcementLevel: "mandatory",
            urn: bucket.urn,
            severity: "high",
            stage: "resource",
            remediationSteps: "Set forceDestroy to false.",
        });
        expect(text.split("\n")).toEqual([
            "    pack@v1.2.0 [mandatory]  no-force-destroy  (aws:s3/bucket:Bucket: fraud-data)",
            "    Buckets are never force-destroyed.",
            "    forceDestroy is true.",
            "    Remediation: Set forceDestroy to false.",
        ]);
    });
});

describe("flags, packs and exit codes", () => {
    it("parses flags like the Pulumi CLI's", () => {
        const f = parseFlags(
            [
                "prod",
                "--json",
                "--policy-pack",
                "a",
                "--policy-pack",
                "b",
                "--policy-pack-config",
                "a.json",
                "--policy-pack-config",
                "b.json",
                "-c",
                "mlops:x=1=2",
                "--policy-timeout",
                "2.5",
            ],
            "/w",
        );
        expect(f).toMatchObject({
            stacks: ["prod"],
            json: true,
            packs: ["/w/a", "/w/b"],
            packConfigs: ["/w/a.json", "/w/b.json"],
            config: { "mlops:x": "1=2" },
            timeoutMs: 2500,
            root: "/w",
        });
        expect(parseFlags(["--help"])).toBe("help");
        expect(parseFlags(["dev", "test", "dev"])).toMatchObject({ stacks: ["dev", "test"] });
        expect(() => parseFlags([])).toThrow(UsageError);
        expect(() => parseFlags(["dev", "--policy-timeout", "0"])).toThrow(/positive number/);
        expect(() => parseFlags(["dev", "-c", "novalue"])).toThrow(/key=value/);
        expect(() => parseFlags(["dev", "--no-policy", "--policy-pack", "x"])).toThrow(/cannot be combined/);
        expect(() => parseFlags(["dev", "--bogus"])).toThrow(UsageError);
        expect(parseFlags(["dev", "--stack-reference", "acme/mlops/dev=.plan/dev/plan.json"], "/w")).toMatchObject({
            stackReferences: { "acme/mlops/dev": "/w/.plan/dev/plan.json" },
        });
        expect(() => parseFlags(["dev", "--stack-reference", "plan.json"])).toThrow(/<stack name>=<plan.json>/);
    });

    it("finds packs and matches config files by position", () => {
        const fixtures = path.join(ROOT, "test", "fixtures");
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-packs-"));
        expect(discoverPolicyPacks(tmp)).toEqual([]);
        for (const d of ["b", "a", "lib"]) fs.mkdirSync(path.join(tmp, "policy", d), { recursive: true });
        for (const d of ["a", "b"]) fs.writeFileSync(path.join(tmp, "policy", d, "PulumiPolicy.yaml"), "runtime: nodejs\n");
        expect(discoverPolicyPacks(tmp)).toEqual([path.join(tmp, "policy", "a"), path.join(tmp, "policy", "b")]);
        fs.rmSync(tmp, { recursive: true, force: true });
        const pack = path.join(fixtures, "policy-pack");
        expect(resolvePolicyPacks(ROOT, "dev", [pack], [])).toEqual([{ dir: pack, configFile: undefined }]);
        expect(() => resolvePolicyPacks(ROOT, "dev", [pack], ["a.json", "b.json"])).toThrow(/once per --policy-pack/);
        expect(() => resolvePolicyPacks(ROOT, "dev", [fixtures], [])).toThrow(/no PulumiPolicy.yaml/);
    });

    it("combines several stacks' exit codes, most severe first", () => {
        expect(combineExitCodes([])).toBe(EXIT.OK);
        expect(combineExitCodes([0, 4, 0])).toBe(EXIT.INVALID_KUBERNETES);
        expect(combineExitCodes([4, 1, 0])).toBe(EXIT.MANDATORY_VIOLATIONS);
        expect(combineExitCodes([1, 3, 4])).toBe(EXIT.POLICY_PACK_ERROR);
        expect(combineExitCodes([3, 2, 1])).toBe(EXIT.PROGRAM_ERROR);
    });

    it("ranks mandatory violations over schema errors", () => {
        const v = (enforcementLevel: "mandatory" | "advisory") => ({ violations: [{ enforcementLevel }] }) as any;
        const err = [{ object: "x", path: "", message: "m" }];
        expect(planExitCode({ schemaErrors: [] })).toBe(EXIT.OK);
        expect(planExitCode({ policy: v("advisory"), schemaErrors: [] })).toBe(EXIT.OK);
        expect(planExitCode({ policy: v("advisory"), schemaErrors: err })).toBe(EXIT.INVALID_KUBERNETES);
        expect(planExitCode({ policy: v("mandatory"), schemaErrors: err })).toBe(EXIT.MANDATORY_VIOLATIONS);
    });

    it("gives each failure one message and its exit code", () => {
        const configError = Object.assign(new Error('Invalid configuration for stack "dev" (1 problem):\n  - mlops:x: bad'), { name: "ConfigError" });
        expect(describeFailure(new ProgramError("the program failed: ...", configError), ROOT)).toEqual({ exitCode: 2, message: configError.message });
        const crash = new Error("boom");
        crash.stack = `Error: boom\n    at f (${ROOT}/node_modules/x.js:1:1)\n    at g (${ROOT}/stacks/index.ts:7:3)`;
        expect(describeFailure(new ProgramError("the program failed: boom", crash), ROOT)).toEqual({
            exitCode: 2,
            message: `the program failed: boom\n    at g (${ROOT}/stacks/index.ts:7:3)`,
        });
        expect(describeFailure(new ProjectError("no stack"), ROOT).exitCode).toBe(2);
        expect(describeFailure(new UsageError("bad flag"), ROOT).exitCode).toBe(2);
        expect(describeFailure(new PolicyConfigError("bad"), ROOT).exitCode).toBe(3);
        const packErr = describeFailure(new PolicyPackError("pack failed", "\x1b[90mline 1\x1b[39m\nline 2\n"), ROOT);
        expect(packErr).toEqual({ exitCode: 3, message: "pack failed\n  pack stderr:\n    line 1\n    line 2" });
    });
});

describe("aliases in the tree", () => {
    it("counts the program's aliases, not the type aliases a provider SDK gives every resource of a type", () => {
        const parent = "urn:pulumi:dev::p::mlops:index:ModelService::s";
        const sdk = [{ type: "kubernetes:apps/v1beta1:Deployment", parentUrn: parent }, { type: "kubernetes:extensions/v1beta1:Deployment" }];
        const program = [
            { name: "old-name" },
            { noParent: true },
            { urn: "urn:pulumi:dev::p::x::y" },
            { type: "mlops:index:Old", parentUrn: "urn:pulumi:dev::p::other::o" },
        ];
        expect(programAliases({ parent, options: { aliases: [...sdk, ...program] } as never })).toEqual(program);
    });
});
