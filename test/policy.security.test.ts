/**
 * The security pack, policy by policy: a compliant resource passes, and each one-field change is
 * reported with its exact message. Stack policies are tested with joined resources.
 */
import { describe, expect, it } from "vitest";
import { ecrRepositoryHardened } from "../policy/rules/security/ecrRepositoryHardened";
import { securityGroupIngressRestricted } from "../policy/rules/security/securityGroupIngressRestricted";
import { podServiceAccountTokenNotMounted } from "../policy/rules/security/podServiceAccountTokenNotMounted";
import { rbacNoWildcards } from "../policy/rules/security/rbacNoWildcards";
import { containerProbesRequired } from "../policy/rules/security/containerProbesRequired";
import { containerResourcesRequired } from "../policy/rules/security/containerResourcesRequired";
import { iamNoWildcardActions } from "../policy/rules/security/iamNoWildcardActions";
import { iamNoWildcardResources, isWildcardResource } from "../policy/rules/security/iamNoWildcardResources";
import { ingressTlsRequired } from "../policy/rules/security/ingressTlsRequired";
import { irsaTrustPinned } from "../policy/rules/security/irsaTrustPinned";
import { kmsKeyRotationEnabled } from "../policy/rules/security/kmsKeyRotationEnabled";
import { podCapabilitiesRestricted } from "../policy/rules/security/podCapabilitiesRestricted";
import { podNoHostNamespaces } from "../policy/rules/security/podNoHostNamespaces";
import { podNoHostPath } from "../policy/rules/security/podNoHostPath";
import { podNoPrivileged } from "../policy/rules/security/podNoPrivileged";
import { podNoPrivilegeEscalation } from "../policy/rules/security/podNoPrivilegeEscalation";
import { podReadOnlyRootFilesystem } from "../policy/rules/security/podReadOnlyRootFilesystem";
import { podRunAsNonRoot } from "../policy/rules/security/podRunAsNonRoot";
import { podSeccompProfile } from "../policy/rules/security/podSeccompProfile";
import { rdsBackupRetention } from "../policy/rules/security/rdsBackupRetention";
import { rdsDeletionProtected } from "../policy/rules/security/rdsDeletionProtected";
import { rdsMultiAz } from "../policy/rules/security/rdsMultiAz";
import { rdsNotPubliclyAccessible } from "../policy/rules/security/rdsNotPubliclyAccessible";
import { rdsStorageEncrypted } from "../policy/rules/security/rdsStorageEncrypted";
import { s3BucketEncryptedWithKms } from "../policy/rules/security/s3BucketEncryptedWithKms";
import { s3BucketPublicAccessBlocked } from "../policy/rules/security/s3BucketPublicAccessBlocked";
import { s3BucketTlsOnly } from "../policy/rules/security/s3BucketTlsOnly";
import { s3BucketVersioningEnabled } from "../policy/rules/security/s3BucketVersioningEnabled";
import { secretEnvFromSecretRef } from "../policy/rules/security/secretEnvFromSecretRef";
import { serviceTypeRestricted } from "../policy/rules/security/serviceTypeRestricted";
import * as f from "./policies/fixtures";
import {
    assertHasResourceViolation,
    assertHasStackViolation,
    assertNoResourceViolations,
    assertNoStackViolations,
    assertResourceNotApplicable,
    context,
    createResourceValidationArgs,
    createStackValidationArgs,
    resourcePolicy,
    runStackPolicy,
    stackPolicy,
    type TestResource,
    UNKNOWN,
    variant,
    withResource,
} from "./policies/util";

/** The fixture stack with the resource `name` changed (or removed when `mutate` returns null). */
const bucketVariant = (name: string, mutate: (props: Record<string, any>) => unknown): TestResource[] => withResource(f.bucketStack(), name, mutate);

const BUCKET_REF = `S3 bucket "bucket" (${f.BUCKET_NAME})`;

describe("s3-bucket-encrypted-with-kms", () => {
    const policy = stackPolicy(s3BucketEncryptedWithKms);
    const args = (resources: TestResource[]) => createStackValidationArgs(resources, { factory: s3BucketEncryptedWithKms });

    it("passes a bucket with a KMS encryption configuration", async () => {
        await assertNoStackViolations(policy, args(f.bucketStack()));
    });
    it("reports a bucket without an encryption configuration resource", async () => {
        await assertHasStackViolation(
            policy,
            args(bucketVariant("bucket-encryption", () => null)),
            `${BUCKET_REF} has no BucketServerSideEncryptionConfiguration: add one with sseAlgorithm "aws:kms" and a customer managed key.`,
            "::bucket",
        );
    });
    it("reports SSE-S3 (AES256)", async () => {
        const resources = bucketVariant("bucket-encryption", (p) => {
            p.rules[0].applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" };
        });
        await assertHasStackViolation(policy, args(resources), `${BUCKET_REF} is encrypted with "AES256"; expected one of aws:kms, aws:kms:dsse.`);
    });
    it("reports the AWS managed key", async () => {
        const resources = bucketVariant("bucket-encryption", (p) => {
            delete p.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId;
        });
        await assertHasStackViolation(policy, args(resources), `${BUCKET_REF} uses the AWS managed key: set kmsMasterKeyId to a customer managed KMS key.`);
    });
    it("does not count another bucket's configuration", async () => {
        const other: TestResource = { type: f.BUCKET, name: "other", provider: "aws-prod", props: { bucket: "acme-other" } };
        const resources = [...f.bucketStack(), other];
        await assertHasStackViolation(
            policy,
            args(resources),
            `S3 bucket "other" (acme-other) has no BucketServerSideEncryptionConfiguration: add one with sseAlgorithm "aws:kms" and a customer managed key.`,
            "::other",
        );
    });
    it("joins by property dependency when the bucket name is unknown (preview)", async () => {
        const resources = f
            .bucketStack()
            .map((r) => (r.name === "bucket" ? { ...r, props: { bucket: UNKNOWN } } : r.type === f.SSE ? { ...r, props: { ...r.props, bucket: UNKNOWN } } : r));
        await assertNoStackViolations(policy, args(resources));
    });
    it("skips the bucket when no configuration can be joined during preview", async () => {
        const resources = f.bucketStack().map((r) => (r.type === f.SSE ? { ...r, propertyDependencies: {}, props: { ...r.props, bucket: UNKNOWN } } : r));
        const run = await runStackPolicy(policy, args(resources));
        expect(run.violations).toEqual([]);
        expect(run.notApplicable).toMatch(/1 resource\(s\) could not be evaluated: .*bucket-encryption is unknown during preview/);
    });
});

describe("s3-bucket-versioning-enabled", () => {
    const policy = stackPolicy(s3BucketVersioningEnabled);
    it("passes a versioned bucket", async () => {
        await assertNoStackViolations(policy, createStackValidationArgs(f.bucketStack()));
    });
    it("reports a bucket without BucketVersioning", async () => {
        await assertHasStackViolation(
            policy,
            createStackValidationArgs(bucketVariant("bucket-versioning", () => null)),
            `${BUCKET_REF} has no BucketVersioning: add one with status "Enabled".`,
        );
    });
    it("reports suspended versioning", async () => {
        const resources = bucketVariant("bucket-versioning", (p) => {
            p.versioningConfiguration.status = "Suspended";
        });
        await assertHasStackViolation(policy, createStackValidationArgs(resources), `${BUCKET_REF} has versioning "Suspended"; expected "Enabled".`);
    });
});

describe("s3-bucket-public-access-blocked", () => {
    const policy = stackPolicy(s3BucketPublicAccessBlocked);
    it("passes a fully blocked bucket", async () => {
        await assertNoStackViolations(policy, createStackValidationArgs(f.bucketStack()));
    });
    it("reports a bucket without a public access block", async () => {
        await assertHasStackViolation(
            policy,
            createStackValidationArgs(bucketVariant("bucket-public-access", () => null)),
            `${BUCKET_REF} has no BucketPublicAccessBlock: add one with all four settings true.`,
        );
    });
    it("reports one setting off", async () => {
        const resources = bucketVariant("bucket-public-access", (p) => {
            p.restrictPublicBuckets = false;
        });
        await assertHasStackViolation(
            policy,
            createStackValidationArgs(resources),
            `${BUCKET_REF}: public access block bucket-public-access does not set restrictPublicBuckets to true.`,
        );
    });
    it("reports a public canned ACL on the bucket", async () => {
        const resources = bucketVariant("bucket", (p) => {
            p.acl = "public-read";
        });
        await assertHasStackViolation(policy, createStackValidationArgs(resources), `${BUCKET_REF} has the public canned ACL "public-read".`);
    });
});

describe("s3-bucket-tls-only", () => {
    const policy = stackPolicy(s3BucketTlsOnly);
    const noDeny = `${BUCKET_REF}: no bucket policy statement denies s3:* to everyone on the bucket and its objects when aws:SecureTransport is false.`;
    it("passes a bucket whose policy denies insecure transport", async () => {
        await assertNoStackViolations(policy, createStackValidationArgs(f.bucketStack()));
    });
    it("reports a bucket without a bucket policy", async () => {
        await assertHasStackViolation(
            policy,
            createStackValidationArgs(bucketVariant("bucket-policy", () => null)),
            `${BUCKET_REF} has no BucketPolicy denying insecure transport.`,
        );
    });
    it("reports a deny that covers the bucket but not its objects", async () => {
        const resources = bucketVariant("bucket-policy", (p) => {
            const doc = JSON.parse(p.policy);
            doc.Statement[0].Resource = [f.BUCKET_ARN];
            p.policy = JSON.stringify(doc);
        });
        await assertHasStackViolation(policy, createStackValidationArgs(resources), noDeny);
    });
    it("reports an Allow in place of the Deny", async () => {
        const resources = bucketVariant("bucket-policy", (p) => {
            p.policy = p.policy.replace('"Deny"', '"Allow"');
        });
        await assertHasStackViolation(policy, createStackValidationArgs(resources), noDeny);
    });
    it("reports a policy that is not JSON", async () => {
        const resources = bucketVariant("bucket-policy", (p) => {
            p.policy = "not json";
        });
        await assertHasStackViolation(
            policy,
            createStackValidationArgs(resources),
            `${BUCKET_REF}: the policy of bucket-policy is not a JSON policy document.`,
        );
    });
});

describe("kms-key-rotation-enabled", () => {
    const policy = resourcePolicy(kmsKeyRotationEnabled);
    const key = { enableKeyRotation: true, keyUsage: "ENCRYPT_DECRYPT", customerMasterKeySpec: "SYMMETRIC_DEFAULT" };
    it("passes a rotating key", async () => {
        await assertNoResourceViolations(policy, createResourceValidationArgs(f.KMS_KEY, key));
    });
    it("reports rotation off", async () => {
        await assertHasResourceViolation(
            policy,
            createResourceValidationArgs(f.KMS_KEY, { ...key, enableKeyRotation: false }),
            "KMS key rotation is off: set enableKeyRotation: true.",
        );
    });
    it("does not apply to asymmetric keys", async () => {
        await assertResourceNotApplicable(
            policy,
            createResourceValidationArgs(f.KMS_KEY, { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" }),
            "cannot rotate",
        );
    });
});

describe("RDS policies", () => {
    const args = (mutate: (p: Record<string, any>) => void = () => {}) => createResourceValidationArgs(f.RDS, variant(f.rdsInstance(), mutate));

    it("pass a compliant prod instance", async () => {
        for (const factory of [rdsStorageEncrypted, rdsNotPubliclyAccessible, rdsBackupRetention, rdsDeletionProtected, rdsMultiAz]) {
            await assertNoResourceViolations(resourcePolicy(factory), createResourceValidationArgs(f.RDS, f.rdsInstance(), { factory }));
        }
    });
    it("rds-storage-encrypted reports unencrypted storage and the AWS managed key", async () => {
        const policy = resourcePolicy(rdsStorageEncrypted);
        await assertHasResourceViolation(
            policy,
            args((p) => (p.storageEncrypted = false)),
            "RDS storage is not encrypted: set storageEncrypted: true.",
        );
        await assertHasResourceViolation(
            policy,
            args((p) => delete p.kmsKeyId),
            "RDS storage uses the AWS managed key: set kmsKeyId to a customer managed KMS key.",
        );
    });
    it("rds-not-publicly-accessible reports a public instance", async () => {
        await assertHasResourceViolation(
            resourcePolicy(rdsNotPubliclyAccessible),
            args((p) => (p.publiclyAccessible = true)),
            "RDS instance is publicly accessible: set publiclyAccessible: false.",
        );
    });
    it("rds-backup-retention reports a short or missing retention, with the configured minimum", async () => {
        const policy = resourcePolicy(rdsBackupRetention);
        await assertHasResourceViolation(
            policy,
            args((p) => (p.backupRetentionPeriod = 3)),
            "RDS keeps backups for 3 day(s); expected at least 7.",
        );
        await assertHasResourceViolation(
            policy,
            args((p) => delete p.backupRetentionPeriod),
            "RDS backupRetentionPeriod is not set; set it to at least 7 days.",
        );
        const strict = createResourceValidationArgs(f.RDS, f.rdsInstance(), { config: { minRetentionDays: 35 } });
        await assertHasResourceViolation(policy, strict, "RDS keeps backups for 30 day(s); expected at least 35.");
    });
    it("rds-deletion-protected reports missing protection and a skipped final snapshot, in prod only", async () => {
        const policy = resourcePolicy(rdsDeletionProtected);
        await assertHasResourceViolation(
            policy,
            args((p) => (p.deletionProtection = false)),
            "RDS deletion protection is off: set deletionProtection: true.",
        );
        await assertHasResourceViolation(
            policy,
            args((p) => (p.skipFinalSnapshot = true)),
            "RDS skips the final snapshot on deletion: set skipFinalSnapshot: false.",
        );
        const testArgs = createResourceValidationArgs(
            f.RDS,
            variant(f.rdsInstance(), (p) => (p.deletionProtection = false)),
            { factory: rdsDeletionProtected },
        );
        await assertResourceNotApplicable(resourcePolicy(rdsDeletionProtected, context("test")), testArgs, "applies in prod only, not in test");
    });
    it("rds-multi-az reports a single-AZ prod instance", async () => {
        await assertHasResourceViolation(
            resourcePolicy(rdsMultiAz),
            args((p) => (p.multiAz = false)),
            "RDS instance has no standby: set multiAz: true.",
        );
    });
});

describe("iam-no-wildcard-actions", () => {
    const policy = resourcePolicy(iamNoWildcardActions);
    const doc = (statement: Record<string, unknown>) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const args = (type: string, props: Record<string, unknown>) => createResourceValidationArgs(type, props, { factory: iamNoWildcardActions });

    it("passes scoped documents (a Deny with a wildcard is fine)", async () => {
        await assertNoResourceViolations(policy, args(f.ROLE_POLICY, { role: "r", policy: f.scopedPolicyDocument() }));
    });
    it("reports s3:* in a role policy", async () => {
        const p = doc({ Sid: "All", Effect: "Allow", Action: ["s3:GetObject", "s3:*"], Resource: f.BUCKET_ARN });
        await assertHasResourceViolation(
            policy,
            args(f.ROLE_POLICY, { role: "r", policy: p }),
            'policy statement "All" allows wildcard action(s) "s3:*": list the actions needed.',
        );
    });
    it("reports * in a managed policy", async () => {
        const p = doc({ Effect: "Allow", Action: "*", Resource: "*" });
        await assertHasResourceViolation(
            policy,
            args(f.IAM_POLICY, { policy: p }),
            'policy statement #1 allows wildcard action(s) "*": list the actions needed.',
        );
    });
    it("reports a wildcard in a role's inline policy", async () => {
        const p = doc({ Sid: "Read", Effect: "Allow", Action: "s3:Get*", Resource: f.BUCKET_ARN });
        await assertHasResourceViolation(
            policy,
            args(f.ROLE, { assumeRolePolicy: f.irsaTrust(), inlinePolicies: [{ name: "read", policy: p }] }),
            'inlinePolicies[0] (read) statement "Read" allows wildcard action(s) "s3:Get*": list the actions needed.',
        );
    });
    it("reports Allow with NotAction", async () => {
        const p = doc({ Sid: "Most", Effect: "Allow", NotAction: "iam:*", Resource: "*" });
        await assertHasResourceViolation(
            policy,
            args(f.IAM_POLICY, { policy: p }),
            'policy statement "Most" allows everything except NotAction: list the allowed actions instead.',
        );
    });
    it("reports an attached full-access managed policy", async () => {
        await assertHasResourceViolation(
            policy,
            args("aws:iam/rolePolicyAttachment:RolePolicyAttachment", { role: "r", policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" }),
            "attaches the managed policy arn:aws:iam::aws:policy/AmazonS3FullAccess, which grants wildcard actions: attach a scoped policy instead.",
        );
    });
    it("accepts a configured wildcard exception", async () => {
        const p = doc({ Sid: "Pull", Effect: "Allow", Action: "ecr:BatchGet*", Resource: "arn:aws:ecr:eu-west-1:410987654321:repository/x" });
        const a = createResourceValidationArgs(
            f.ROLE_POLICY,
            { role: "r", policy: p },
            { factory: iamNoWildcardActions, config: { allowedWildcardActions: ["ecr:BatchGet*"] } },
        );
        await assertNoResourceViolations(policy, a);
    });
    it("reports a document that is not JSON", async () => {
        await assertHasResourceViolation(
            policy,
            args(f.ROLE_POLICY, { role: "r", policy: "{" }),
            "policy is not a JSON policy document, so its permissions cannot be reviewed.",
        );
    });
    it("is not applicable while the document is unknown (preview)", async () => {
        await assertResourceNotApplicable(policy, args(f.ROLE_POLICY, { role: "r", policy: UNKNOWN }), "unknown during preview: string value at .policy");
    });
});

describe("iam-no-wildcard-resources", () => {
    const policy = resourcePolicy(iamNoWildcardResources);
    const doc = (statement: Record<string, unknown>) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
    const args = (statement: Record<string, unknown>) =>
        createResourceValidationArgs(f.ROLE_POLICY, { role: "r", policy: doc(statement) }, { factory: iamNoWildcardResources });

    it("passes scoped documents", async () => {
        await assertNoResourceViolations(
            policy,
            createResourceValidationArgs(f.ROLE_POLICY, { role: "r", policy: f.scopedPolicyDocument() }, { factory: iamNoWildcardResources }),
        );
    });
    it("reports s3:GetObject on *", async () => {
        await assertHasResourceViolation(
            policy,
            args({ Sid: "Read", Effect: "Allow", Action: "s3:GetObject", Resource: "*" }),
            'policy statement "Read" grants "s3:GetObject" on "*": name the resources.',
        );
    });
    it("reports kms:Decrypt on every key", async () => {
        await assertHasResourceViolation(
            policy,
            args({ Sid: "Decrypt", Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:*:*:key/*" }),
            'policy statement "Decrypt" grants "kms:Decrypt" on "arn:aws:kms:*:*:key/*": name the resources.',
        );
    });
    it("reports a wildcard action that includes a data action", async () => {
        await assertHasResourceViolation(
            policy,
            args({ Sid: "All", Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::*" }),
            'policy statement "All" grants "s3:*" on "arn:aws:s3:::*": name the resources.',
        );
    });
    it("allows non-data actions on * (e.g. ecr:GetAuthorizationToken)", async () => {
        await assertNoResourceViolations(policy, args({ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }));
    });
    it("tells wildcard resources from scoped ones", () => {
        expect(
            ["*", "arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:kms:*:*:key/*", "arn:aws:secretsmanager:eu-west-1:1:secret:*"].map(isWildcardResource),
        ).toEqual([true, true, true, true, false]);
        expect(isWildcardResource(`${f.BUCKET_ARN}/models/*`)).toBe(false);
    });
});

describe("irsa-trust-pinned-to-service-account", () => {
    const policy = resourcePolicy(irsaTrustPinned);
    const args = (trust: string) => createResourceValidationArgs(f.ROLE, { assumeRolePolicy: trust });
    const label = 'statement "ServiceAccountWebIdentity"';

    it("passes a trust pinned to one service account and the STS audience", async () => {
        await assertNoResourceViolations(policy, args(f.irsaTrust()));
    });
    it("reports a wildcard subject", async () => {
        await assertHasResourceViolation(
            policy,
            args(f.irsaTrust("system:serviceaccount:team-fraud:*")),
            `${label} pins ${f.ISSUER}:sub to "system:serviceaccount:team-fraud:*"; expected system:serviceaccount:<namespace>:<name> without wildcards.`,
        );
    });
    it("reports StringLike", async () => {
        await assertHasResourceViolation(
            policy,
            args(f.irsaTrust("system:serviceaccount:team-fraud:*", "StringLike")),
            `${label} matches ${f.ISSUER}:sub with StringLike: use StringEquals with one exact value.`,
        );
    });
    it("reports a missing sub condition", async () => {
        const trust = JSON.parse(f.irsaTrust());
        delete trust.Statement[0].Condition.StringEquals[`${f.ISSUER}:sub`];
        await assertHasResourceViolation(
            policy,
            args(JSON.stringify(trust)),
            `${label} has no StringEquals condition on ${f.ISSUER}:sub: any service account of the cluster can assume the role.`,
        );
    });
    it("reports two service accounts", async () => {
        await assertHasResourceViolation(
            policy,
            args(f.irsaTrust(["system:serviceaccount:a:b", "system:serviceaccount:c:d"])),
            `${label} trusts 2 service accounts: one role per service account.`,
        );
    });
    it("reports a missing audience", async () => {
        const trust = JSON.parse(f.irsaTrust());
        delete trust.Statement[0].Condition.StringEquals[`${f.ISSUER}:aud`];
        await assertHasResourceViolation(policy, args(JSON.stringify(trust)), `${label} does not pin ${f.ISSUER}:aud to "sts.amazonaws.com".`);
    });
    it("ignores roles trusted by services", async () => {
        const trust = JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        });
        await assertNoResourceViolations(policy, args(trust));
    });
});

describe("pod security policies", () => {
    const deployment = (mutate: (d: Record<string, any>) => void) => createResourceValidationArgs(f.DEPLOYMENT, variant(f.modelDeployment(), mutate));
    const container = (d: Record<string, any>) => d.spec.template.spec.containers[0];
    const ref = "Deployment team-fraud/fraud";

    const all = [
        podRunAsNonRoot,
        podNoPrivilegeEscalation,
        podReadOnlyRootFilesystem,
        podCapabilitiesRestricted,
        podSeccompProfile,
        podNoHostNamespaces,
        podNoHostPath,
        podNoPrivileged,
        containerResourcesRequired,
        containerProbesRequired,
        secretEnvFromSecretRef,
    ];
    it("pass the hardened Deployment and CronJob", async () => {
        for (const factory of all) {
            await assertNoResourceViolations(resourcePolicy(factory), createResourceValidationArgs(f.DEPLOYMENT, f.modelDeployment(), { factory }));
            if (factory !== containerProbesRequired)
                await assertNoResourceViolations(resourcePolicy(factory), createResourceValidationArgs(f.CRONJOB, f.modelCronJob(), { factory }));
        }
    });

    it("pod-run-as-non-root", async () => {
        const policy = resourcePolicy(podRunAsNonRoot);
        await assertHasResourceViolation(
            policy,
            deployment((d) => {
                delete container(d).securityContext.runAsNonRoot;
                delete d.spec.template.spec.securityContext.runAsNonRoot;
            }),
            `${ref}: container "server" does not set securityContext.runAsNonRoot: true.`,
        );
        await assertHasResourceViolation(
            policy,
            deployment((d) => (container(d).securityContext.runAsUser = 0)),
            `${ref}: container "server" runs as user 0 (root).`,
        );
    });
    it("pod-run-as-non-root accepts the pod-level setting", async () => {
        await assertNoResourceViolations(
            resourcePolicy(podRunAsNonRoot),
            deployment((d) => delete container(d).securityContext.runAsNonRoot),
        );
    });
    it("pod-no-privilege-escalation (init containers too)", async () => {
        await assertHasResourceViolation(
            resourcePolicy(podNoPrivilegeEscalation),
            deployment((d) => (d.spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation = true)),
            `${ref}: initContainer "download-model" does not set securityContext.allowPrivilegeEscalation: false.`,
        );
    });
    it("pod-read-only-root-filesystem", async () => {
        await assertHasResourceViolation(
            resourcePolicy(podReadOnlyRootFilesystem),
            deployment((d) => delete container(d).securityContext.readOnlyRootFilesystem),
            `${ref}: container "server" does not set securityContext.readOnlyRootFilesystem: true.`,
        );
    });
    it("pod-capabilities-restricted", async () => {
        const policy = resourcePolicy(podCapabilitiesRestricted);
        await assertHasResourceViolation(
            policy,
            deployment((d) => (container(d).securityContext.capabilities = {})),
            `${ref}: container "server" does not drop ALL capabilities.`,
        );
        await assertHasResourceViolation(
            policy,
            deployment((d) => (container(d).securityContext.capabilities.add = ["NET_BIND_SERVICE", "SYS_ADMIN"])),
            `${ref}: container "server" adds capabilities SYS_ADMIN; allowed: NET_BIND_SERVICE.`,
        );
    });
    it("pod-seccomp-profile (container overrides pod)", async () => {
        const policy = resourcePolicy(podSeccompProfile);
        await assertHasResourceViolation(
            policy,
            deployment((d) => (container(d).securityContext.seccompProfile = { type: "Unconfined" })),
            `${ref}: container "server" runs with seccomp profile "Unconfined"; expected RuntimeDefault or Localhost.`,
        );
        await assertHasResourceViolation(
            policy,
            deployment((d) => {
                delete d.spec.template.spec.securityContext.seccompProfile;
                delete d.spec.template.spec.initContainers[0].securityContext.seccompProfile;
            }),
            `${ref}: initContainer "download-model" runs with seccomp profile "unset"; expected RuntimeDefault or Localhost.`,
        );
    });
    it("pod-no-host-namespaces", async () => {
        const policy = resourcePolicy(podNoHostNamespaces);
        await assertHasResourceViolation(
            policy,
            deployment((d) => (d.spec.template.spec.hostNetwork = true)),
            `${ref}: the pod sets hostNetwork: true.`,
        );
        await assertHasResourceViolation(
            policy,
            deployment((d) => (d.spec.template.spec.hostPID = true)),
            `${ref}: the pod sets hostPID: true.`,
        );
        await assertHasResourceViolation(
            policy,
            deployment((d) => (container(d).ports[0].hostPort = 8080)),
            `${ref}: container "server" binds hostPort 8080.`,
        );
    });
    it("pod-no-host-path", async () => {
        await assertHasResourceViolation(
            resourcePolicy(podNoHostPath),
            deployment((d) => d.spec.template.spec.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } })),
            `${ref}: volume "docker" mounts the host path /var/run/docker.sock.`,
        );
    });
    it("pod-no-privileged", async () => {
        await assertHasResourceViolation(
            resourcePolicy(podNoPrivileged),
            deployment((d) => (container(d).securityContext.privileged = true)),
            `${ref}: container "server" runs privileged.`,
        );
    });
    it("pod policies look into CronJob job templates and bare Pods", async () => {
        const cron = variant(f.modelCronJob(), (c) => (c.spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged = true));
        await assertHasResourceViolation(
            resourcePolicy(podNoPrivileged),
            createResourceValidationArgs(f.CRONJOB, cron),
            'CronJob team-fraud/fraud-batch: container "server" runs privileged.',
        );
        const pod = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "debug", namespace: "team-fraud" },
            spec: { containers: [{ name: "sh", image: f.IMAGE, securityContext: { privileged: true } }] },
        };
        await assertHasResourceViolation(
            resourcePolicy(podNoPrivileged),
            createResourceValidationArgs(f.POD, pod),
            'Pod team-fraud/debug: container "sh" runs privileged.',
        );
    });
    it("container-resources-required", async () => {
        await assertHasResourceViolation(
            resourcePolicy(containerResourcesRequired),
            deployment((d) => delete container(d).resources.limits),
            `${ref}: container "server" does not set resources.limits.cpu, resources.limits.memory.`,
        );
    });
    it("container-probes-required applies to long-running workloads only", async () => {
        await assertHasResourceViolation(
            resourcePolicy(containerProbesRequired),
            deployment((d) => delete container(d).livenessProbe),
            `${ref}: container "server" has no livenessProbe.`,
        );
        await assertResourceNotApplicable(
            resourcePolicy(containerProbesRequired),
            createResourceValidationArgs(f.CRONJOB, f.modelCronJob()),
            "Policy only applies to resources of type",
        );
    });
    it("secret-env-from-secret-ref", async () => {
        const policy = resourcePolicy(secretEnvFromSecretRef);
        const args = (env: Record<string, unknown>) =>
            createResourceValidationArgs(
                f.DEPLOYMENT,
                variant(f.modelDeployment(), (d) => container(d).env.push(env)),
                { factory: secretEnvFromSecretRef },
            );
        await assertHasResourceViolation(
            policy,
            args({ name: "DB_PASSWORD", value: "hunter2" }),
            `${ref}: container "server" sets DB_PASSWORD as a literal value: use valueFrom.secretKeyRef.`,
        );
        await assertHasResourceViolation(
            policy,
            args({ name: "API_KEY", valueFrom: { configMapKeyRef: { name: "cfg", key: "k" } } }),
            `${ref}: container "server" takes API_KEY from configMapKeyRef: use valueFrom.secretKeyRef.`,
        );
        await assertHasResourceViolation(
            policy,
            args({ name: "DATABASE_URL", value: "postgresql://mlflow:hunter2@db:5432/mlflow" }),
            `${ref}: container "server" sets DATABASE_URL to a URI with an embedded password: use valueFrom.secretKeyRef.`,
        );
        await assertNoResourceViolations(policy, args({ name: "MLFLOW_AUTH_CONFIG_PATH", value: "/etc/mlflow/auth/basic_auth.ini" }));
        await assertNoResourceViolations(policy, args({ name: "KMS_KEY_ID", value: f.KEY_ARN }));
    });
    it("are not applicable while the pod template is unknown during preview (never pass, never throw)", async () => {
        const unknownTemplate = createResourceValidationArgs(
            f.DEPLOYMENT,
            variant(f.modelDeployment(), (d) => (d.spec.template = UNKNOWN)),
        );
        for (const factory of all)
            await assertResourceNotApplicable(resourcePolicy(factory), unknownTemplate, "unknown during preview: string value at .spec.template");
    });
    it("report the containers they can see when only an image is unknown", async () => {
        const args = deployment((d) => {
            d.spec.template.spec.initContainers[0].image = UNKNOWN;
            container(d).securityContext.privileged = true;
        });
        await assertHasResourceViolation(resourcePolicy(podNoPrivileged), args, `${ref}: container "server" runs privileged.`);
    });
});

describe("service-type-restricted", () => {
    const policy = resourcePolicy(serviceTypeRestricted);
    const args = (type: string, config: Record<string, unknown> = {}) =>
        createResourceValidationArgs(
            f.SERVICE,
            variant(f.modelService(), (s) => (s.spec.type = type)),
            { factory: serviceTypeRestricted, config },
        );

    it("passes ClusterIP", async () => {
        await assertNoResourceViolations(policy, args("ClusterIP"));
    });
    it("reports LoadBalancer and NodePort", async () => {
        await assertHasResourceViolation(
            policy,
            args("LoadBalancer"),
            "Service team-fraud/fraud is of type LoadBalancer: use ClusterIP behind the ingress gateway, or allow it in the policy config.",
        );
        await assertHasResourceViolation(
            policy,
            args("NodePort"),
            "Service team-fraud/fraud is of type NodePort: use ClusterIP behind the ingress gateway, or allow it in the policy config.",
        );
    });
    it("allows a listed Service", async () => {
        await assertNoResourceViolations(policy, args("LoadBalancer", { allowedServices: ["team-fraud/fraud"] }));
    });
});

describe("ingress-tls-required", () => {
    const policy = resourcePolicy(ingressTlsRequired);
    const ingress = () => ({
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: "fraud", namespace: "team-fraud", labels: f.OWNERSHIP },
        spec: {
            tls: [{ hosts: ["fraud.models.acme.io"], secretName: "fraud-tls" }],
            rules: [
                {
                    host: "fraud.models.acme.io",
                    http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "fraud", port: { name: "http" } } } }] },
                },
            ],
        },
    });
    const args = (mutate: (i: Record<string, any>) => void = () => {}) => createResourceValidationArgs(f.INGRESS, variant(ingress(), mutate));

    it("passes an Ingress with TLS for its host", async () => {
        await assertNoResourceViolations(policy, args());
    });
    it("reports a missing tls section", async () => {
        await assertHasResourceViolation(
            policy,
            args((i) => delete i.spec.tls),
            "Ingress team-fraud/fraud has no tls section.",
        );
    });
    it("reports a host without TLS", async () => {
        await assertHasResourceViolation(
            policy,
            args((i) => (i.spec.rules[0].host = "other.acme.io")),
            "Ingress team-fraud/fraud routes other.acme.io without TLS for it.",
        );
    });
    it("reports the SSL redirect switched off", async () => {
        await assertHasResourceViolation(
            policy,
            args((i) => (i.metadata.annotations = { "nginx.ingress.kubernetes.io/ssl-redirect": "false" })),
            'Ingress team-fraud/fraud sets nginx.ingress.kubernetes.io/ssl-redirect: "false".',
        );
    });
});

describe("ECR and security-group policies", () => {
    const ECR = "aws:ecr/repository:Repository";
    const repo = (mutate: (p: Record<string, any>) => void = () => {}) =>
        createResourceValidationArgs(
            ECR,
            variant(
                {
                    name: "ml-fraud/fraud-scorer",
                    imageTagMutability: "IMMUTABLE",
                    imageScanningConfiguration: { scanOnPush: true },
                    encryptionConfigurations: [{ encryptionType: "KMS" }],
                },
                mutate,
            ),
        );
    it("ecr-repository-hardened passes a hardened repository and reports each missing setting", async () => {
        const policy = resourcePolicy(ecrRepositoryHardened);
        await assertNoResourceViolations(policy, repo());
        await assertHasResourceViolation(
            policy,
            repo((p) => (p.imageScanningConfiguration.scanOnPush = false)),
            "ECR repository does not scan on push: set imageScanningConfiguration.scanOnPush: true.",
        );
        await assertHasResourceViolation(
            policy,
            repo((p) => delete p.imageTagMutability),
            "ECR repository has MUTABLE tags: set imageTagMutability: IMMUTABLE.",
        );
        await assertHasResourceViolation(
            policy,
            repo((p) => (p.encryptionConfigurations = [{ encryptionType: "AES256" }])),
            'ECR repository is not encrypted with KMS: set encryptionConfigurations: [{ encryptionType: "KMS" }].',
        );
    });

    const RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
    const rule = (mutate: (p: Record<string, any>) => void = () => {}, config?: Record<string, unknown>) =>
        createResourceValidationArgs(
            RULE,
            variant(
                { securityGroupId: "sg-0123456789abcdef0", ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: "sg-0fedcba9876543210" },
                mutate,
            ),
            config ? { config } : {},
        );
    it("security-group-ingress-restricted passes a rule from another security group or a private CIDR", async () => {
        const policy = resourcePolicy(securityGroupIngressRestricted);
        await assertNoResourceViolations(policy, rule());
        await assertNoResourceViolations(
            policy,
            rule((p) => (delete p.referencedSecurityGroupId, (p.cidrIpv4 = "10.30.0.0/16"))),
        );
    });
    it("security-group-ingress-restricted reports a rule or an inline ingress from anywhere, except on allowed ports", async () => {
        const policy = resourcePolicy(securityGroupIngressRestricted);
        await assertHasResourceViolation(
            policy,
            rule((p) => (delete p.referencedSecurityGroupId, (p.cidrIpv4 = "0.0.0.0/0"))),
            "Security group ingress admits 0.0.0.0/0 on port 5432: reference the client's security group or a private CIDR.",
        );
        await assertHasResourceViolation(
            policy,
            rule((p) => (delete p.referencedSecurityGroupId, (p.ipProtocol = "-1"), (p.cidrIpv6 = "::/0"))),
            "Security group ingress admits ::/0 on every port: reference the client's security group or a private CIDR.",
        );
        const inline = createResourceValidationArgs("aws:ec2/securityGroup:SecurityGroup", {
            vpcId: "vpc-0c3d4e5f607182930",
            ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
        });
        await assertHasResourceViolation(
            policy,
            inline,
            "Security group ingress admits 0.0.0.0/0 on port 22: reference the client's security group or a private CIDR.",
        );
        const https = rule((p) => (delete p.referencedSecurityGroupId, (p.fromPort = 443), (p.toPort = 443), (p.cidrIpv4 = "0.0.0.0/0")), {
            allowedPublicPorts: [443],
        });
        await assertNoResourceViolations(policy, https);
    });
});

describe("RBAC and service-account token policies", () => {
    const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
    const role = (rules: unknown[]) => createResourceValidationArgs(ROLE, { metadata: { name: "team-deployer", namespace: "ml-fraud" }, rules });
    it("rbac-no-wildcards passes named grants and reports each wildcard", async () => {
        const policy = resourcePolicy(rbacNoWildcards);
        await assertNoResourceViolations(policy, role([{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] }]));
        await assertHasResourceViolation(
            policy,
            role([
                { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] },
                { apiGroups: [""], resources: ["*"], verbs: ["get"] },
            ]),
            'rules[1].resources has "*": list the resources the subject needs.',
        );
        await assertHasResourceViolation(
            policy,
            role([{ apiGroups: ["*"], resources: ["pods"], verbs: ["get"] }]),
            'rules[0].apiGroups has "*": list the apiGroups the subject needs.',
        );
        await assertHasResourceViolation(
            policy,
            role([{ apiGroups: [""], resources: ["pods"], verbs: ["*"] }]),
            'rules[0].verbs has "*": list the verbs the subject needs.',
        );
    });
    it("pod-service-account-token-not-mounted passes a pod that opts out and reports one that does not", async () => {
        const policy = resourcePolicy(podServiceAccountTokenNotMounted);
        const deployment = (mutate: (d: Record<string, any>) => void) => createResourceValidationArgs(f.DEPLOYMENT, variant(f.modelDeployment(), mutate));
        await assertNoResourceViolations(
            policy,
            deployment((d) => (d.spec.template.spec.automountServiceAccountToken = false)),
        );
        await assertHasResourceViolation(
            policy,
            deployment((d) => delete d.spec.template.spec.automountServiceAccountToken),
            "Deployment team-fraud/fraud: mounts a service-account token: set automountServiceAccountToken: false on its pod spec.",
        );
        await assertHasResourceViolation(
            policy,
            deployment((d) => (d.spec.template.spec.automountServiceAccountToken = true)),
            "Deployment team-fraud/fraud: mounts a service-account token: set automountServiceAccountToken: false on its pod spec.",
        );
    });
});
