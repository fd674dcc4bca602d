import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { artifactBucketName, awsDefaultTags, iamRoleName } from "../components/platform/awsNames";
import { dnsName, IAM_ROLE_MAX, K8S_NAME_MAX, labelKeys, labelValue, S3_BUCKET_MAX, selectorLabels, slug, standardLabels } from "../components/shared/naming";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const anyText = fc.string({ unit: "grapheme-ascii", maxLength: 120 });
const parts = fc.array(anyText, { minLength: 1, maxLength: 5 });

describe("dnsName", () => {
    it("is always a DNS-1123 label within the limit", () => {
        fc.assert(
            fc.property(parts, fc.integer({ min: 12, max: 63 }), (p, max) => {
                const name = dnsName(p, max);
                expect(name.length).toBeLessThanOrEqual(max);
                expect(name).toMatch(DNS_LABEL);
            }),
        );
    });

    it("is deterministic and keeps short names readable", () => {
        expect(dnsName(["acme", "fraud", "scorer"])).toBe("acme-fraud-scorer");
        expect(dnsName(["Team_A", "Model.V2"])).toBe("team-a-model-v2");
        fc.assert(
            fc.property(parts, (p) => {
                expect(dnsName(p)).toBe(dnsName(p));
            }),
        );
    });

    it("does not collide when two long names share a prefix", () => {
        fc.assert(
            fc.property(fc.stringMatching(/^[a-z]{70,90}$/), fc.stringMatching(/^[a-z]{1,10}$/), fc.stringMatching(/^[a-z]{1,10}$/), (stem, a, b) => {
                fc.pre(a !== b);
                expect(dnsName([stem, a])).not.toBe(dnsName([stem, b]));
            }),
        );
    });
});

describe("slug", () => {
    it("keeps only a-z, 0-9 and single inner dashes", () => {
        fc.assert(
            fc.property(anyText, (s) => {
                const out = slug(s);
                expect(out).toMatch(/^([a-z0-9]+(-[a-z0-9]+)*)?$/);
            }),
        );
    });
});

describe("AWS names", () => {
    const cfg = (organization: string, environment: "dev" | "test" | "prod", accountId: string, region: string) => ({
        organization,
        environment,
        aws: { accountId, region },
    });

    it("the artifact bucket name is a valid S3 bucket name for any org/account/region", () => {
        fc.assert(
            fc.property(
                fc.stringMatching(/^[a-z][a-z0-9]{1,11}$/),
                fc.constantFrom("dev" as const, "test" as const, "prod" as const),
                fc.stringMatching(/^\d{12}$/),
                fc.stringMatching(/^[a-z]{2}-(gov-)?[a-z]{4,9}-\d$/),
                (org, env, account, region) => {
                    const name = artifactBucketName(cfg(org, env, account, region));
                    expect(name.length).toBeGreaterThanOrEqual(3);
                    expect(name.length).toBeLessThanOrEqual(S3_BUCKET_MAX);
                    expect(name).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
                    expect(name).not.toMatch(/^xn--|-s3alias$|--ol-s3$/);
                },
            ),
        );
    });

    it("the artifact bucket name is stable and readable", () => {
        expect(artifactBucketName(cfg("acme", "prod", "410987654321", "eu-west-1"))).toBe("acme-mlops-prod-artifacts-410987654321-eu-west-1");
    });

    it("IAM role names stay within 64 characters", () => {
        fc.assert(
            fc.property(fc.stringMatching(/^[a-z][a-z0-9]{1,11}$/), anyText, (org, purpose) => {
                expect(iamRoleName({ organization: org, environment: "prod" }, purpose).length).toBeLessThanOrEqual(IAM_ROLE_MAX);
            }),
        );
    });

    it("default tags carry owner, environment, cost centre and managed-by", () => {
        expect(awsDefaultTags({ owner: "ml-platform", environment: "test", costCentre: "CC-1" })).toEqual({
            owner: "ml-platform",
            environment: "test",
            "cost-centre": "CC-1",
            "managed-by": "pulumi",
            platform: "mlops",
        });
    });
});

describe("labels", () => {
    const ctx = { labelDomain: "acme.io", owner: "ml-platform", environment: "prod" as const, costCentre: "CC-4410" };

    it("label values are always valid Kubernetes label values", () => {
        fc.assert(
            fc.property(anyText, (v) => {
                const out = labelValue(v);
                expect(out.length).toBeLessThanOrEqual(63);
                expect(out).toMatch(LABEL_VALUE);
            }),
        );
    });

    it("standard labels: app.kubernetes.io/* and the organisation's own keys", () => {
        const labels = standardLabels(ctx, { name: "mlflow", component: "tracking-server", version: "3.1.1", team: "fraud" });
        expect(labels).toEqual({
            "app.kubernetes.io/name": "mlflow",
            "app.kubernetes.io/instance": "mlflow",
            "app.kubernetes.io/component": "tracking-server",
            "app.kubernetes.io/part-of": "mlops-platform",
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/version": "3.1.1",
            "mlops.acme.io/team": "fraud",
            "mlops.acme.io/owner": "ml-platform",
            "mlops.acme.io/environment": "prod",
            "mlops.acme.io/cost-centre": "CC-4410",
        });
    });

    it("every generated label set is valid and contains its selector labels", () => {
        fc.assert(
            fc.property(anyText, anyText, fc.option(anyText, { nil: undefined }), (name, component, version) => {
                const args = { name, component, version };
                const labels = standardLabels(ctx, args);
                for (const [k, v] of Object.entries(labels)) {
                    expect(k).toMatch(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
                    expect(v).toMatch(LABEL_VALUE);
                }
                expect(labels).toMatchObject(selectorLabels(args));
                expect(Object.keys(selectorLabels(args))).not.toContain("app.kubernetes.io/version");
            }),
        );
    });

    it("label keys live under mlops.<domain>", () => {
        for (const key of Object.values(labelKeys("example.com"))) expect(key.startsWith("mlops.example.com/")).toBe(true);
    });
});

describe("limits", () => {
    it("K8S_NAME_MAX is the DNS label limit", () => expect(K8S_NAME_MAX).toBe(63));
});
