import { defineStackPolicy, evaluateEach } from "../../framework/define";
import { bucketRef, buckets, configsOf, VERSIONING_TYPES } from "./s3Common";

/** Every S3 bucket has versioning enabled (a BucketVersioning resource with status Enabled). */
export const s3BucketVersioningEnabled = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "s3-bucket-versioning-enabled",
        pack: "mlops-security",
        title: "S3 buckets are versioned",
        description: "Every S3 bucket has a BucketVersioning resource (joined by its `bucket` input) with `versioningConfiguration.status: Enabled`.",
        rationale:
            "A model registry points at artifact objects by key: an overwrite or delete of an unversioned object silently changes or breaks a registered model version, and a ransomware-style overwrite cannot be undone.",
        severity: "medium",
        remediation:
            'Create an `aws.s3.BucketVersioning` for the bucket with `versioningConfiguration: { status: "Enabled" }` and expire noncurrent versions with a lifecycle rule.',
        controls: [
            { framework: "NIST-800-53", control: "CP-9" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["s3", "recovery"],
        protectsData: false,
        appliesTo: ["aws:s3/bucket:Bucket", ...VERSIONING_TYPES],
    },
    config: {},
    check: (resources) =>
        evaluateEach(buckets(resources), (bucket) => {
            const configs = configsOf(bucket, resources, VERSIONING_TYPES, "versioning");
            if (configs.length === 0) return [`${bucketRef(bucket)} has no BucketVersioning: add one with status "Enabled".`];
            return configs
                .map((c) => c.props.versioningConfiguration?.status)
                .filter((status) => status !== "Enabled")
                .map((status) => `${bucketRef(bucket)} has versioning "${status ?? "unset"}"; expected "Enabled".`);
        }),
});
