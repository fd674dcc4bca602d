import { actionsOverlap, IAM_POLICY_TYPES } from "../../readers/aws";
import { defineResourcePolicy } from "../../framework/define";
import { allowStatements } from "./iamCommon";

export interface Config {
    dataActions: string[];
}

/** Any resource: `*`, or an ARN whose resource part is all wildcard (`arn:aws:s3:::*`, `arn:aws:kms:*:*:key/*`). */
export function isWildcardResource(resource: string): boolean {
    if (resource === "*") return true;
    const m = /^arn:[^:]+:([^:]+):([^:]*):([^:]*):(.*)$/.exec(resource);
    if (!m) return false;
    const rest = m[4];
    return /^[*/]*$/.test(rest) || /^[a-z-]+\/\*$/i.test(rest) || /^\*\/\*$/.test(rest);
}

/** Data actions (object reads and writes, decrypt, secrets) are scoped to named resources. */
export const iamNoWildcardResources = defineResourcePolicy<Config>({
    meta: {
        name: "iam-no-wildcard-resources",
        pack: "mlops-security",
        title: "IAM data actions are scoped to named resources",
        description:
            'Allow statements that grant a data action (reading, writing or deleting objects, decrypting, reading secrets and parameters; configurable) name their resources: no `Resource: "*"`, no all-wildcard ARN, no NotResource.',
        rationale: "A data action on `*` reaches every bucket, key and secret of the account, including other teams' and other environments' data.",
        severity: "high",
        remediation:
            "Scope the statement to the bucket ARN and prefixes (`arn:aws:s3:::<bucket>/<prefix>/*`), the key ARN and the secret ARN the workload uses (components/platform/iam.ts).",
        controls: [
            { framework: "NIST-800-53", control: "AC-6" },
            { framework: "NIST-800-53", control: "AC-3" },
            { framework: "SOC2", control: "CC6.3" },
        ],
        topics: ["iam", "least-privilege"],
        protectsData: true,
        appliesTo: IAM_POLICY_TYPES,
    },
    config: {
        dataActions: {
            type: "array",
            items: { type: "string" },
            default: [
                "s3:GetObject*",
                "s3:PutObject*",
                "s3:DeleteObject*",
                "s3:ListBucket*",
                "s3:RestoreObject",
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
                "secretsmanager:GetSecretValue",
                "ssm:GetParameter*",
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "rds-db:connect",
            ],
            description: "Action globs that read or change data.",
        },
    },
    types: IAM_POLICY_TYPES,
    check: ({ type, props }, config) => {
        const { docs, problems } = allowStatements(type, props);
        for (const { where, statements } of docs) {
            for (const s of statements) {
                const data = s.actions.filter((a) => config.dataActions.some((d) => actionsOverlap(a, d)));
                if (data.length === 0 && s.notActions.length === 0) continue;
                const what = data.length > 0 ? data.map((a) => `"${a}"`).join(", ") : "everything but NotAction";
                const wild = s.resources.filter(isWildcardResource);
                if (wild.length > 0) problems.push(`${where} ${s.label} grants ${what} on ${wild.map((r) => `"${r}"`).join(", ")}: name the resources.`);
                if (s.notResources.length > 0) problems.push(`${where} ${s.label} grants ${what} on everything except NotResource: name the resources.`);
            }
        }
        return problems;
    },
});
