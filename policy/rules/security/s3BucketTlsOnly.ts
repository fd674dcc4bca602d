import { bucketName, parseDocument, type Statement } from "../../readers/aws";
import { defineStackPolicy, evaluateEach } from "../../framework/define";
import { bucketRef, BUCKET_POLICY_TYPES, buckets, configsOf } from "./s3Common";

function deniesInsecureTransport(s: Statement): boolean {
    if (s.effect !== "Deny") return false;
    const secure = s.condition?.Bool?.["aws:SecureTransport"];
    if (!(secure === false || secure === "false" || (Array.isArray(secure) && secure.map(String).includes("false")))) return false;
    const anyone = s.principal === "*" || (typeof s.principal === "object" && s.principal !== null && [(s.principal as any).AWS].flat().includes("*"));
    const allActions = s.actions.some((a) => a === "*" || a.toLowerCase() === "s3:*");
    return anyone && allActions;
}

/** Do the statement's resources cover both the bucket and its objects? */
function coversBucket(resources: readonly string[], name: string | undefined): boolean {
    if (resources.includes("*")) return true;
    if (!name) return resources.some((r) => !r.includes("/")) && resources.some((r) => r.endsWith("/*"));
    const arn = `arn:aws:s3:::${name}`;
    return resources.includes(arn) && (resources.includes(`${arn}/*`) || resources.includes(`${arn}*`));
}

/** Every S3 bucket has a bucket policy that denies requests not sent over TLS. */
export const s3BucketTlsOnly = defineStackPolicy<Record<string, never>>({
    meta: {
        name: "s3-bucket-tls-only",
        pack: "mlops-security",
        title: "S3 buckets accept TLS requests only",
        description:
            "Every S3 bucket has a BucketPolicy (joined by its `bucket` input) with a Deny statement for all principals and `s3:*` on the bucket and its objects when `aws:SecureTransport` is false.",
        rationale:
            "Without the deny, a client may read or write artifacts over plain HTTP, exposing data and credentials-signed requests to anyone on the path.",
        severity: "high",
        remediation:
            'Attach an `aws.s3.BucketPolicy` with the statement `{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }` (`denyInsecureTransport` in components/platform/iam.ts).',
        controls: [
            { framework: "CIS-AWS", control: "2.1.1" },
            { framework: "NIST-800-53", control: "SC-8" },
            { framework: "SOC2", control: "CC6.7" },
        ],
        topics: ["s3", "tls"],
        protectsData: true,
        appliesTo: ["aws:s3/bucket:Bucket", ...BUCKET_POLICY_TYPES],
    },
    config: {},
    check: (resources) =>
        evaluateEach(buckets(resources), (bucket) => {
            const policies = configsOf(bucket, resources, BUCKET_POLICY_TYPES, "bucket policy");
            if (policies.length === 0) return [`${bucketRef(bucket)} has no BucketPolicy denying insecure transport.`];
            const name = bucketName(bucket);
            for (const p of policies) {
                const statements = parseDocument(p.props.policy);
                if (!statements) return [`${bucketRef(bucket)}: the policy of ${p.name} is not a JSON policy document.`];
                if (statements.some((s) => deniesInsecureTransport(s) && coversBucket(s.resources, name))) return [];
            }
            return [
                `${bucketRef(bucket)}: no bucket policy statement denies s3:* to everyone on the bucket and its objects when aws:SecureTransport is false.`,
            ];
        }),
});
