import { defineResourcePolicy, skip } from "../../framework/define";

/** Customer managed symmetric KMS keys rotate automatically. */
export const kmsKeyRotationEnabled = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "kms-key-rotation-enabled",
        pack: "mlops-security",
        title: "KMS keys rotate",
        description: "Every symmetric encryption KMS key sets `enableKeyRotation: true` (asymmetric and HMAC keys cannot rotate and are not applicable).",
        rationale:
            "Rotation limits how much data one key version protects and is required by most key-management standards; it costs nothing and is transparent to S3 and RDS.",
        severity: "medium",
        remediation: "Set `enableKeyRotation: true` on the `aws.kms.Key`.",
        controls: [
            { framework: "CIS-AWS", control: "3.6" },
            { framework: "NIST-800-53", control: "SC-12" },
            { framework: "SOC2", control: "CC6.1" },
        ],
        topics: ["kms", "encryption"],
        protectsData: true,
        appliesTo: ["aws:kms/key:Key"],
    },
    config: {},
    types: ["aws:kms/key:Key"],
    check: ({ props }) => {
        const spec = props.customerMasterKeySpec ?? props.keySpec ?? "SYMMETRIC_DEFAULT";
        const usage = props.keyUsage ?? "ENCRYPT_DECRYPT";
        if (spec !== "SYMMETRIC_DEFAULT" || usage !== "ENCRYPT_DECRYPT") skip(`a ${spec} key for ${usage} cannot rotate automatically`);
        return props.enableKeyRotation === true ? [] : ["KMS key rotation is off: set enableKeyRotation: true."];
    },
});
