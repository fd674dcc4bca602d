/** Shared by the IAM policies: documents of a resource, parsed, with readable locations. */
import { parseDocument, policyDocuments, type Statement } from "../../readers/aws";

export const MANAGED_ATTACHMENT_TYPES = [
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
];

/** Each document's Allow statements; an unparseable document becomes a problem message. */
export function allowStatements(type: string, props: Record<string, any>): { docs: { where: string; statements: Statement[] }[]; problems: string[] } {
    const docs: { where: string; statements: Statement[] }[] = [];
    const problems: string[] = [];
    for (const d of policyDocuments(type, props)) {
        const statements = parseDocument(d.document);
        if (statements) docs.push({ where: d.where, statements: statements.filter((s) => s.effect === "Allow") });
        else problems.push(`${d.where} is not a JSON policy document, so its permissions cannot be reviewed.`);
    }
    return { docs, problems };
}
