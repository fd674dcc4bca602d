import { globRegex, IAM_POLICY_TYPES } from "../../readers/aws";
import { defineResourcePolicy } from "../../framework/define";
import { allowStatements, MANAGED_ATTACHMENT_TYPES } from "./iamCommon";

export interface Config {
    allowedWildcardActions: string[];
    forbiddenManagedPolicies: string[];
}

const TYPES = [...IAM_POLICY_TYPES, ...MANAGED_ATTACHMENT_TYPES];

/** IAM policies allow named actions only: no `*`, `service:*` or `service:Get*`, no Allow with NotAction, no admin/full-access managed policies. */
export const iamNoWildcardActions = defineResourcePolicy<Config>({
    meta: {
        name: "iam-no-wildcard-actions",
        pack: "mlops-security",
        title: "IAM grants named actions only",
        description:
            "Allow statements of IAM policies (`aws:iam/rolePolicy`, `aws:iam/policy`, user/group policies and the inline policies of `aws:iam/role`) name their actions without wildcards and do not use NotAction; no AWS managed admin or *FullAccess policy is attached.",
        rationale:
            "A wildcard action grants every current and future API of a service (`s3:*` includes DeleteBucket and PutBucketPolicy); least privilege is only reviewable when actions are listed.",
        severity: "critical",
        remediation:
            "List the actions the workload needs (components/platform/iam.ts builds scoped documents: s3ReadPolicy, s3ReadWritePolicy, s3WriteOnlyPolicy); replace managed full-access policies with such a document.",
        controls: [
            { framework: "CIS-AWS", control: "1.16" },
            { framework: "NIST-800-53", control: "AC-6" },
            { framework: "SOC2", control: "CC6.3" },
        ],
        topics: ["iam", "least-privilege"],
        protectsData: true,
        appliesTo: TYPES,
    },
    config: {
        allowedWildcardActions: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: "Wildcard actions accepted anyway (exact strings, e.g. `ecr:BatchGet*`): each needs an entry in docs/policy-exceptions.md.",
        },
        forbiddenManagedPolicies: {
            type: "array",
            items: { type: "string" },
            default: ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/*FullAccess"],
            description: "Managed policy ARNs (globs) that must not be attached.",
        },
    },
    types: TYPES,
    check: ({ type, props }, config) => {
        const problems: string[] = [];
        const forbidden = (arn: unknown) => typeof arn === "string" && config.forbiddenManagedPolicies.some((g) => globRegex(g).test(arn));
        const attached = [props.policyArn, ...(type === "aws:iam/role:Role" && Array.isArray(props.managedPolicyArns) ? props.managedPolicyArns : [])];
        for (const arn of attached.filter(forbidden))
            problems.push(`attaches the managed policy ${arn}, which grants wildcard actions: attach a scoped policy instead.`);
        const { docs, problems: unreadable } = allowStatements(type, props);
        problems.push(...unreadable);
        for (const { where, statements } of docs) {
            for (const s of statements) {
                const wild = s.actions.filter((a) => a.includes("*") || a.includes("?")).filter((a) => !config.allowedWildcardActions.includes(a));
                if (wild.length > 0)
                    problems.push(`${where} ${s.label} allows wildcard action(s) ${wild.map((a) => `"${a}"`).join(", ")}: list the actions needed.`);
                if (s.notActions.length > 0) problems.push(`${where} ${s.label} allows everything except NotAction: list the allowed actions instead.`);
            }
        }
        return problems;
    },
});
