/**
 * What holds for every policy and pack: complete reviewer metadata, per-stack config files that name
 * exactly the pack's policies with valid settings and the agreed levels, packs laid out to load with
 * `pulumi preview --policy-pack`, the stack context, and the handling of unknown values.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { isTaggableAwsType, scanTaggableTypes, TAGGABLE_SOURCE_VERSION } from "../policy/readers/awsTaggable";
import { configFilePath, CONFIG_DIR, configuredStacks, effectiveLevel, POLICY_DIR, readPackConfig } from "../policy/framework/configFiles";
import { environmentOfStack, runtimeContext } from "../policy/framework/context";
import { chartExceptionFor, defineResourcePolicy } from "../policy/framework/define";
import { podNoHostNamespaces } from "../policy/rules/security/podNoHostNamespaces";
import { workloadHasPdb } from "../policy/rules/reliability/workloadHasPdb";
import { PACKS, STACKS } from "../policy/packs";
import { policyPackArgs } from "../policy/framework/serve";
import { kmsKeyRotationEnabled } from "../policy/rules/security/kmsKeyRotationEnabled";
import { PACK_NAMES, SEVERITIES } from "../policy/framework/types";
import { raw, strict, UnknownValueError } from "../policy/framework/unknowns";
import { readProject, readStackConfig } from "../engine/project";
import { ROOT } from "./harness";
import {
    createResourceValidationArgs,
    createStackValidationArgs,
    resourcePolicy,
    runResourcePolicy,
    runStackPolicy,
    stackPolicy,
    UNKNOWN,
} from "./policies/util";

const ALL = PACKS.flatMap((p) => p.policies.map((factory) => ({ pack: p.name, factory })));

describe("policy metadata", () => {
    it("has unique kebab-case names across packs", () => {
        const names = ALL.map((p) => p.factory.meta.name);
        expect(new Set(names).size).toBe(names.length);
        for (const n of names) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    });
    it.each(ALL.map((p) => [p.factory.meta.name, p] as const))("%s carries what a reviewer needs", (_name, { pack, factory }) => {
        const m = factory.meta;
        expect(m.pack).toBe(pack);
        expect(SEVERITIES).toContain(m.severity);
        for (const text of [m.title, m.description, m.rationale, m.remediation]) expect(text.length).toBeGreaterThan(10);
        expect(m.topics.length).toBeGreaterThan(0);
        expect(m.appliesTo.length).toBeGreaterThan(0);
        expect(m.controls.length).toBeGreaterThan(0);
    });
    it("reaches the engine through @pulumi/policy's own fields (severity, framework, tags, remediation)", () => {
        const [policy] = policyPackArgs({ name: "mlops-security", description: "x", policies: [kmsKeyRotationEnabled] }).policies;
        expect(policy).toMatchObject({
            name: "kms-key-rotation-enabled",
            displayName: "KMS keys rotate",
            severity: "medium",
            enforcementLevel: "mandatory",
            remediationSteps: "Set `enableKeyRotation: true` on the `aws.kms.Key`.",
            framework: { name: "CIS AWS Foundations Benchmark", version: "3.0.0", reference: "3.6" },
        });
        expect(policy.tags).toEqual(["severity:medium", "protects-data", "kms", "encryption", "CIS-AWS:3.6", "NIST-800-53:SC-12", "SOC2:CC6.1"]);
    });
    it("never declares enforcementLevel as a config property (the server refuses such packs)", () => {
        for (const { factory } of ALL) expect(Object.keys(factory.configSchema.properties ?? {})).not.toContain("enforcementLevel");
    });
});

describe("pack layout", () => {
    it.each(PACK_NAMES.map((n) => [n]))("%s loads like `pulumi preview --policy-pack policy/%s`", (name) => {
        const dir = path.join(POLICY_DIR, name);
        const project = YAML.parse(fs.readFileSync(path.join(dir, "PulumiPolicy.yaml"), "utf8"));
        expect(project.runtime).toBe("nodejs");
        expect(project.description).toBe(PACKS.find((p) => p.name === name)!.description);
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
        // It runs compiled (npm run build:policy; test/policy.build.test.ts checks the bundle is current).
        expect(pkg).toMatchObject({ name, main: "bin/index.js" });
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/); // PolicyPack reads it from package.json
        // The pack file serves its list and nothing else: the PolicyPack is constructed in policy/framework/serve.ts only.
        const index = fs.readFileSync(path.join(dir, "index.ts"), "utf8");
        expect(index).toMatch(/servePack\(pack\);\s*$/);
        expect(index).not.toMatch(/new PolicyPack/);
    });
    it("constructs PolicyPack in exactly one place", () => {
        const files = fs
            .readdirSync(POLICY_DIR, { recursive: true })
            .map(String)
            .filter((f) => f.endsWith(".ts"));
        const constructing = files.filter((f) => /new PolicyPack\(/.test(fs.readFileSync(path.join(POLICY_DIR, f), "utf8")));
        expect(constructing).toEqual([path.join("framework", "serve.ts")]);
    });
});

describe("per-stack config files", () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const cases = STACKS.flatMap((stack) => PACKS.map((pack) => [stack, pack] as const));

    it("exist for dev, test and prod and nothing else", () => {
        expect(configuredStacks()).toEqual([...STACKS].sort());
        for (const [stack, pack] of cases) expect(fs.existsSync(configFilePath(stack, pack.name))).toBe(true);
        for (const stack of STACKS) expect(fs.readdirSync(path.join(CONFIG_DIR, stack)).sort()).toEqual(PACKS.map((p) => `${p.name}.json`).sort());
    });
    it.each(cases.map(([s, p]) => [`${s}/${p.name}`, s, p] as const))("%s names every policy, with valid levels and settings", (_id, stack, pack) => {
        const file = readPackConfig(stack, pack.name);
        expect(Object.keys(file).sort()).toEqual(pack.policies.map((p) => p.meta.name).sort());
        for (const factory of pack.policies) {
            const entry = file[factory.meta.name];
            const level = typeof entry === "string" ? entry : entry.enforcementLevel;
            expect(["advisory", "mandatory", "disabled"]).toContain(level);
            const props = typeof entry === "object" ? Object.fromEntries(Object.entries(entry).filter(([k]) => k !== "enforcementLevel")) : {};
            const validate = ajv.compile({ type: "object", properties: factory.configSchema.properties, additionalProperties: false });
            expect(validate(props), `${stack}/${factory.meta.name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        }
    });
    it("make every policy mandatory in prod and test", () => {
        for (const stack of ["prod", "test"]) {
            for (const { pack, factory } of ALL)
                expect(effectiveLevel(readPackConfig(stack, pack), factory.meta.name), `${stack}/${factory.meta.name}`).toBe("mandatory");
        }
    });
    it("keep data-protecting policies mandatory in dev and the others advisory", () => {
        for (const { pack, factory } of ALL) {
            expect(effectiveLevel(readPackConfig("dev", pack), factory.meta.name), factory.meta.name).toBe(
                factory.meta.protectsData ? "mandatory" : "advisory",
            );
        }
    });
    it("name each stack's own account and ECR registry, as Pulumi.<stack>.yaml configures them", () => {
        const project = readProject(ROOT);
        for (const stack of STACKS) {
            const aws = JSON.parse(readStackConfig(project, stack).config["mlops:aws"]);
            const governance = readPackConfig(stack, "mlops-governance") as Record<string, any>;
            expect(governance["no-cross-environment-references"].environmentAccounts[stack]).toContain(aws.accountId);
            expect(governance["image-registry-allowed"].allowedRegistries).toEqual([`${aws.accountId}.dkr.ecr.${aws.region}.amazonaws.com/*`]);
        }
    });
    it("mark the data-protecting rules the platform agreed on", () => {
        const protecting = ALL.filter((p) => p.factory.meta.protectsData).map((p) => p.factory.meta.name);
        for (const name of [
            "s3-bucket-encrypted-with-kms",
            "s3-bucket-public-access-blocked",
            "s3-bucket-tls-only",
            "rds-storage-encrypted",
            "rds-not-publicly-accessible",
            "elasticache-encrypted-authenticated",
            "iam-no-wildcard-actions",
            "iam-no-wildcard-resources",
            "secret-env-from-secret-ref",
        ]) {
            expect(protecting).toContain(name);
        }
    });
});

describe("stack context", () => {
    it("derives the environment from the stack name", () => {
        expect(["prod", "dev", "acme/mlops-prod", "mlops.test", "staging", "production", ""].map(environmentOfStack)).toEqual([
            "prod",
            "dev",
            "prod",
            "test",
            undefined,
            undefined,
            undefined,
        ]);
    });
    it("reads what the CLI gives the pack process, the stack name first", () => {
        const env = { PULUMI_NODEJS_STACK: "prod", PULUMI_CONFIG: JSON.stringify({ "mlops:environment": "dev", "mlops:labelDomain": "acme.io" }) };
        expect(runtimeContext(undefined, env)).toMatchObject({ stack: "prod", environment: "prod", labelDomain: "acme.io" });
        expect(runtimeContext(new Map([["environment", "test"]]), { PULUMI_NODEJS_STACK: "sandbox" }).environment).toBe("test");
        expect(runtimeContext(undefined, { PULUMI_CONFIG: JSON.stringify({ "mlops:environment": "dev" }) }).environment).toBe("dev");
        expect(runtimeContext(undefined, {})).toMatchObject({ stack: undefined, environment: undefined, labelDomain: undefined });
        // A team project's own keys.
        expect(
            runtimeContext(undefined, {
                PULUMI_NODEJS_STACK: "prod",
                PULUMI_CONFIG: JSON.stringify({ "team-fraud:labelDomain": "acme.io", "aws:region": "eu-west-1" }),
            }).labelDomain,
        ).toBe("acme.io");
    });
});

describe("unknown values", () => {
    it("@pulumi/policy's proxy and ours both throw a recognised error, and raw() sees through them", () => {
        const props = strict({ a: { b: UNKNOWN }, c: 1 });
        expect(() => props.a.b).toThrow(UnknownValueError);
        expect(raw(props).a.b).toBe(UNKNOWN);
        const args = createResourceValidationArgs("aws:kms/key:Key", { enableKeyRotation: UNKNOWN });
        expect(() => args.props.enableKeyRotation).toThrow(/can't be known during preview/);
        expect(raw(args.props).enableKeyRotation).toBe(UNKNOWN);
    });
    it("turn into not applicable, naming the property", async () => {
        const run = await runResourcePolicy(
            resourcePolicy(kmsKeyRotationEnabled),
            createResourceValidationArgs("aws:kms/key:Key", { enableKeyRotation: UNKNOWN }),
        );
        expect(run).toEqual({
            violations: [],
            notApplicable: "needs a value that is unknown during preview: string value at .enableKeyRotation can't be known during preview",
        });
    });
    it("do not hide real errors of a check", async () => {
        const broken = defineResourcePolicy<Record<string, never>>({
            meta: { ...kmsKeyRotationEnabled.meta, name: "broken" },
            config: {},
            types: ["aws:kms/key:Key"],
            check: () => {
                throw new Error("bug");
            },
        });
        await expect(runResourcePolicy(resourcePolicy(broken), createResourceValidationArgs("aws:kms/key:Key", {}))).rejects.toThrow("bug");
    });
});

describe("taggable AWS types", () => {
    it("come from the installed @pulumi/aws", () => {
        const aws = path.dirname(require.resolve("@pulumi/aws/package.json"));
        const scanned = scanTaggableTypes(aws);
        expect(TAGGABLE_SOURCE_VERSION).toBe(scanned.awsVersion);
        const data = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "readers", "data", "aws-taggable-types.json"), "utf8"));
        expect(data.types, "run: npx tsx policy/tools/update-aws-taggable.ts").toEqual(scanned.types);
    });
    it("know buckets, keys and databases take tags and their configuration resources do not", () => {
        expect(["aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:rds/instance:Instance", "aws:iam/role:Role"].every(isTaggableAwsType)).toBe(true);
        expect(["aws:s3/bucketVersioning:BucketVersioning", "aws:kms/alias:Alias", "aws:iam/rolePolicy:RolePolicy"].some(isTaggableAwsType)).toBe(false);
    });
});

describe("accepted chart exceptions (chartExceptions)", () => {
    const CHART_URN = (type: string, name: string) => `urn:pulumi:prod::mlops::mlops:index:MonitoringStack$kubernetes:helm.sh/v3:Release$${type}::${name}`;
    const DS = "kubernetes:apps/v1:DaemonSet";
    const hostPid = {
        metadata: { name: "node-exporter", namespace: "monitoring" },
        spec: { template: { spec: { hostPID: true, containers: [{ name: "c", image: "x" }] } } },
    };
    const exception = { resource: "kube-prometheus-stack:monitoring/node-exporter", reason: "node-exporter reads the host's process table by design" };

    it("every policy has the property, default empty, and the config files validate against it", () => {
        for (const { factory } of ALL) expect((factory.defaults as Record<string, unknown>).chartExceptions).toEqual([]);
        const ajv = new Ajv({ allErrors: true, strict: false });
        const validate = ajv.compile(podNoHostNamespaces.configSchema);
        expect(validate({ chartExceptions: [exception] })).toBe(true);
        expect(validate({ chartExceptions: [{ resource: "node-exporter", reason: exception.reason }] })).toBe(false);
        expect(validate({ chartExceptions: [{ resource: exception.resource, reason: "short" }] })).toBe(false);
    });

    it("matches chart objects only, by exact name or a trailing *", () => {
        expect(chartExceptionFor([exception], CHART_URN(DS, "kube-prometheus-stack:monitoring/node-exporter"))).toBe(exception);
        expect(chartExceptionFor([exception], CHART_URN(DS, "kube-prometheus-stack:monitoring/node-exporter-2"))).toBeUndefined();
        const star = { ...exception, resource: "kube-prometheus-stack:monitoring/*" };
        expect(chartExceptionFor([star], CHART_URN(DS, "kube-prometheus-stack:monitoring/anything"))).toBe(star);
        // The platform's own resource of the same name is never excepted.
        expect(chartExceptionFor([exception], `urn:pulumi:prod::mlops::${DS}::kube-prometheus-stack:monitoring/node-exporter`)).toBeUndefined();
    });

    it("a resource policy is not applicable to an excepted chart object, with the reason; it still reports the others", async () => {
        const policy = resourcePolicy(podNoHostNamespaces);
        const args = (name: string, urn: string) => ({
            ...createResourceValidationArgs(DS, hostPid, { name, factory: podNoHostNamespaces, config: { chartExceptions: [exception] } }),
            urn,
        });
        const excepted = await runResourcePolicy(
            policy,
            args("kube-prometheus-stack:monitoring/node-exporter", CHART_URN(DS, "kube-prometheus-stack:monitoring/node-exporter")),
        );
        expect(excepted.violations).toEqual([]);
        expect(excepted.notApplicable).toBe(`accepted exception for ${exception.resource}: ${exception.reason}`);
        const other = await runResourcePolicy(policy, args("kube-prometheus-stack:monitoring/other", CHART_URN(DS, "kube-prometheus-stack:monitoring/other")));
        expect(other.violations.length).toBe(1);
    });

    it("a stack policy drops the violations of excepted chart objects only", async () => {
        const dep = (name: string) => ({
            metadata: { name, namespace: "monitoring" },
            spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [] } } },
        });
        const base = createStackValidationArgs(
            [
                { type: "kubernetes:apps/v1:Deployment", name: "a", props: dep("a") },
                { type: "kubernetes:apps/v1:Deployment", name: "b", props: dep("b") },
            ],
            { factory: workloadHasPdb, config: { chartExceptions: [{ resource: "rel:monitoring/a", reason: "the chart has no disruption budget for it" }] } },
        );
        // Make both resources chart objects of release "rel".
        const resources = base.resources.map((r, i) => ({ ...r, urn: CHART_URN("kubernetes:apps/v1:Deployment", `rel:monitoring/${"ab"[i]}`) }));
        const run = await runStackPolicy(stackPolicy(workloadHasPdb), { ...base, resources });
        expect(run.violations.map((v) => v.urn)).toEqual([CHART_URN("kubernetes:apps/v1:Deployment", "rel:monitoring/b")]);
    });
});
