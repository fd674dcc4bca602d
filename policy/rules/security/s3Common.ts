/** Shared by the S3 stack policies: the buckets of a stack and how messages name them. */
import { BUCKET_TYPES, bucketName, joinBucket } from "../../readers/aws";
import { skip, type StackSubject } from "../../framework/define";

export const SSE_TYPES = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
export const VERSIONING_TYPES = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"];
export const PUBLIC_ACCESS_BLOCK_TYPES = ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"];
export const BUCKET_POLICY_TYPES = ["aws:s3/bucketPolicy:BucketPolicy"];
export const BUCKET_ACL_TYPES = ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"];

export function buckets(resources: readonly StackSubject[]): StackSubject[] {
    return resources.filter((r) => BUCKET_TYPES.includes(r.type));
}

/** `S3 bucket "artifacts-bucket" (acme-mlops-prod-artifacts-...)`. */
export function bucketRef(bucket: StackSubject): string {
    const name = bucketName(bucket);
    return `S3 bucket "${bucket.name}"${name && name !== bucket.name ? ` (${name})` : ""}`;
}

/**
 * The configuration resources of `types` for `bucket`; skips the bucket when none is known to target
 * it but some target an unknown bucket (preview), since one of those may be its configuration.
 */
export function configsOf(bucket: StackSubject, resources: readonly StackSubject[], types: readonly string[], what: string): StackSubject[] {
    const { matches, unresolved } = joinBucket(bucket, resources, types);
    if (matches.length === 0 && unresolved.length > 0) {
        skip(`the bucket of ${unresolved.map((r) => r.name).join(", ")} is unknown during preview, so the ${what} of ${bucketRef(bucket)} cannot be told`);
    }
    return matches;
}
