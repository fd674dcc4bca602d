/**
 * Properties every stack must have, whatever components it composes: explicit providers only, tags
 * and labels, secrets kept secret, prod state protected, every Kubernetes object schema-valid.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parsePlatformConfig } from "../stacks/config";
import { awsDefaultTags } from "../components/platform/awsNames";
import { awsProviderArgs } from "../components/platform/providers";
import { kubeconfigFor } from "../components/team/kubeconfig";
import { validateObjects } from "../engine/kubernetes";
import { configNamespace } from "../engine/project";
import { reveal, secretPaths } from "../engine/values";
import { policyOf, runStack, type StackRun, STACKS, STATEFUL_TYPES } from "./harness";

describe.each(STACKS)("stack %s", (stack) => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack(stack);
    });
    const cfg = () => parsePlatformConfig(configNamespace(run.recording.stackConfig.config, "mlops"), stack);

    describe("providers", () => {
        it("uses explicit AWS and Kubernetes providers built from the stack config", () => {
            const awsProvider = run.one("pulumi:providers:aws");
            const k8sProvider = run.one("pulumi:providers:kubernetes");
            const inputs = run.inputs(awsProvider);
            expect(inputs.region).toBe("eu-west-1");
            expect(JSON.parse(inputs.allowedAccountIds)).toEqual([cfg().aws.accountId]);
            expect(JSON.parse(inputs.defaultTags)).toEqual({ tags: awsDefaultTags(cfg()) });
            expect(JSON.parse(inputs.assumeRoles)).toEqual(awsProviderArgs(cfg()).assumeRoles);
            expect(run.inputs(k8sProvider).kubeconfig).toBe(kubeconfigFor(cfg()));
        });

        it("no resource uses a default provider", () => {
            const explicit = run.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
            expect(explicit.every((p) => !p.name.startsWith("default"))).toBe(true);
            const explicitRefs = new Set(explicit.map((p) => `${p.urn}::${p.id}`));
            const custom = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
            expect(custom.length).toBeGreaterThan(0);
            for (const r of custom) {
                expect(explicitRefs.has(r.provider), `${r.urn} uses provider "${r.provider}"`).toBe(true);
            }
        });

        it("the kubeconfig authenticates with aws eks get-token for this cluster, assuming the deploy role", () => {
            const kubeconfig = JSON.parse(kubeconfigFor(cfg()));
            expect(kubeconfig.clusters[0].cluster.server).toBe(cfg().cluster.endpoint);
            const exec = kubeconfig.users[0].user.exec;
            expect(exec.command).toBe("aws");
            expect(exec.args).toEqual([
                "eks",
                "get-token",
                "--cluster-name",
                `ml-${stack}`,
                "--region",
                "eu-west-1",
                "--output",
                "json",
                "--role-arn",
                cfg().aws.deployRoleArn,
            ]);
        });
    });

    describe("components", () => {
        it("every component uses the mlops:index:<Name> type token and parents its children", () => {
            const components = run.resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack");
            expect(components.length).toBeGreaterThan(0);
            for (const c of components) expect(c.type).toMatch(/^mlops:index:[A-Z][A-Za-z]+$/);
            const stackUrn = run.one("pulumi:pulumi:Stack").urn;
            const topLevelCustom = run.resources.filter((r) => r.custom && r.parent === stackUrn && !r.type.startsWith("pulumi:providers:"));
            expect(topLevelCustom.map((r) => r.urn)).toEqual([]);
        });
    });

    describe("artifact store", () => {
        it("encrypts with its own rotating KMS key, bucket key on", () => {
            const key = run.one("aws:kms/key:Key", "artifacts-key");
            expect(run.inputs(key)).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
            const sse = run.inputs(run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"));
            expect(sse.rules).toEqual([
                {
                    applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: run.inputs(key).arn ?? key.outputs.arn },
                    bucketKeyEnabled: true,
                },
            ]);
            expect(sse.bucket).toBe(run.one("aws:s3/bucket:Bucket").id);
        });

        it("is versioned, private, owner-enforced and TLS-only", () => {
            const bucket = run.one("aws:s3/bucket:Bucket");
            expect(run.inputs(run.one("aws:s3/bucketVersioning:BucketVersioning"))).toEqual({
                bucket: bucket.id,
                versioningConfiguration: { status: "Enabled" },
            });
            expect(run.inputs(run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"))).toEqual({
                bucket: bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            });
            expect(run.inputs(run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")).rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
            const policyResource = run.one("aws:s3/bucketPolicy:BucketPolicy");
            const policy = policyOf(run.inputs(policyResource).policy);
            const arn = bucket.outputs.arn as string;
            expect(policy.Statement).toContainEqual({
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            });
            // The policy waits for the public access block (S3 rejects it while the block is applied).
            expect(policyResource.dependencies).toContain(run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").urn);
        });

        it("lifecycle rules follow the environment's retention", () => {
            const rules = run.inputs(run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).rules;
            expect(rules).toHaveLength(2);
            expect(rules[0].noncurrentVersionExpiration).toEqual({ noncurrentDays: cfg().artifactStore.noncurrentVersionExpirationDays });
            expect(rules[1].abortIncompleteMultipartUpload).toEqual({ daysAfterInitiation: cfg().artifactStore.abortIncompleteUploadDays });
            expect(rules.every((r: any) => r.status === "Enabled")).toBe(true);
        });

        it("logs access to the log bucket where one is configured", () => {
            const logging = run.ofType("aws:s3/bucketLogging:BucketLogging");
            const target = cfg().artifactStore.accessLogBucket;
            if (target) {
                expect(logging).toHaveLength(1);
                expect(run.inputs(logging[0])).toMatchObject({ targetBucket: target, targetPrefix: `${run.inputs(run.one("aws:s3/bucket:Bucket")).bucket}/` });
            } else {
                expect(logging).toHaveLength(0);
            }
            expect(stack === "dev" ? logging.length === 0 : logging.length === 1).toBe(true);
        });
    });

    describe("state and secrets", () => {
        it(stack === "prod" ? "protects and retains every stateful resource" : "does not protect stateful resources outside prod", () => {
            const stateful = run.resources.filter((r) => STATEFUL_TYPES.includes(r.type));
            expect(stateful.length).toBeGreaterThan(0);
            for (const r of stateful) {
                expect({ urn: r.urn, protect: r.options.protect, retainOnDelete: r.options.retainOnDelete }).toEqual({
                    urn: r.urn,
                    protect: stack === "prod",
                    retainOnDelete: stack === "prod",
                });
            }
        });

        it("generated passwords reach the engine only as secrets", () => {
            const passwords = run.ofType("random:index/randomPassword:RandomPassword");
            for (const p of passwords) expect(p.options.additionalSecretOutputs).toContain("result");
            // Any input that carries a generated password value is marked secret wherever it appears.
            // The mocked result is itself recorded as a secret: compare with its plain value.
            const values = passwords.map((p) => reveal<string>(p.outputs.result));
            expect(values.length).toBeGreaterThan(0);
            for (const v of values) expect(v).toMatch(/^[0-9a-f]{16,}$/);
            for (const r of run.resources) {
                const plain = JSON.stringify(stripSecrets(r.inputs));
                for (const v of values) expect(plain.includes(v), `${r.urn} carries a password in plain text`).toBe(false);
            }
        });
    });

    describe("kubernetes objects", () => {
        it("all pass the upstream schemas", async () => {
            const objects = run.k8s().map((o) => o.object);
            // MLflow, monitoring and team namespaces render dozens of objects in every stack.
            expect(objects.length).toBeGreaterThan(20);
            const errors = await validateObjects(objects);
            expect(errors).toEqual([]);
        });

        it("all carry team and owner labels", () => {
            for (const { object } of run.k8s()) {
                const labels = object.metadata.labels ?? {};
                expect(labels, `${object.kind}/${object.metadata.name}`).toHaveProperty(["mlops.acme.io/team"]);
                expect(labels, `${object.kind}/${object.metadata.name}`).toHaveProperty(["mlops.acme.io/owner"]);
            }
        });
    });
});

/** Inputs with every secret removed: what would be visible in plain text. */
function stripSecrets(v: unknown): unknown {
    if (secretPaths(v).includes("")) return "[secret]";
    if (Array.isArray(v)) return v.map(stripSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, stripSecrets(e)]));
    return v;
}
