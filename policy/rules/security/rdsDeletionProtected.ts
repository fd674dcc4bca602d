import { defineResourcePolicy } from "../../framework/define";
import { RDS_TYPES } from "./rdsCommon";

/** RDS refuses deletion and keeps a final snapshot (prod by default). */
export const rdsDeletionProtected = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "rds-deletion-protected",
        pack: "mlops-security",
        title: "RDS is deletion-protected",
        description: "Every RDS instance and cluster sets `deletionProtection: true` and does not skip the final snapshot (`skipFinalSnapshot` not true).",
        rationale:
            "Deleting the backend store loses every experiment, run and registered model version; deletion protection makes it a deliberate two-step action and the final snapshot keeps a way back.",
        severity: "high",
        remediation: "Set `deletionProtection: true`, `skipFinalSnapshot: false` and a `finalSnapshotIdentifier` (mlops:mlflow.database.deletionProtection).",
        controls: [
            { framework: "NIST-800-53", control: "CP-9" },
            { framework: "NIST-800-53", control: "CM-5" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["rds", "backup"],
        protectsData: false,
        appliesTo: RDS_TYPES,
    },
    config: {},
    environments: ["prod"],
    types: RDS_TYPES,
    check: ({ props }) => {
        const problems: string[] = [];
        if (props.deletionProtection !== true) problems.push("RDS deletion protection is off: set deletionProtection: true.");
        if (props.skipFinalSnapshot === true) problems.push("RDS skips the final snapshot on deletion: set skipFinalSnapshot: false.");
        return problems;
    },
});
