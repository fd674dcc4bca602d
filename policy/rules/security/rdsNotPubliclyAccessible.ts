import { defineResourcePolicy } from "../../framework/define";
import { RDS_INSTANCE } from "./rdsCommon";

/** RDS instances are not reachable from the internet. */
export const rdsNotPubliclyAccessible = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "rds-not-publicly-accessible",
        pack: "mlops-security",
        title: "RDS instances are not public",
        description: "Every RDS instance sets `publiclyAccessible` to false (or leaves it unset, which is false).",
        rationale: "A publicly accessible database gets a public DNS name and address; one security-group mistake then exposes it to the internet.",
        severity: "critical",
        remediation: "Set `publiclyAccessible: false` and place the instance in a subnet group of private subnets.",
        controls: [
            { framework: "CIS-AWS", control: "2.3.3" },
            { framework: "NIST-800-53", control: "SC-7" },
            { framework: "SOC2", control: "CC6.6" },
        ],
        topics: ["rds", "network", "public-access"],
        protectsData: true,
        appliesTo: [RDS_INSTANCE],
    },
    config: {},
    types: [RDS_INSTANCE],
    check: ({ props }) => (props.publiclyAccessible === true ? ["RDS instance is publicly accessible: set publiclyAccessible: false."] : []),
});
