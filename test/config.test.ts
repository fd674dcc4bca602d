import { describe, expect, it } from "vitest";
import { ConfigError, deepMerge, ENVIRONMENT_DEFAULTS, isIpv4Cidr, parsePlatformConfig, type PlatformConfig, suggestKey } from "../stacks/config";
import { configNamespace, readProject, readStackConfig } from "../engine/project";
import { ProgramError } from "../engine/recorder";
import { ROOT, runStack, STACKS } from "./harness";

/** The raw `mlops:` keys of a real stack file, as the program receives them. */
function rawConfig(stack: string): Record<string, string> {
    return configNamespace(readStackConfig(readProject(ROOT), stack).config, "mlops");
}

/** Raw config of `stack` with one key replaced (objects are merged, `undefined` removes a key). */
function withOverride(stack: string, key: string, value: unknown): Record<string, unknown> {
    const raw: Record<string, unknown> = Object.fromEntries(
        Object.entries(rawConfig(stack)).map(([k, v]) => [k, v.startsWith("{") || v.startsWith("[") ? JSON.parse(v) : v]),
    );
    const [head, ...rest] = key.split(".");
    if (rest.length === 0) {
        if (value === undefined) delete raw[head];
        else raw[head] = value;
        return raw;
    }
    const clone = structuredClone(raw[head] ?? {}) as Record<string, any>;
    let obj = clone;
    for (const part of rest.slice(0, -1)) obj = obj[part] ??= {};
    const last = rest[rest.length - 1];
    if (value === undefined) delete obj[last];
    else obj[last] = value;
    raw[head] = clone;
    return raw;
}

function problemsOf(fn: () => unknown): string[] {
    try {
        fn();
    } catch (err) {
        if (err instanceof ConfigError) return [...err.problems];
        throw err;
    }
    throw new Error("expected a ConfigError, but the config was accepted");
}

describe("the real stack files", () => {
    it.each(STACKS)("Pulumi.%s.yaml parses, and its environment is the stack name", (stack) => {
        const cfg = parsePlatformConfig(rawConfig(stack), stack);
        expect(cfg.environment).toBe(stack);
        expect(cfg.aws.region).toBe("eu-west-1");
        expect(cfg.cluster.oidcProviderArn).toContain(`:${cfg.aws.accountId}:`);
    });

    it("applies environment defaults: dev small and cheap, prod highly available", () => {
        const dev = parsePlatformConfig(rawConfig("dev"), "dev");
        const prod = parsePlatformConfig(rawConfig("prod"), "prod");
        expect(dev.mlflow.database.kind).toBe("in-cluster");
        expect(dev.mlflow.replicas).toBe(1);
        expect(dev.mlflow.auth).toBe(false);
        expect(prod.mlflow.database).toMatchObject({ kind: "rds", multiAz: true, deletionProtection: true });
        expect(prod.mlflow.replicas).toBeGreaterThanOrEqual(2);
        expect(prod.artifactStore.noncurrentVersionExpirationDays).toBeGreaterThan(dev.artifactStore.noncurrentVersionExpirationDays);
    });

    it("fills keys a stack file omits from the environment defaults", () => {
        const raw = withOverride("test", "mlflow.gcSchedule", undefined);
        const cfg = parsePlatformConfig(raw, "test");
        expect(cfg.mlflow.gcSchedule).toBe(ENVIRONMENT_DEFAULTS.test.mlflow?.gcSchedule);
    });

    it("accepts structured values already decoded and JSON-encoded alike", () => {
        const decoded = withOverride("dev", "mlflow.replicas", 1);
        const encoded = Object.fromEntries(Object.entries(decoded).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
        expect(parsePlatformConfig(encoded, "dev")).toEqual(parsePlatformConfig(decoded, "dev"));
    });
});

/**
 * Malformed configurations: each names the key, the bad value and what is allowed. Every case starts
 * from a real stack file and changes one thing.
 */
const malformed: { name: string; stack: string; key: string; value: unknown; expect: RegExp[] }[] = [
    {
        name: "unknown environment",
        stack: "dev",
        key: "environment",
        value: "staging",
        expect: [/mlops:environment: got "staging"; expected one of dev, test, prod/],
    },
    {
        name: "missing environment",
        stack: "dev",
        key: "environment",
        value: undefined,
        expect: [/mlops:environment: got nothing \(the key is missing\); expected one of dev, test, prod/],
    },
    {
        name: "missing required key",
        stack: "dev",
        key: "owner",
        value: undefined,
        expect: [/mlops:owner: got nothing \(the key is missing\); a value is required/],
    },
    {
        name: "missing nested key",
        stack: "test",
        key: "cluster.oidcProviderArn",
        value: undefined,
        expect: [/mlops:cluster\.oidcProviderArn: got nothing/, /IAM OIDC provider ARN/],
    },
    {
        name: "wrong type: string for number",
        stack: "dev",
        key: "mlflow.replicas",
        value: "two",
        expect: [/mlops:mlflow\.replicas: got "two"; expected an integer from 1 to 20/],
    },
    {
        name: "negative replica count",
        stack: "prod",
        key: "mlflow.replicas",
        value: -1,
        expect: [/mlops:mlflow\.replicas: got -1; expected an integer from 1 to 20/],
    },
    {
        name: "fractional replica count",
        stack: "test",
        key: "mlflow.replicas",
        value: 1.5,
        expect: [/mlops:mlflow\.replicas: got 1\.5; expected an integer from 1 to 20/],
    },
    { name: "wrong type: number for boolean", stack: "test", key: "mlflow.auth", value: 1, expect: [/mlops:mlflow\.auth: got 1; expected true or false/] },
    {
        name: "malformed region",
        stack: "dev",
        key: "aws.region",
        value: "europe-west",
        expect: [/mlops:aws\.region: got "europe-west"; expected an AWS region like eu-west-1/],
    },
    {
        name: "account id as number-like short string",
        stack: "dev",
        key: "aws.accountId",
        value: "12345",
        expect: [/mlops:aws\.accountId: got "12345"; expected a 12-digit AWS account id/],
    },
    {
        name: "malformed role ARN",
        stack: "prod",
        key: "aws.deployRoleArn",
        value: "arn:aws:iam::410987654321:user/deployer",
        expect: [/mlops:aws\.deployRoleArn: got ".*user\/deployer"; expected an IAM role ARN/],
    },
    {
        name: "malformed OIDC provider ARN",
        stack: "prod",
        key: "cluster.oidcProviderArn",
        value: "arn:aws:iam::410987654321:oidc-provider/example.com",
        expect: [/mlops:cluster\.oidcProviderArn: got .*; expected an IAM OIDC provider ARN/],
    },
    {
        name: "OIDC provider of another account",
        stack: "prod",
        key: "cluster.oidcProviderArn",
        value: "arn:aws:iam::999999999999:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/9C8B7A6D5E4F3A2B1C0D9E8F7A6B5C43",
        expect: [/expected an OIDC provider in account 410987654321/],
    },
    {
        name: "OIDC provider of another region",
        stack: "test",
        key: "cluster.oidcProviderArn",
        value: "arn:aws:iam::310987654321:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/7A2B4C6D8E0F1A3B5C7D9E1F3A5B7C92",
        expect: [/expected an OIDC provider of region eu-west-1/],
    },
    {
        name: "http cluster endpoint",
        stack: "dev",
        key: "cluster.endpoint",
        value: "http://example.com",
        expect: [/mlops:cluster\.endpoint: got "http:\/\/example\.com"; expected an https:\/\/ URL/],
    },
    {
        name: "malformed security group",
        stack: "dev",
        key: "cluster.nodeSecurityGroupId",
        value: "sg-xyz",
        expect: [/mlops:cluster\.nodeSecurityGroupId: got "sg-xyz"; expected a security group id/],
    },
    { name: "malformed VPC id", stack: "test", key: "network.vpcId", value: "vpc-123", expect: [/mlops:network\.vpcId: got "vpc-123"; expected a VPC id/] },
    {
        name: "malformed CIDR (octet)",
        stack: "test",
        key: "network.vpcCidr",
        value: "10.300.0.0/16",
        expect: [/mlops:network\.vpcCidr: got "10\.300\.0\.0\/16"; expected an IPv4 CIDR block/],
    },
    {
        name: "CIDR with host bits",
        stack: "test",
        key: "network.vpcCidr",
        value: "10.20.1.0/16",
        expect: [/mlops:network\.vpcCidr: got "10\.20\.1\.0\/16"; expected an IPv4 CIDR block .*no host bits/],
    },
    {
        name: "malformed subnet id in list",
        stack: "prod",
        key: "network.privateSubnetIds",
        value: ["subnet-0f3a4b5c6d7e8f901", "subnet-nope"],
        expect: [/mlops:network\.privateSubnetIds\[1\]: got "subnet-nope"; expected a subnet id/],
    },
    {
        name: "single subnet",
        stack: "prod",
        key: "network.privateSubnetIds",
        value: ["subnet-0f3a4b5c6d7e8f901"],
        expect: [/mlops:network\.privateSubnetIds: got \["subnet-0f3a4b5c6d7e8f901"\]; expected at least two private subnet ids/],
    },
    {
        name: "subnets not a list",
        stack: "prod",
        key: "network.privateSubnetIds",
        value: "subnet-0f3a4b5c6d7e8f901",
        expect: [/mlops:network\.privateSubnetIds: got "subnet-0f3a4b5c6d7e8f901"; expected a list of subnet ids/],
    },
    {
        name: "typo in a nested key",
        stack: "prod",
        key: "mlflow.replcas",
        value: 3,
        expect: [/mlops:mlflow\.replcas: unknown key; did you mean "mlops:mlflow\.replicas"\?/],
    },
    {
        name: "typo in a top-level key",
        stack: "dev",
        key: "costCenter",
        value: "CC-1",
        expect: [/mlops:costCenter: unknown key; did you mean "mlops:costCentre"\?/],
    },
    {
        name: "unknown key with no near match lists the allowed keys",
        stack: "dev",
        key: "artifactStore.colour",
        value: "blue",
        expect: [/mlops:artifactStore\.colour: unknown key\. Allowed keys here: noncurrentVersionExpirationDays, abortIncompleteUploadDays, accessLogBucket\./],
    },
    {
        name: "unknown database kind",
        stack: "test",
        key: "mlflow.database.kind",
        value: "sqlite",
        expect: [/mlops:mlflow\.database\.kind: got "sqlite"; expected one of rds, in-cluster/],
    },
    {
        name: "in-cluster database outside dev",
        stack: "prod",
        key: "mlflow.database.kind",
        value: "in-cluster",
        expect: [/mlops:mlflow\.database\.kind: got "in-cluster"; expected rds in prod/],
    },
    {
        name: "prod without multi-AZ",
        stack: "prod",
        key: "mlflow.database.multiAz",
        value: false,
        expect: [/mlops:mlflow\.database\.multiAz: got false; expected true in prod/],
    },
    {
        name: "prod without deletion protection",
        stack: "prod",
        key: "mlflow.database.deletionProtection",
        value: false,
        expect: [/mlops:mlflow\.database\.deletionProtection: got false; expected true in prod/],
    },
    {
        name: "prod with one MLflow replica",
        stack: "prod",
        key: "mlflow.replicas",
        value: 1,
        expect: [/mlops:mlflow\.replicas: got 1; expected at least 2 in prod/],
    },
    { name: "auth off in test", stack: "test", key: "mlflow.auth", value: false, expect: [/mlops:mlflow\.auth: got false; expected true in test/] },
    {
        name: "bad Kubernetes quantity",
        stack: "dev",
        key: "mlflow.resources.memoryLimit",
        value: "1 GB",
        expect: [/mlops:mlflow\.resources\.memoryLimit: got "1 GB"; expected a Kubernetes quantity/],
    },
    {
        name: "latest image",
        stack: "dev",
        key: "mlflow.image",
        value: "ghcr.io/acme/mlflow:latest",
        expect: [/mlops:mlflow\.image: got "ghcr\.io\/acme\/mlflow:latest"; expected a pinned image, not :latest/],
    },
    {
        name: "tag-only image outside dev",
        stack: "test",
        key: "mlflow.image",
        value: "ghcr.io/acme/mlflow:3.1.1",
        expect: [/mlops:mlflow\.image: got "ghcr\.io\/acme\/mlflow:3\.1\.1"; expected an image pinned by digest/],
    },
    {
        name: "bad cron",
        stack: "test",
        key: "mlflow.gcSchedule",
        value: "daily",
        expect: [/mlops:mlflow\.gcSchedule: got "daily"; expected a five-field cron expression/],
    },
    {
        name: "backup retention out of range",
        stack: "prod",
        key: "mlflow.database.backupRetentionDays",
        value: 90,
        expect: [/mlops:mlflow\.database\.backupRetentionDays: got 90; expected an integer from 1 to 35/],
    },
    {
        name: "lifecycle days zero",
        stack: "dev",
        key: "artifactStore.abortIncompleteUploadDays",
        value: 0,
        expect: [/mlops:artifactStore\.abortIncompleteUploadDays: got 0; expected an integer from 1 to 365/],
    },
    {
        name: "organization with upper case",
        stack: "dev",
        key: "organization",
        value: "ACME",
        expect: [/mlops:organization: got "ACME"; expected 2-12 lower-case letters and digits/],
    },
];

describe("malformed configurations fail with the key, the value and what is allowed", () => {
    it("has at least 20 cases", () => {
        expect(malformed.length).toBeGreaterThanOrEqual(20);
    });

    it.each(malformed)("$name", ({ stack, key, value, expect: patterns }) => {
        const problems = problemsOf(() => parsePlatformConfig(withOverride(stack, key, value), stack));
        for (const pattern of patterns) {
            expect(
                problems.some((p) => pattern.test(p)),
                `no problem matches ${pattern}; got:\n${problems.join("\n")}`,
            ).toBe(true);
        }
    });

    it("reports every problem at once", () => {
        let raw = withOverride("prod", "mlflow.replicas", -1);
        raw = { ...raw, aws: { ...(raw.aws as object), region: "nowhere" } };
        const problems = problemsOf(() => parsePlatformConfig(raw, "prod"));
        expect(problems.some((p) => p.startsWith("mlops:mlflow.replicas"))).toBe(true);
        expect(problems.some((p) => p.startsWith("mlops:aws.region"))).toBe(true);
    });

    it("formats the error for people: stack name, count, one line per problem", () => {
        const err = new ConfigError("prod", ["mlops:a: got 1; expected 2.", "mlops:b: unknown key."]);
        expect(err.message).toBe('Invalid configuration for stack "prod" (2 problems):\n  - mlops:a: got 1; expected 2.\n  - mlops:b: unknown key.');
    });
});

describe("bad config stops the program before any resource is registered", () => {
    it("the real entry point throws ConfigError and registers nothing but the stack", async () => {
        const failure = await runStack("prod", { "mlops:mlflow": JSON.stringify({ replicas: 0 }) }).then(
            () => undefined,
            (err: unknown) => err,
        );
        expect(failure).toBeInstanceOf(ProgramError);
        const programError = failure as ProgramError;
        // The program runs in its own module instance, so compare by name rather than instanceof.
        expect((programError.cause as Error).name).toBe("ConfigError");
        expect((programError.cause as ConfigError).problems).toContain("mlops:mlflow.replicas: got 0; expected an integer from 1 to 20.");
        expect(programError.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});

describe("config helpers", () => {
    it("isIpv4Cidr", () => {
        expect(isIpv4Cidr("10.0.0.0/8")).toBe(true);
        expect(isIpv4Cidr("0.0.0.0/0")).toBe(true);
        expect(isIpv4Cidr("192.168.1.7/32")).toBe(true);
        expect(isIpv4Cidr("192.168.1.7/24")).toBe(false);
        expect(isIpv4Cidr("10.0.0.0/33")).toBe(false);
        expect(isIpv4Cidr("10.0.0/8")).toBe(false);
    });

    it("suggestKey finds near typos only", () => {
        expect(suggestKey("replcas", ["replicas", "resources"])).toBe("replicas");
        expect(suggestKey("Region", ["region", "accountId"])).toBe("region");
        expect(suggestKey("colour", ["noncurrentVersionExpirationDays", "accessLogBucket"])).toBeUndefined();
    });

    it("deepMerge merges objects and replaces lists and scalars", () => {
        const base = { a: { b: 1, c: [1, 2] }, d: "x" };
        expect(deepMerge(base, { a: { c: [3] }, e: true })).toEqual({ a: { b: 1, c: [3] }, d: "x", e: true });
        expect(base).toEqual({ a: { b: 1, c: [1, 2] }, d: "x" });
    });

    it("the defaults of every environment are complete once a stack adds its site-specific keys", () => {
        for (const env of STACKS) {
            const cfg: PlatformConfig = parsePlatformConfig(rawConfig(env), env);
            // Every default key survives into the parsed config of the real stack.
            for (const key of Object.keys(ENVIRONMENT_DEFAULTS[env].mlflow ?? {})) {
                expect(cfg.mlflow).toHaveProperty(key);
            }
        }
    });
});

describe("missing sections", () => {
    it("a missing section names its keys", () => {
        const problems = problemsOf(() => parsePlatformConfig(withOverride("dev", "network", undefined), "dev"));
        expect(problems).toContain(
            "mlops:network: got nothing (the key is missing); a value is required: a map with the keys vpcId, vpcCidr, privateSubnetIds.",
        );
    });
});

describe("a nested key written flat", () => {
    it("gets the pulumi config set --path it needs, not just 'unknown key'", () => {
        const raw = { ...rawConfig("dev"), "mlflow.replicas": "2" };
        expect(() => parsePlatformConfig(raw, "dev")).toThrow(
            "mlops:mlflow.replicas: unknown key; it looks like a nested key written flat (pulumi config set without --path). Remove it (pulumi config rm 'mlops:mlflow.replicas') and set it nested: pulumi config set --path 'mlops:mlflow.replicas' <value>.",
        );
    });
});
