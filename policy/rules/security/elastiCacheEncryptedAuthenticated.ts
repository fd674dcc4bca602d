import { defineResourcePolicy } from "../../framework/define";

/** The ElastiCache resource types this policy looks at. */
export const ELASTICACHE_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";

/** ElastiCache replication groups encrypt at rest and in transit, and authenticate their clients. */
export const elastiCacheEncryptedAuthenticated = defineResourcePolicy<{ requireCustomerManagedKey: boolean }>({
    meta: {
        name: "elasticache-encrypted-authenticated",
        pack: "mlops-security",
        title: "ElastiCache is encrypted and authenticated",
        description:
            "Every ElastiCache replication group sets `atRestEncryptionEnabled: true` (with a customer managed `kmsKeyId` unless configured otherwise), `transitEncryptionEnabled: true` with `transitEncryptionMode` `required`, and an `authToken` or RBAC `userGroupIds`.",
        rationale:
            "The feature store's online store holds the features the models score with (customer behaviour, amounts); unencrypted snapshots or plain-text traffic expose them, and a cache without AUTH answers any pod or host that reaches its port. At-rest encryption cannot be added to an existing group.",
        severity: "high",
        remediation:
            'Set `atRestEncryptionEnabled: true`, `kmsKeyId`, `transitEncryptionEnabled: true`, `transitEncryptionMode: "required"` and `authToken` (a generated secret) on the `aws.elasticache.ReplicationGroup` (the ElastiCacheRedis component does this). An existing unencrypted group must be recreated from a snapshot.',
        controls: [
            { framework: "AWS-FSBP", control: "ElastiCache.4" },
            { framework: "AWS-FSBP", control: "ElastiCache.5" },
            { framework: "AWS-FSBP", control: "ElastiCache.6" },
            { framework: "NIST-800-53", control: "SC-28" },
            { framework: "NIST-800-53", control: "SC-8" },
        ],
        topics: ["elasticache", "encryption"],
        protectsData: true,
        appliesTo: [ELASTICACHE_REPLICATION_GROUP],
    },
    config: {
        requireCustomerManagedKey: {
            type: "boolean",
            default: true,
            description: "Require `kmsKeyId` (a customer managed key) instead of the AWS managed ElastiCache key.",
        },
    },
    types: [ELASTICACHE_REPLICATION_GROUP],
    check: ({ props }, config) => {
        const problems: string[] = [];
        if (props.atRestEncryptionEnabled !== true) problems.push("ElastiCache is not encrypted at rest: set atRestEncryptionEnabled: true.");
        else if (config.requireCustomerManagedKey && !props.kmsKeyId)
            problems.push("ElastiCache uses the AWS managed key: set kmsKeyId to a customer managed KMS key.");
        if (props.transitEncryptionEnabled !== true) problems.push("ElastiCache accepts plain-text connections: set transitEncryptionEnabled: true.");
        else if (props.transitEncryptionMode === "preferred")
            problems.push('ElastiCache still accepts plain-text connections: set transitEncryptionMode: "required".');
        const userGroups = Array.isArray(props.userGroupIds) ? props.userGroupIds.length : 0;
        if (!props.authToken && !props.authTokenWo && userGroups === 0)
            problems.push("ElastiCache accepts clients without credentials: set authToken (a generated secret) or userGroupIds.");
        return problems;
    },
});
