import { parseDocument } from "../../readers/aws";
import { defineResourcePolicy } from "../../framework/define";

const SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LIKE_OPERATORS = /^(ForAnyValue:|ForAllValues:)?StringLike(IfExists)?$|^(ForAnyValue:|ForAllValues:)?StringNotLike(IfExists)?$/;

const values = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** IRSA roles trust exactly one service account of one cluster, with the STS audience. */
export const irsaTrustPinned = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "irsa-trust-pinned-to-service-account",
        pack: "mlops-security",
        title: "IRSA roles trust one service account",
        description:
            "An IAM role trusted through an EKS OIDC provider (`sts:AssumeRoleWithWebIdentity`) pins, with `StringEquals`, `<issuer>:sub` to exactly one `system:serviceaccount:<namespace>:<name>` and `<issuer>:aud` to `sts.amazonaws.com`, for the issuer of the federated provider; no `StringLike` on either key.",
        rationale:
            "Without the `sub` condition every pod of the cluster (any namespace, any team) can assume the role and reach its data; a wildcard in it does the same for a whole namespace. Without `aud`, tokens minted for other audiences are accepted.",
        severity: "critical",
        remediation: "Build the trust policy with `irsaTrustPolicy(oidcProviderArn, namespace, serviceAccount)` from components/platform/iam.ts.",
        controls: [
            { framework: "NIST-800-53", control: "AC-6" },
            { framework: "NIST-800-53", control: "AC-3" },
            { framework: "SOC2", control: "CC6.3" },
        ],
        topics: ["iam", "irsa", "least-privilege"],
        protectsData: true,
        appliesTo: ["aws:iam/role:Role"],
    },
    config: {},
    types: ["aws:iam/role:Role"],
    check: ({ props }) => {
        const statements = parseDocument(props.assumeRolePolicy);
        if (!statements) return ["assumeRolePolicy is not a JSON policy document, so its trust cannot be reviewed."];
        const problems: string[] = [];
        for (const s of statements) {
            if (s.effect !== "Allow") continue;
            const federated = values((s.principal as any)?.Federated).map(String);
            const oidc = federated.filter((f) => f.includes(":oidc-provider/"));
            const webIdentity = s.actions.some((a) => a === "sts:AssumeRoleWithWebIdentity" || a === "sts:*" || a === "*");
            if (oidc.length === 0 || !webIdentity) continue;
            if (oidc.length > 1) problems.push(`${s.label} trusts ${oidc.length} OIDC providers: trust the one cluster's provider only.`);
            const issuer = oidc[0].slice(oidc[0].indexOf(":oidc-provider/") + ":oidc-provider/".length);
            for (const [operator, conditions] of Object.entries(s.condition)) {
                for (const key of Object.keys(conditions ?? {})) {
                    if (/:(sub|aud)$/.test(key) && LIKE_OPERATORS.test(operator)) {
                        problems.push(`${s.label} matches ${key} with ${operator}: use StringEquals with one exact value.`);
                    }
                }
            }
            const equals = s.condition.StringEquals ?? {};
            const sub = values(equals[`${issuer}:sub`]);
            const aud = values(equals[`${issuer}:aud`]);
            if (sub.length === 0)
                problems.push(`${s.label} has no StringEquals condition on ${issuer}:sub: any service account of the cluster can assume the role.`);
            else if (sub.length > 1) problems.push(`${s.label} trusts ${sub.length} service accounts: one role per service account.`);
            else if (typeof sub[0] !== "string" || !SUBJECT.test(sub[0]))
                problems.push(`${s.label} pins ${issuer}:sub to "${String(sub[0])}"; expected system:serviceaccount:<namespace>:<name> without wildcards.`);
            if (aud.length !== 1 || aud[0] !== "sts.amazonaws.com") problems.push(`${s.label} does not pin ${issuer}:aud to "sts.amazonaws.com".`);
        }
        return problems;
    },
});
