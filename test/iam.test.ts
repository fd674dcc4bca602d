import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
    denyInsecureTransport,
    irsaTrustPolicy,
    mergePolicies,
    oidcIssuer,
    type PolicyDocument,
    s3ReadPolicy,
    s3ReadWritePolicy,
    s3WriteOnlyPolicy,
} from "../components/platform/iam";
import { normalizePrefix } from "../components/shared/s3Prefix";

const access = {
    bucketArn: "arn:aws:s3:::acme-mlops-prod-artifacts",
    kmsKeyArn: "arn:aws:kms:eu-west-1:410987654321:key/1234",
    prefixes: ["models/fraud"],
};

/** Every Allow statement names its actions and resources exactly: no wildcard action, no "*" resource. */
export function assertScoped(doc: PolicyDocument): void {
    for (const s of doc.Statement.filter((st) => st.Effect === "Allow")) {
        const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
        for (const a of actions) expect(a, `wildcard action in ${s.Sid}`).not.toMatch(/\*/);
        const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]) as string[];
        for (const r of resources) {
            expect(r).not.toBe("*");
            expect(r).toMatch(/^arn:aws:/);
        }
    }
}

describe("S3 access documents", () => {
    it("read: list only the prefix, get objects under it, decrypt with the bucket key", () => {
        const doc = s3ReadPolicy(access);
        assertScoped(doc);
        expect(doc.Statement).toEqual([
            {
                Sid: "ListPrefixes",
                Effect: "Allow",
                Action: ["s3:ListBucket", "s3:GetBucketLocation"],
                Resource: access.bucketArn,
                Condition: { StringLike: { "s3:prefix": ["models/fraud", "models/fraud/*"] } },
            },
            {
                Sid: "ReadObjects",
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                Resource: ["arn:aws:s3:::acme-mlops-prod-artifacts/models/fraud/*"],
            },
            { Sid: "DecryptWithBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: access.kmsKeyArn },
        ]);
    });

    it("read-write adds put/delete under the prefix and data-key generation, nothing bucket-wide", () => {
        const doc = s3ReadWritePolicy(access);
        assertScoped(doc);
        const objects = doc.Statement.find((s) => s.Sid === "ReadWriteObjects")!;
        expect(objects.Action).toContain("s3:PutObject");
        expect(objects.Action).toContain("s3:DeleteObject");
        expect(objects.Resource).toEqual(["arn:aws:s3:::acme-mlops-prod-artifacts/models/fraud/*"]);
        expect(doc.Statement.find((s) => s.Sid === "UseBucketKey")!.Action).toContain("kms:GenerateDataKey");
    });

    it("write-only cannot read or delete", () => {
        const doc = s3WriteOnlyPolicy({ ...access, prefixes: ["prediction-logs/fraud"] });
        assertScoped(doc);
        const actions = doc.Statement.flatMap((s) => s.Action);
        expect(actions).not.toContain("s3:GetObject");
        expect(actions).not.toContain("s3:DeleteObject");
        expect(actions).not.toContain("kms:Decrypt");
    });

    it("any prefix is scoped to exactly that prefix", () => {
        fc.assert(
            fc.property(fc.array(fc.stringMatching(/^[a-z0-9-]{1,20}(\/[a-z0-9-]{1,20}){0,2}$/), { minLength: 1, maxLength: 4 }), (prefixes) => {
                const doc = s3ReadWritePolicy({ ...access, prefixes });
                assertScoped(doc);
                const resources = doc.Statement.find((s) => s.Sid === "ReadWriteObjects")!.Resource as string[];
                expect(resources).toEqual(prefixes.map((p) => `${access.bucketArn}/${p}/*`));
            }),
        );
    });

    it("rejects empty and wildcard prefixes", () => {
        expect(() => normalizePrefix("")).toThrow(/non-empty path without wildcards/);
        expect(() => normalizePrefix("/")).toThrow(/non-empty/);
        expect(() => normalizePrefix("models/*")).toThrow(/wildcards/);
        expect(normalizePrefix("/models/fraud/")).toBe("models/fraud");
    });

    it("merging keeps statements and makes Sids unique", () => {
        const merged = mergePolicies(s3ReadPolicy(access), s3ReadWritePolicy(access));
        const sids = merged.Statement.map((s) => s.Sid);
        expect(new Set(sids).size).toBe(sids.length);
        expect(merged.Statement.length).toBe(6);
    });
});

describe("IRSA trust", () => {
    const arn = "arn:aws:iam::410987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/9C8B7A6D5E4F3A2B1C0D9E8F7A6B5C43";

    it("trusts only one service account of the cluster's OIDC provider, with the STS audience", () => {
        expect(irsaTrustPolicy(arn, "mlflow", "mlflow-server")).toEqual({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ServiceAccountWebIdentity",
                    Effect: "Allow",
                    Principal: { Federated: arn },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: {
                            "oidc.eks.eu-west-1.amazonaws.com/id/9C8B7A6D5E4F3A2B1C0D9E8F7A6B5C43:sub": "system:serviceaccount:mlflow:mlflow-server",
                            "oidc.eks.eu-west-1.amazonaws.com/id/9C8B7A6D5E4F3A2B1C0D9E8F7A6B5C43:aud": "sts.amazonaws.com",
                        },
                    },
                },
            ],
        });
    });

    it("issuer comes from the provider ARN; other ARNs are refused", () => {
        expect(oidcIssuer(arn)).toBe("oidc.eks.eu-west-1.amazonaws.com/id/9C8B7A6D5E4F3A2B1C0D9E8F7A6B5C43");
        expect(() => oidcIssuer("arn:aws:iam::1:role/x")).toThrow(/not an IAM OIDC provider ARN/);
    });
});

describe("TLS-only bucket statement", () => {
    it("denies every principal any request without TLS, bucket and objects", () => {
        expect(denyInsecureTransport("arn:aws:s3:::b")).toEqual({
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        });
    });
});
