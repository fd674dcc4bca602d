import { defineResourcePolicy } from "../../framework/define";
import { RDS_INSTANCE } from "./rdsCommon";

/** RDS instances keep a standby in a second availability zone (prod by default). */
export const rdsMultiAz = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "rds-multi-az",
        pack: "mlops-security",
        title: "RDS is Multi-AZ",
        description: "Every RDS instance sets `multiAz: true`.",
        rationale:
            "Without a standby an availability-zone outage or instance failure stops the tracking server and model registry until the instance is restored, blocking every deployment that resolves a model version.",
        severity: "medium",
        remediation: "Set `multiAz: true` (mlops:mlflow.database.multiAz).",
        controls: [
            { framework: "NIST-800-53", control: "CP-10" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["rds", "availability"],
        protectsData: false,
        appliesTo: [RDS_INSTANCE],
    },
    config: {},
    environments: ["prod"],
    types: [RDS_INSTANCE],
    check: ({ props }) => (props.multiAz === true ? [] : ["RDS instance has no standby: set multiAz: true."]),
});
