import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type BucketAccess, denyInsecureTransport, type PolicyDocument, s3ReadPolicy, s3ReadWritePolicy, s3WriteOnlyPolicy } from "./iam";

/** Arguments of {@link ArtifactStore}. */
export interface ArtifactStoreArgs {
    /** Globally unique bucket name; use `artifactBucketName(cfg)` for the platform's stable name. */
    readonly bucketName: string;
    /** Days a noncurrent object version is kept before it expires. */
    readonly noncurrentVersionExpirationDays: number;
    /** Days after which incomplete multipart uploads are aborted. */
    readonly abortIncompleteUploadDays: number;
    /** Existing bucket that receives server access logs; omit for no access logging. */
    readonly accessLogBucket?: string;
    /** Protect the bucket and key from deletion and keep them if removed from the program (prod). Default false. */
    readonly protect?: boolean;
    /** KMS key deletion window in days (7-30). Default 30. */
    readonly keyDeletionWindowDays?: number;
}

/**
 * The platform's artifact store: a private, versioned S3 bucket encrypted with its own rotating KMS key,
 * reachable only over TLS, with lifecycle rules and optional access logging. Other components get
 * access through the scoped policy documents it hands out, never `s3:*`.
 */
export class ArtifactStore extends pulumi.ComponentResource {
    /** Name of the bucket. */
    public readonly bucketName: pulumi.Output<string>;
    /** ARN of the bucket. */
    public readonly bucketArn: pulumi.Output<string>;
    /** ARN of the KMS key that encrypts the bucket. */
    public readonly kmsKeyArn: pulumi.Output<string>;
    /** The bucket resource, for dependencies. */
    public readonly bucket: aws.s3.Bucket;
    /** The KMS key resource. */
    public readonly kmsKey: aws.kms.Key;

    constructor(name: string, args: ArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        validateArtifactStoreArgs(args); // before super(): bad args register nothing
        super("mlops:index:ArtifactStore", name, {}, opts);

        const stateful: pulumi.CustomResourceOptions = { parent: this, protect: args.protect === true, retainOnDelete: args.protect === true };
        const child: pulumi.CustomResourceOptions = { parent: this };

        this.kmsKey = new aws.kms.Key(
            `${name}-key`,
            {
                description: `Encrypts the MLOps artifact bucket ${args.bucketName}`,
                enableKeyRotation: true,
                deletionWindowInDays: args.keyDeletionWindowDays ?? 30,
                keyUsage: "ENCRYPT_DECRYPT",
                customerMasterKeySpec: "SYMMETRIC_DEFAULT",
            },
            stateful,
        );
        new aws.kms.Alias(`${name}-key-alias`, { name: `alias/${args.bucketName}`, targetKeyId: this.kmsKey.keyId }, child);

        this.bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: args.bucketName, forceDestroy: false }, stateful);
        const bucketId = this.bucket.id;

        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            { bucket: bucketId, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            child,
        );
        new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucketId, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
        const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucketId, versioningConfiguration: { status: "Enabled" } }, child);
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-encryption`,
            {
                bucket: bucketId,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.kmsKey.arn },
                        bucketKeyEnabled: true,
                    },
                ],
            },
            child,
        );
        // S3 rejects a bucket policy while the public access block is being applied: order them.
        new aws.s3.BucketPolicy(
            `${name}-policy`,
            { bucket: bucketId, policy: pulumi.jsonStringify(artifactBucketPolicy(this.bucket.arn)) },
            { parent: this, dependsOn: [publicAccess] },
        );
        // Noncurrent-version rules need versioning in place first (AWS applies them to versioned buckets).
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            { bucket: bucketId, rules: lifecycleRules(args) },
            { parent: this, dependsOn: [versioning] },
        );
        if (args.accessLogBucket) {
            new aws.s3.BucketLogging(
                `${name}-access-logging`,
                { bucket: bucketId, targetBucket: args.accessLogBucket, targetPrefix: `${args.bucketName}/` },
                child,
            );
        }

        this.bucketName = this.bucket.bucket;
        this.bucketArn = this.bucket.arn;
        this.kmsKeyArn = this.kmsKey.arn;
        this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn });
    }

    /** Where access is granted: this bucket and key, limited to `prefixes`. */
    access(prefixes: readonly string[]): BucketAccess {
        return { bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn, prefixes };
    }

    /** IAM policy JSON: read objects under `prefixes` and decrypt with the bucket key. */
    readOnlyPolicy(prefixes: readonly string[]): pulumi.Output<string> {
        return pulumi.jsonStringify(s3ReadPolicy(this.access(prefixes)));
    }

    /** IAM policy JSON: read, write and delete objects under `prefixes`, using the bucket key. */
    readWritePolicy(prefixes: readonly string[]): pulumi.Output<string> {
        return pulumi.jsonStringify(s3ReadWritePolicy(this.access(prefixes)));
    }

    /** IAM policy JSON: put objects (no read, no delete) under `prefixes`. */
    writeOnlyPolicy(prefixes: readonly string[]): pulumi.Output<string> {
        return pulumi.jsonStringify(s3WriteOnlyPolicy(this.access(prefixes)));
    }
}

/** Checks the arguments before anything is registered. */
export function validateArtifactStoreArgs(args: ArtifactStoreArgs): void {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(args.bucketName) || args.bucketName.includes("..")) {
        throw new Error(`ArtifactStore: bucketName "${args.bucketName}" is not a valid S3 bucket name (3-63 of a-z, 0-9, . and -).`);
    }
    for (const [key, value, max] of [
        ["noncurrentVersionExpirationDays", args.noncurrentVersionExpirationDays, 3650],
        ["abortIncompleteUploadDays", args.abortIncompleteUploadDays, 365],
    ] as const) {
        if (!Number.isInteger(value) || value < 1 || value > max) {
            throw new Error(`ArtifactStore: ${key} must be an integer from 1 to ${max}, got ${value}.`);
        }
    }
    const window = args.keyDeletionWindowDays ?? 30;
    if (!Number.isInteger(window) || window < 7 || window > 30) {
        throw new Error(`ArtifactStore: keyDeletionWindowDays must be an integer from 7 to 30, got ${window}.`);
    }
}

/** The bucket policy: TLS only. */
export function artifactBucketPolicy(bucketArn: pulumi.Input<string>): PolicyDocument {
    return { Version: "2012-10-17", Statement: [denyInsecureTransport(bucketArn)] };
}

/** Lifecycle rules: expire noncurrent versions and delete markers, abort stale multipart uploads. */
export function lifecycleRules(
    args: Pick<ArtifactStoreArgs, "noncurrentVersionExpirationDays" | "abortIncompleteUploadDays">,
): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
    return [
        {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
            expiration: { expiredObjectDeleteMarker: true },
        },
        {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: args.abortIncompleteUploadDays },
        },
    ];
}
