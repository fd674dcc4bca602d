import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { ArtifactStore, type ArtifactStoreArgs, lifecycleRules, validateArtifactStoreArgs } from "../components/platform/artifactStore";
import { policyOf, runProgram } from "./harness";

const args: ArtifactStoreArgs = { bucketName: "acme-mlops-unit-artifacts", noncurrentVersionExpirationDays: 30, abortIncompleteUploadDays: 3 };

function program(a: ArtifactStoreArgs) {
    return () => {
        const provider = new aws.Provider("aws", { region: "eu-west-1" });
        const store = new ArtifactStore("store", a, { providers: [provider] });
        return { readOnly: store.readOnlyPolicy(["models/fraud"]), readWrite: store.readWritePolicy(["mlflow"]) };
    };
}

describe("ArtifactStore arguments", () => {
    it.each([
        [{ bucketName: "Bad_Name" }, 'ArtifactStore: bucketName "Bad_Name" is not a valid S3 bucket name (3-63 of a-z, 0-9, . and -).'],
        [{ bucketName: "a..b" }, 'ArtifactStore: bucketName "a..b" is not a valid S3 bucket name (3-63 of a-z, 0-9, . and -).'],
        [{ noncurrentVersionExpirationDays: 0 }, "ArtifactStore: noncurrentVersionExpirationDays must be an integer from 1 to 3650, got 0."],
        [{ abortIncompleteUploadDays: 1.5 }, "ArtifactStore: abortIncompleteUploadDays must be an integer from 1 to 365, got 1.5."],
        [{ keyDeletionWindowDays: 3 }, "ArtifactStore: keyDeletionWindowDays must be an integer from 7 to 30, got 3."],
    ])("rejects %j", (override, message) => {
        expect(() => validateArtifactStoreArgs({ ...args, ...override })).toThrow(message);
    });

    it("fails before registering anything", async () => {
        const failure = await runProgram(program({ ...args, bucketName: "X" })).catch((e) => e);
        expect(failure.resources.map((r: { type: string }) => r.type)).toEqual(["pulumi:pulumi:Stack", "pulumi:providers:aws"]);
    });
});

describe("ArtifactStore resources", () => {
    it("protects the bucket and key only when asked (prod)", async () => {
        for (const protect of [false, true]) {
            const run = await runProgram(program({ ...args, protect }));
            for (const type of ["aws:s3/bucket:Bucket", "aws:kms/key:Key"]) {
                expect(run.one(type).options).toMatchObject({ protect, retainOnDelete: protect });
            }
            // Configuration resources are not protected: they can be replaced without losing data.
            expect(run.one("aws:s3/bucketVersioning:BucketVersioning").options.protect).toBe(false);
        }
    });

    it("hands out policy documents scoped to the bucket, prefix and key", async () => {
        const run = await runProgram(program(args));
        const bucketArn = run.one("aws:s3/bucket:Bucket").outputs.arn;
        const keyArn = run.one("aws:kms/key:Key").outputs.arn;
        const out = run.outputs();
        const readOnly = policyOf(out.readOnly);
        expect(readOnly.Statement.find((s: any) => s.Sid === "ReadObjects").Resource).toEqual([`${bucketArn}/models/fraud/*`]);
        expect(readOnly.Statement.find((s: any) => s.Sid === "DecryptWithBucketKey").Resource).toBe(keyArn);
        const readWrite = policyOf(out.readWrite);
        expect(readWrite.Statement.find((s: any) => s.Sid === "ReadWriteObjects").Resource).toEqual([`${bucketArn}/mlflow/*`]);
        expect(JSON.stringify(readWrite)).not.toMatch(/"s3:\*"|"Resource":"\*"/);
    });

    it("names the key alias after the bucket", async () => {
        const run = await runProgram(program(args));
        expect(run.inputs(run.one("aws:kms/alias:Alias")).name).toBe("alias/acme-mlops-unit-artifacts");
    });
});

describe("lifecycleRules", () => {
    it("expires noncurrent versions and delete markers, aborts stale uploads", () => {
        expect(lifecycleRules({ noncurrentVersionExpirationDays: 9, abortIncompleteUploadDays: 2 })).toEqual([
            {
                id: "expire-noncurrent-versions",
                status: "Enabled",
                filter: { prefix: "" },
                noncurrentVersionExpiration: { noncurrentDays: 9 },
                expiration: { expiredObjectDeleteMarker: true },
            },
            { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 2 } },
        ]);
    });
});
