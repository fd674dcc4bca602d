/**
 * elasticache-encrypted-authenticated: the replication group the platform renders passes, and each
 * one-field defect is reported with its exact message.
 */
import { describe, it } from "vitest";
import { ELASTICACHE_REPLICATION_GROUP, elastiCacheEncryptedAuthenticated } from "../policy/rules/security/elastiCacheEncryptedAuthenticated";
import { assertHasResourceViolation, assertNoResourceViolations, createResourceValidationArgs, resourcePolicy, variant } from "./policies/util";

/** What ElastiCacheRedis renders (components/platform/elastiCacheRedis.ts), abridged to what the policy reads. */
function replicationGroup(): Record<string, any> {
    return {
        replicationGroupId: "acme-prod-feast",
        engine: "redis",
        atRestEncryptionEnabled: true,
        kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/feast",
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken: "generated-token-of-48-letters-and-digits-0123456",
    };
}

describe("elasticache-encrypted-authenticated", () => {
    const policy = resourcePolicy(elastiCacheEncryptedAuthenticated);
    const args = (mutate: (p: Record<string, any>) => void) => createResourceValidationArgs(ELASTICACHE_REPLICATION_GROUP, variant(replicationGroup(), mutate));

    it("passes the encrypted, authenticated group the platform renders, and one authenticated by RBAC user groups", async () => {
        await assertNoResourceViolations(policy, createResourceValidationArgs(ELASTICACHE_REPLICATION_GROUP, replicationGroup()));
        await assertNoResourceViolations(
            policy,
            args((p) => (delete p.authToken, (p.userGroupIds = ["feast-users"]))),
        );
    });
    it("reports storage not encrypted at rest, and the AWS managed key", async () => {
        await assertHasResourceViolation(
            policy,
            args((p) => (p.atRestEncryptionEnabled = false)),
            "ElastiCache is not encrypted at rest: set atRestEncryptionEnabled: true.",
        );
        await assertHasResourceViolation(
            policy,
            args((p) => delete p.kmsKeyId),
            "ElastiCache uses the AWS managed key: set kmsKeyId to a customer managed KMS key.",
        );
    });
    it("reports plain-text connections, allowed outright or still preferred", async () => {
        await assertHasResourceViolation(
            policy,
            args((p) => delete p.transitEncryptionEnabled),
            "ElastiCache accepts plain-text connections: set transitEncryptionEnabled: true.",
        );
        await assertHasResourceViolation(
            policy,
            args((p) => (p.transitEncryptionMode = "preferred")),
            'ElastiCache still accepts plain-text connections: set transitEncryptionMode: "required".',
        );
    });
    it("reports a group without AUTH token or user groups", async () => {
        await assertHasResourceViolation(
            policy,
            args((p) => delete p.authToken),
            "ElastiCache accepts clients without credentials: set authToken (a generated secret) or userGroupIds.",
        );
    });
});
