/**
 * IAM policy documents as pure functions. Every document the platform attaches is built here, scoped to
 * named ARNs and prefixes: no component writes `s3:*`, `kms:*` or `Resource: "*"`.
 *
 * Values are `pulumi.Input<string>` so components can pass resource outputs; serialise the result with
 * `pulumi.jsonStringify`. Tests pass plain strings and inspect the objects directly.
 */
import * as pulumi from "@pulumi/pulumi";
import { normalizePrefix } from "../shared/s3Prefix";

type In = pulumi.Input<string>;

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: unknown;
    Action: string | string[];
    Resource?: unknown;
    Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** Where a workload may read or write: a bucket, its KMS key, and prefixes inside it. */
export interface BucketAccess {
    /** ARN of the bucket. */
    readonly bucketArn: In;
    /** ARN of the KMS key the bucket is encrypted with. */
    readonly kmsKeyArn: In;
    /** Prefixes (folders) the access is limited to. */
    readonly prefixes: readonly string[];
}

function objectArns(bucketArn: In, prefixes: readonly string[]) {
    return prefixes.map((p) => concat(bucketArn, `/${normalizePrefix(p)}/*`));
}

/** `${arn}${suffix}` for a plain string or an Output, without an apply when it is plain. */
function concat(arn: In, suffix: string): In {
    return typeof arn === "string" ? `${arn}${suffix}` : pulumi.interpolate`${arn}${suffix}`;
}

function listStatement(access: BucketAccess, sid: string): PolicyStatement {
    const prefixes = access.prefixes.map(normalizePrefix);
    return {
        Sid: sid,
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
        Resource: access.bucketArn,
        Condition: { StringLike: { "s3:prefix": prefixes.flatMap((p) => [p, `${p}/*`]) } },
    };
}

/** Read-only access to objects under the prefixes, and decryption with the bucket's key. */
export function s3ReadPolicy(access: BucketAccess): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            listStatement(access, "ListPrefixes"),
            {
                Sid: "ReadObjects",
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                Resource: objectArns(access.bucketArn, access.prefixes),
            },
            { Sid: "DecryptWithBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: access.kmsKeyArn },
        ],
    };
}

/** Read-write access to objects under the prefixes, with encrypt/decrypt on the bucket's key. */
export function s3ReadWritePolicy(access: BucketAccess): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            listStatement(access, "ListPrefixes"),
            {
                Sid: "ReadWriteObjects",
                Effect: "Allow",
                Action: [
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:GetObjectTagging",
                    "s3:PutObject",
                    "s3:PutObjectTagging",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                Resource: objectArns(access.bucketArn, access.prefixes),
            },
            {
                Sid: "UseBucketKey",
                Effect: "Allow",
                Action: ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                Resource: access.kmsKeyArn,
            },
        ],
    };
}

/** Write-only access (put, no read, no delete) to objects under the prefixes: prediction logs. */
export function s3WriteOnlyPolicy(access: BucketAccess): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "WriteObjects",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                Resource: objectArns(access.bucketArn, access.prefixes),
            },
            { Sid: "EncryptWithBucketKey", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: access.kmsKeyArn },
        ],
    };
}

/** Merges documents into one, renaming duplicate Sids so the result stays valid. */
export function mergePolicies(...docs: PolicyDocument[]): PolicyDocument {
    const seen = new Map<string, number>();
    const statements = docs
        .flatMap((d) => d.Statement)
        .map((s) => {
            if (!s.Sid) return s;
            const n = (seen.get(s.Sid) ?? 0) + 1;
            seen.set(s.Sid, n);
            return n === 1 ? s : { ...s, Sid: `${s.Sid}${n}` };
        });
    return { Version: "2012-10-17", Statement: statements };
}

/** The issuer host/path of an EKS OIDC provider, from its ARN (`oidc.eks.<region>.amazonaws.com/id/<ID>`). */
export function oidcIssuer(oidcProviderArn: string): string {
    const idx = oidcProviderArn.indexOf(":oidc-provider/");
    if (idx < 0) throw new Error(`not an IAM OIDC provider ARN: "${oidcProviderArn}"`);
    return oidcProviderArn.slice(idx + ":oidc-provider/".length);
}

/**
 * Trust policy of an IRSA role: only the one service account `namespace/serviceAccount` of the cluster
 * whose OIDC provider is given may assume it, and only with the STS audience.
 */
export function irsaTrustPolicy(oidcProviderArn: string, namespace: In, serviceAccount: In): PolicyDocument {
    const issuer = oidcIssuer(oidcProviderArn);
    const subject =
        typeof namespace === "string" && typeof serviceAccount === "string"
            ? `system:serviceaccount:${namespace}:${serviceAccount}`
            : pulumi.interpolate`system:serviceaccount:${namespace}:${serviceAccount}`;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ServiceAccountWebIdentity",
                Effect: "Allow",
                Principal: { Federated: oidcProviderArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [`${issuer}:sub`]: subject,
                        [`${issuer}:aud`]: "sts.amazonaws.com",
                    },
                },
            },
        ],
    };
}

/** Bucket policy statement denying any request not sent over TLS. */
export function denyInsecureTransport(bucketArn: In): PolicyStatement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, concat(bucketArn, "/*")],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
