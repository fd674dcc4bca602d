import { defineResourcePolicy } from "../../framework/define";
import { RDS_TYPES } from "./rdsCommon";

/** RDS instances and clusters encrypt their storage. */
export const rdsStorageEncrypted = defineResourcePolicy<{ requireCustomerManagedKey: boolean }>({
    meta: {
        name: "rds-storage-encrypted",
        pack: "mlops-security",
        title: "RDS storage is encrypted",
        description: "Every RDS instance and cluster sets `storageEncrypted: true`, with a customer managed `kmsKeyId` unless configured otherwise.",
        rationale:
            "The MLflow backend store holds experiment metadata, parameters and user names; encryption at rest covers the volume, its snapshots and replicas, and cannot be added after creation.",
        severity: "high",
        remediation:
            "Set `storageEncrypted: true` and `kmsKeyId` to a customer managed key on the `aws.rds.Instance` (the RdsPostgres component does this). An existing unencrypted instance must be restored from an encrypted snapshot copy.",
        controls: [
            { framework: "CIS-AWS", control: "2.3.1" },
            { framework: "NIST-800-53", control: "SC-28" },
            { framework: "SOC2", control: "CC6.1" },
        ],
        topics: ["rds", "encryption"],
        protectsData: true,
        appliesTo: RDS_TYPES,
    },
    config: {
        requireCustomerManagedKey: {
            type: "boolean",
            default: true,
            description: "Require `kmsKeyId` (a customer managed key) instead of the AWS managed `aws/rds` key.",
        },
    },
    types: RDS_TYPES,
    check: ({ props }, config) => {
        if (props.storageEncrypted !== true) return ["RDS storage is not encrypted: set storageEncrypted: true."];
        if (config.requireCustomerManagedKey && !props.kmsKeyId) return ["RDS storage uses the AWS managed key: set kmsKeyId to a customer managed KMS key."];
        return [];
    },
});
