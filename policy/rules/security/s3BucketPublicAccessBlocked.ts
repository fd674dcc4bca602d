import { defineStackPolicy, evaluateEach } from "../../framework/define";
import { BUCKET_ACL_TYPES, bucketRef, buckets, configsOf, PUBLIC_ACCESS_BLOCK_TYPES } from "./s3Common";

const SETTINGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;
const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];

/** Every S3 bucket has all four public access block settings on and no public canned ACL. */
export const s3BucketPublicAccessBlocked = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "s3-bucket-public-access-blocked",
        pack: "mlops-security",
        title: "S3 buckets block all public access",
        description:
            "Every S3 bucket has a BucketPublicAccessBlock (joined by its `bucket` input) with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true, and neither the bucket nor a BucketAcl grants a public canned ACL.",
        rationale:
            "A public bucket is the most common cause of cloud data leaks; the four settings together make a public ACL or bucket policy ineffective even if one is added later by mistake.",
        severity: "critical",
        remediation:
            "Create an `aws.s3.BucketPublicAccessBlock` for the bucket with all four settings `true`; remove public ACLs and use `BucketOwnershipControls` with `BucketOwnerEnforced` so ACLs are disabled.",
        controls: [
            { framework: "CIS-AWS", control: "2.1.4" },
            { framework: "NIST-800-53", control: "AC-3" },
            { framework: "NIST-800-53", control: "SC-7" },
            { framework: "SOC2", control: "CC6.1" },
        ],
        topics: ["s3", "public-access"],
        protectsData: true,
        appliesTo: ["aws:s3/bucket:Bucket", ...PUBLIC_ACCESS_BLOCK_TYPES, ...BUCKET_ACL_TYPES],
    },
    config: {},
    check: (resources) =>
        evaluateEach(buckets(resources), (bucket) => {
            const problems: string[] = [];
            const blocks = configsOf(bucket, resources, PUBLIC_ACCESS_BLOCK_TYPES, "public access block");
            if (blocks.length === 0) problems.push(`${bucketRef(bucket)} has no BucketPublicAccessBlock: add one with all four settings true.`);
            for (const b of blocks) {
                const off = SETTINGS.filter((s) => b.props[s] !== true);
                if (off.length > 0) problems.push(`${bucketRef(bucket)}: public access block ${b.name} does not set ${off.join(", ")} to true.`);
            }
            const acls = [bucket.props.acl, ...configsOf(bucket, resources, BUCKET_ACL_TYPES, "ACL").map((a) => a.props.acl)];
            for (const acl of acls) {
                if (typeof acl === "string" && PUBLIC_ACLS.includes(acl)) problems.push(`${bucketRef(bucket)} has the public canned ACL "${acl}".`);
            }
            return problems;
        }),
});
