import { defineStackPolicy, evaluateEach } from "../../framework/define";
import { bucketRef, buckets, configsOf, SSE_TYPES } from "./s3Common";

export interface Config {
    allowedAlgorithms: string[];
    requireCustomerManagedKey: boolean;
}

/** Every S3 bucket has a server-side encryption configuration using KMS with a customer managed key. */
export const s3BucketEncryptedWithKms = defineStackPolicy<Config>({
    meta: {
        name: "s3-bucket-encrypted-with-kms",
        pack: "mlops-security",
        title: "S3 buckets are encrypted with KMS",
        description:
            "Every S3 bucket has a BucketServerSideEncryptionConfiguration (joined by its `bucket` input) whose default encryption uses KMS (`aws:kms` or `aws:kms:dsse`) with a customer managed key (`kmsMasterKeyId`).",
        rationale:
            "Model artifacts and training data are the organisation's IP and may hold personal data. A customer managed key puts every read under a key policy and CloudTrail, and lets access be revoked by disabling the key; SSE-S3 does neither.",
        severity: "high",
        remediation:
            'Create an `aws.s3.BucketServerSideEncryptionConfiguration` for the bucket with `rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }]` (the ArtifactStore component does this).',
        controls: [
            { framework: "NIST-800-53", control: "SC-28" },
            { framework: "NIST-800-53", control: "SC-12" },
            { framework: "SOC2", control: "CC6.1" },
        ],
        topics: ["s3", "encryption"],
        protectsData: true,
        appliesTo: ["aws:s3/bucket:Bucket", ...SSE_TYPES],
    },
    config: {
        allowedAlgorithms: {
            type: "array",
            items: { type: "string" },
            default: ["aws:kms", "aws:kms:dsse"],
            description: "Accepted `sseAlgorithm` values.",
        },
        requireCustomerManagedKey: {
            type: "boolean",
            default: true,
            description: "Require `kmsMasterKeyId` (a customer managed key) instead of the AWS managed `aws/s3` key.",
        },
    },
    check: (resources, config) =>
        evaluateEach(buckets(resources), (bucket) => {
            const configs = configsOf(bucket, resources, SSE_TYPES, "encryption");
            if (configs.length === 0) {
                return [`${bucketRef(bucket)} has no BucketServerSideEncryptionConfiguration: add one with sseAlgorithm "aws:kms" and a customer managed key.`];
            }
            const problems: string[] = [];
            for (const c of configs) {
                const rules: any[] = Array.isArray(c.props.rules) ? c.props.rules : [];
                if (rules.length === 0) problems.push(`${bucketRef(bucket)}: ${c.name} has no encryption rule.`);
                for (const rule of rules) {
                    const byDefault = rule?.applyServerSideEncryptionByDefault ?? {};
                    const algorithm = byDefault.sseAlgorithm;
                    if (!config.allowedAlgorithms.includes(algorithm)) {
                        problems.push(
                            `${bucketRef(bucket)} is encrypted with "${algorithm ?? "nothing"}"; expected one of ${config.allowedAlgorithms.join(", ")}.`,
                        );
                    } else if (config.requireCustomerManagedKey && !byDefault.kmsMasterKeyId) {
                        problems.push(`${bucketRef(bucket)} uses the AWS managed key: set kmsMasterKeyId to a customer managed KMS key.`);
                    }
                }
            }
            return problems;
        }),
});
