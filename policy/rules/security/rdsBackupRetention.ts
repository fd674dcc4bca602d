import { defineResourcePolicy } from "../../framework/define";
import { RDS_TYPES } from "./rdsCommon";

/** RDS keeps automated backups for at least a configured number of days. */
export const rdsBackupRetention = defineResourcePolicy<{ minRetentionDays: number }>({
    meta: {
        name: "rds-backup-retention",
        pack: "mlops-security",
        title: "RDS backups are retained",
        description: "Every RDS instance and cluster keeps automated backups (`backupRetentionPeriod`) for at least `minRetentionDays` days.",
        rationale:
            "Point-in-time recovery is the only way back from a bad migration or an accidental delete of runs and registered models; its window is the retention period.",
        severity: "medium",
        remediation: "Set `backupRetentionPeriod` to at least the configured number of days (mlops:mlflow.database.backupRetentionDays).",
        controls: [
            { framework: "NIST-800-53", control: "CP-9" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["rds", "backup"],
        protectsData: false,
        appliesTo: RDS_TYPES,
    },
    config: {
        minRetentionDays: { type: "integer", minimum: 1, maximum: 35, default: 7, description: "Minimum days of automated backups." },
    },
    types: RDS_TYPES,
    check: ({ props }, config) => {
        const days = props.backupRetentionPeriod;
        if (typeof days !== "number") return [`RDS backupRetentionPeriod is not set; set it to at least ${config.minRetentionDays} days.`];
        return days < config.minRetentionDays ? [`RDS keeps backups for ${days} day(s); expected at least ${config.minRetentionDays}.`] : [];
    },
});
