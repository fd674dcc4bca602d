/**
 * Names and tags of the platform's AWS resources, derived from the stack configuration: the artifact
 * bucket, IAM roles and the provider's default tags. Platform-only (they read the stack config schema);
 * the naming rules themselves are shared (shared/naming.ts).
 */
import type { PlatformConfig } from "../../stacks/config/schema";
import { AWS_TAGS } from "../contract";
import { dnsName, IAM_ROLE_MAX, S3_BUCKET_MAX } from "../shared/naming";

/** The stable name of the platform's artifact bucket: org, environment, account and region make it unique. */
export function artifactBucketName(cfg: Pick<PlatformConfig, "organization" | "environment" | "aws">): string {
    return dnsName([cfg.organization, "mlops", cfg.environment, "artifacts", cfg.aws.accountId, cfg.aws.region], S3_BUCKET_MAX);
}

/** Name of an IAM role for a workload: `<org>-<env>-<purpose>`, at most 64 characters. */
export function iamRoleName(cfg: Pick<PlatformConfig, "organization" | "environment">, purpose: string): string {
    return dnsName([cfg.organization, cfg.environment, purpose], IAM_ROLE_MAX);
}

/** AWS tags every resource gets through the provider's `defaultTags`. */
export function awsDefaultTags(cfg: Pick<PlatformConfig, "owner" | "environment" | "costCentre">): Record<string, string> {
    return {
        [AWS_TAGS.owner]: cfg.owner,
        [AWS_TAGS.environment]: cfg.environment,
        [AWS_TAGS.costCentre]: cfg.costCentre,
        [AWS_TAGS.managedBy]: "pulumi",
        [AWS_TAGS.platform]: "mlops",
    };
}
