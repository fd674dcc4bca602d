/**
 * A container image the platform builds itself: a private ECR repository (immutable tags, scan on push,
 * KMS encryption, lifecycle rules) and a `docker.Image` that builds a local context and pushes it there.
 * Consumers deploy {@link ContainerImage.imageRef}, the pushed image by digest, never a tag.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of {@link ContainerImage}. */
export interface ContainerImageArgs {
    /** ECR repository name, e.g. `acme/mlops/mlflow` (lower-case, `/`-separated path segments). */
    readonly repositoryName: string;
    /** Directory of the build context (absolute, or relative to the working directory). */
    readonly context: string;
    /** Dockerfile, relative to `context`. Default `Dockerfile`. */
    readonly dockerfile?: string;
    /** Build arguments (`--build-arg`). Default none. */
    readonly buildArgs?: Readonly<Record<string, string>>;
    /** Target platform of the build. Default `linux/amd64` (the cluster's node architecture). */
    readonly platform?: string;
    /**
     * Start of the image tag, e.g. the version of what the image packages. The tag is
     * `<tagPrefix>-<12 hex of the context's content hash>`, so a changed context gets a new tag (tags are immutable).
     */
    readonly tagPrefix: string;
    /** Tagged images kept; older ones expire. Default 30. */
    readonly keepTaggedImages?: number;
    /** Days after which untagged images (superseded layers of a tag-less push) expire. Default 7. */
    readonly untaggedExpiryDays?: number;
    /** KMS key ARN that encrypts the repository; default the account's AWS-managed `aws/ecr` key. */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Protect the repository from deletion and keep it if removed from the program (prod). Default false. */
    readonly protect?: boolean;
}

/**
 * Builds an image from a local context and pushes it to its own ECR repository.
 *
 * Pushing needs registry credentials: they come from `aws.ecr.getAuthorizationTokenOutput`, an invoke run
 * with the stack's AWS provider (the deploy role), so a build machine needs no `docker login` of its own.
 * The build itself needs a Docker daemon and an explicit `docker` provider passed in `providers`.
 */
export class ContainerImage extends pulumi.ComponentResource {
    /** The repository. */
    public readonly repository: aws.ecr.Repository;
    /** `registry/repository` URL of the repository. */
    public readonly repositoryUrl: pulumi.Output<string>;
    /** The immutable tag that was pushed. */
    public readonly tag: string;
    /** The pushed image by digest (`registry/repository@sha256:...`): what to deploy. */
    public readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): a bad argument fails before anything is registered.
        validateContainerImageArgs(args);
        super("mlops:index:ContainerImage", name, {}, opts);

        const dockerfile = args.dockerfile ?? "Dockerfile";
        this.tag = `${args.tagPrefix}-${contextHash(args.context).slice(0, 12)}`;

        this.repository = new aws.ecr.Repository(
            `${name}-repository`,
            {
                name: args.repositoryName,
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS", ...(args.kmsKeyArn ? { kmsKey: args.kmsKeyArn } : {}) }],
                forceDelete: false,
            },
            { parent: this, protect: args.protect === true, retainOnDelete: args.protect === true },
        );
        new aws.ecr.LifecyclePolicy(
            `${name}-lifecycle`,
            {
                repository: this.repository.name,
                policy: JSON.stringify(ecrLifecyclePolicy(args.keepTaggedImages ?? 30, args.untaggedExpiryDays ?? 7)),
            },
            { parent: this },
        );

        // Short-lived (12 h) push credentials for this registry, fetched with the stack's AWS provider.
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, { parent: this });
        this.repositoryUrl = this.repository.repositoryUrl;

        const image = new docker.Image(
            `${name}-image`,
            {
                imageName: pulumi.interpolate`${this.repositoryUrl}:${this.tag}`,
                build: {
                    context: args.context,
                    dockerfile: path.join(args.context, dockerfile),
                    platform: args.platform ?? "linux/amd64",
                    args: { ...(args.buildArgs ?? {}) },
                },
                registry: {
                    server: this.repositoryUrl,
                    username: token.userName,
                    password: pulumi.secret(token.password),
                },
                skipPush: false,
            },
            { parent: this },
        );

        this.imageRef = image.repoDigest;
        this.registerOutputs({ repositoryUrl: this.repositoryUrl, tag: this.tag, imageRef: this.imageRef });
    }
}

/** Checks the arguments before anything is registered. */
export function validateContainerImageArgs(args: ContainerImageArgs): void {
    if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(args.repositoryName) || args.repositoryName.length > 256) {
        throw new Error(
            `ContainerImage: repositoryName "${args.repositoryName}" is not a valid ECR repository name ` +
                `(lower-case letters, digits, ., _ and - in /-separated segments, up to 256 characters).`,
        );
    }
    if (!fs.existsSync(args.context) || !fs.statSync(args.context).isDirectory()) {
        throw new Error(`ContainerImage: build context "${args.context}" is not a directory.`);
    }
    const dockerfile = path.join(args.context, args.dockerfile ?? "Dockerfile");
    if (!fs.existsSync(dockerfile)) {
        throw new Error(`ContainerImage: Dockerfile "${dockerfile}" does not exist.`);
    }
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/.test(args.tagPrefix)) {
        throw new Error(`ContainerImage: tagPrefix "${args.tagPrefix}" must be 1-101 of letters, digits, _, . and -, not starting with . or -.`);
    }
    for (const [key, value, max] of [
        ["keepTaggedImages", args.keepTaggedImages ?? 30, 1000],
        ["untaggedExpiryDays", args.untaggedExpiryDays ?? 7, 365],
    ] as const) {
        if (!Number.isInteger(value) || value < 1 || value > max) {
            throw new Error(`ContainerImage: ${key} must be an integer from 1 to ${max}, got ${value}.`);
        }
    }
    for (const key of Object.keys(args.buildArgs ?? {})) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
            throw new Error(`ContainerImage: build argument "${key}" is not a valid name (letters, digits and _).`);
        }
    }
}

/** An ECR lifecycle rule, as the ECR lifecycle policy JSON spells it. */
export interface EcrLifecycleRule {
    rulePriority: number;
    description: string;
    selection: {
        tagStatus: "tagged" | "untagged" | "any";
        tagPatternList?: string[];
        countType: "imageCountMoreThan" | "sinceImagePushed";
        countUnit?: "days";
        countNumber: number;
    };
    action: { type: "expire" };
}

/** Lifecycle policy: expire untagged images after `untaggedDays`, keep the newest `keepTagged` tagged images. */
export function ecrLifecyclePolicy(keepTagged: number, untaggedDays: number): { rules: EcrLifecycleRule[] } {
    return {
        rules: [
            {
                rulePriority: 1,
                description: `Expire untagged images after ${untaggedDays} days`,
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedDays },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Keep the newest ${keepTagged} tagged images`,
                selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: keepTagged },
                action: { type: "expire" },
            },
        ],
    };
}

/**
 * SHA-256 over every file of a directory (relative path and content, in sorted order; `.git` and
 * `node_modules` skipped): the same context always gives the same hash, any change gives another.
 */
export function contextHash(dir: string): string {
    const hash = createHash("sha256");
    const walk = (rel: string): void => {
        const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const e of entries) {
            if (e.name === ".git" || e.name === "node_modules") continue;
            const child = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) {
                walk(child);
            } else if (e.isFile()) {
                const content = fs.readFileSync(path.join(dir, child));
                hash.update(`${child}\0${content.length}\0`);
                hash.update(content);
            }
        }
    };
    walk("");
    return hash.digest("hex");
}
