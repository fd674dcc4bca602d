/**
 * ContainerImage: the ECR repository settings, the build and push of images/mlflow, and the pure helpers
 * (lifecycle policy, context hash, argument validation).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parsePlatformConfig } from "../stacks/config";
import { contextHash, type ContainerImageArgs, ecrLifecyclePolicy, validateContainerImageArgs } from "../components/team/containerImage";
import { configNamespace } from "../engine/project";
import { DRIFT_CHECK_VERSION } from "../stacks/platform";
import { ROOT, runStack, type StackRun, STACKS } from "./harness";

const MLFLOW_CONTEXT = path.join(ROOT, "images", "mlflow");

describe.each(STACKS)("the MLflow server image in %s", (stack) => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack(stack);
    });

    it("lives in a private ECR repository: immutable tags, scan on push, KMS, never force-deleted", () => {
        const repo = run.one("aws:ecr/repository:Repository", "mlflow-image-repository");
        expect(run.inputs(repo)).toEqual({
            name: "acme/mlops/mlflow",
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
            encryptionConfigurations: [{ encryptionType: "KMS" }],
            forceDelete: false,
        });
        expect(repo.options.protect).toBe(stack === "prod");
        expect(repo.options.retainOnDelete).toBe(stack === "prod");
    });

    it("expires untagged images and keeps the newest tagged ones", () => {
        const lifecycle = run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "mlflow-image-lifecycle");
        const repo = run.one("aws:ecr/repository:Repository", "mlflow-image-repository");
        expect(run.inputs(lifecycle).repository).toBe(repo.outputs.name);
        expect(JSON.parse(run.inputs(lifecycle).policy)).toEqual(ecrLifecyclePolicy(30, 7));
    });

    it("builds images/mlflow for linux/amd64 with the configured MLflow version and pushes a content-addressed tag", () => {
        const image = run.one("docker:index/image:Image", "mlflow-image-image");
        const inputs = run.inputs(image);
        const repoUrl = run.one("aws:ecr/repository:Repository", "mlflow-image-repository").outputs.repositoryUrl as string;
        expect(repoUrl).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/acme\/mlops\/mlflow$/);
        const tag = `3.1.1-${contextHash(MLFLOW_CONTEXT).slice(0, 12)}`;
        expect(inputs.imageName).toBe(`${repoUrl}:${tag}`);
        // Relative to the program's directory, stacks/, where the Pulumi CLI runs the program (and the provider).
        expect(inputs.build).toEqual({
            context: path.join("..", "images", "mlflow"),
            dockerfile: path.join("..", "images", "mlflow", "Dockerfile"),
            platform: "linux/amd64",
            args: { MLFLOW_VERSION: "3.1.1" },
        });
        expect(inputs.skipPush).toBe(false);
        expect(inputs.registry.server).toBe(repoUrl);
        expect(run.isSecretInput(image, "registry") || JSON.stringify(image.inputs.registry).includes("1b47061264138c4ac30d75fd1eb44270")).toBe(true);
    });

    it("builds and pushes with an explicit docker provider, not a default one", () => {
        const provider = run.one("pulumi:providers:docker");
        expect(provider.name).toBe(`docker-${stack}`);
        for (const image of run.ofType("docker:index/image:Image")) expect(image.provider.startsWith(provider.urn)).toBe(true);
    });

    it("deploys the pushed image by digest, and exports that reference", () => {
        const digestRef = run.one("docker:index/image:Image", "mlflow-image-image").outputs.repoDigest as string;
        expect(digestRef).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/acme\/mlops\/mlflow@sha256:[a-f0-9]{64}$/);
        const deployment = run.k8sOfKind("Deployment", "mlflow")[0] as any;
        const images = [...deployment.spec.template.spec.initContainers, ...deployment.spec.template.spec.containers].map((c: any) => c.image);
        expect(new Set(images)).toEqual(new Set([digestRef]));
        const gc = run.k8sOfKind("CronJob", "mlflow").find((o) => o.metadata.name === "mlflow-gc") as any;
        expect(gc.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(digestRef);
        expect(run.outputs().mlflowImage).toBe(digestRef);
    });
});

describe("a prebuilt MLflow image (mlops:mlflow.image)", () => {
    const prebuilt = `310987654321.dkr.ecr.eu-west-1.amazonaws.com/acme/mlops/mlflow@sha256:${"ab".repeat(32)}`;
    let run: StackRun;
    beforeAll(async () => {
        const raw = (await import("yaml")).parse(fs.readFileSync(path.join(ROOT, "Pulumi.test.yaml"), "utf8")).config["mlops:mlflow"];
        // The Feast and TensorBoard images prebuilt too, so that the stack builds nothing at all.
        run = await runStack("test", {
            "mlops:mlflow": JSON.stringify({ ...raw, image: prebuilt }),
            "mlops:featureStore": JSON.stringify({ image: prebuilt.replace("/mlflow@", "/feast@") }),
            "mlops:tensorboard": JSON.stringify({ image: prebuilt.replace("/mlflow@", "/tensorboard@") }),
        });
    });

    it("builds nothing: no repository, no docker image, no docker provider", () => {
        // Pulumi.test.yaml names a prebuilt drift-check image too.
        expect(run.ofType("aws:ecr/repository:Repository")).toEqual([]);
        expect(run.ofType("docker:index/image:Image")).toEqual([]);
        expect(run.ofType("pulumi:providers:docker")).toEqual([]);
    });

    it("runs the configured reference everywhere", () => {
        const deployment = run.k8sOfKind("Deployment", "mlflow")[0] as any;
        for (const c of [...deployment.spec.template.spec.initContainers, ...deployment.spec.template.spec.containers]) {
            expect(c.image).toBe(prebuilt);
        }
        expect(run.outputs().mlflowImage).toBe(prebuilt);
    });
});

describe("ecrLifecyclePolicy", () => {
    it("expires untagged images first, then tagged images beyond the newest N", () => {
        expect(ecrLifecyclePolicy(20, 3)).toEqual({
            rules: [
                {
                    rulePriority: 1,
                    description: "Expire untagged images after 3 days",
                    selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 3 },
                    action: { type: "expire" },
                },
                {
                    rulePriority: 2,
                    description: "Keep the newest 20 tagged images",
                    selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 20 },
                    action: { type: "expire" },
                },
            ],
        });
    });

    it("has unique priorities and only expire actions, for any counts", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 365 }), (keep, days) => {
                const { rules } = ecrLifecyclePolicy(keep, days);
                expect(new Set(rules.map((r) => r.rulePriority)).size).toBe(rules.length);
                expect(rules.every((r) => r.action.type === "expire")).toBe(true);
                // A rule with tagStatus "any" would have to come last; there is none.
                expect(rules.some((r) => r.selection.tagStatus === "any")).toBe(false);
            }),
        );
    });
});

describe("contextHash", () => {
    const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "ctx-"));

    it("is stable for the same content and changes with any file's content or name", () => {
        const a = tmp();
        fs.writeFileSync(path.join(a, "Dockerfile"), "FROM scratch\n");
        fs.mkdirSync(path.join(a, "sub"));
        fs.writeFileSync(path.join(a, "sub", "x.txt"), "x");
        const before = contextHash(a);
        expect(contextHash(a)).toBe(before);
        fs.writeFileSync(path.join(a, "sub", "x.txt"), "y");
        expect(contextHash(a)).not.toBe(before);
        fs.writeFileSync(path.join(a, "sub", "x.txt"), "x");
        expect(contextHash(a)).toBe(before);
        fs.renameSync(path.join(a, "sub", "x.txt"), path.join(a, "sub", "z.txt"));
        expect(contextHash(a)).not.toBe(before);
    });

    it("does not depend on where the directory is", () => {
        const a = tmp();
        const b = tmp();
        for (const d of [a, b]) fs.writeFileSync(path.join(d, "Dockerfile"), "FROM scratch\n");
        expect(contextHash(a)).toBe(contextHash(b));
    });
});

describe("validateContainerImageArgs", () => {
    const valid: ContainerImageArgs = { repositoryName: "acme/mlops/mlflow", context: MLFLOW_CONTEXT, tagPrefix: "3.1.1" };

    it("accepts the platform's arguments", () => {
        expect(() => validateContainerImageArgs(valid)).not.toThrow();
    });

    it.each([
        [{ repositoryName: "Acme/MLflow" }, /not a valid ECR repository name/],
        [{ repositoryName: "acme//mlflow" }, /not a valid ECR repository name/],
        [{ context: "/does/not/exist" }, /is not a directory/],
        [{ dockerfile: "Missing.Dockerfile" }, /does not exist/],
        [{ tagPrefix: "-bad" }, /tagPrefix/],
        [{ keepTaggedImages: 0 }, /keepTaggedImages must be an integer from 1 to 1000, got 0/],
        [{ untaggedExpiryDays: 1.5 }, /untaggedExpiryDays/],
        [{ buildArgs: { "MLFLOW-VERSION": "3" } }, /build argument "MLFLOW-VERSION"/],
    ] as const)("rejects %o", (change, message) => {
        expect(() => validateContainerImageArgs({ ...valid, ...change })).toThrow(message);
    });
});

const DRIFT_CHECK_CONTEXT = path.join(ROOT, "images", "drift-check");

describe("the drift-check image", () => {
    it("is built from images/drift-check in dev (no prebuilt image configured) and the CronJob runs it by digest", async () => {
        const run = await runStack("dev");
        const repo = run.one("aws:ecr/repository:Repository", "drift-check-image-repository");
        expect(run.inputs(repo)).toMatchObject({
            name: "acme/mlops/drift-check",
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
        });
        const image = run.one("docker:index/image:Image", "drift-check-image-image");
        const inputs = run.inputs(image);
        expect(inputs.imageName).toBe(`${repo.outputs.repositoryUrl}:${DRIFT_CHECK_VERSION}-${contextHash(DRIFT_CHECK_CONTEXT).slice(0, 12)}`);
        // Relative to stacks/, where the Pulumi CLI runs the program (and the Docker provider).
        expect(inputs.build).toEqual({
            context: path.join("..", "images", "drift-check"),
            dockerfile: path.join("..", "images", "drift-check", "Dockerfile"),
            platform: "linux/amd64",
            args: {},
        });
        const digestRef = image.outputs.repoDigest as string;
        expect(digestRef).toMatch(/\/acme\/mlops\/drift-check@sha256:[a-f0-9]{64}$/);
        const cronJobs = run.k8sOfKind("CronJob", "ml-fraud") as any[];
        expect(cronJobs.map((c) => c.spec.jobTemplate.spec.template.spec.containers[0].image)).toEqual([digestRef]);
    });

    it.each(["test", "prod"] as const)("is the configured prebuilt digest in %s: nothing is built", async (stack) => {
        const run = await runStack(stack);
        // MLflow, Feast and TensorBoard are built from images/ in these stacks; the drift check is not.
        expect(run.ofType("aws:ecr/repository:Repository").map((r) => r.name)).toEqual([
            "mlflow-image-repository",
            "feast-image-repository",
            "tensorboard-image-repository",
        ]);
        const cronJob = (run.k8sOfKind("CronJob", "ml-fraud") as any[])[0];
        const cfg = parsePlatformConfig(configNamespace(run.recording.stackConfig.config, "mlops"), stack);
        expect(cfg.monitoring.driftCheckImage).toMatch(/@sha256:[a-f0-9]{64}$/);
        expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(cfg.monitoring.driftCheckImage);
    });

    it("the CronJob renders every variable and argument the program requires (images/drift-check/drift_check/__main__.py)", async () => {
        const main = fs.readFileSync(path.join(DRIFT_CHECK_CONTEXT, "drift_check", "__main__.py"), "utf8");
        const required = [.../REQUIRED_ENV = \(([^)]*)\)/.exec(main)![1].matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]);
        expect(required).toContain("MLOPS_PUSHGATEWAY_URL");
        const run = await runStack("dev");
        const c = (run.k8sOfKind("CronJob", "ml-fraud") as any[])[0].spec.jobTemplate.spec.template.spec.containers[0];
        const rendered = c.env.filter((e: any) => e.value !== undefined).map((e: any) => e.name);
        expect(required.filter((n) => !rendered.includes(n))).toEqual([]);
        expect(c.command).toBeUndefined(); // the image's ENTRYPOINT runs the program
        expect(c.args.filter((a: string) => a.startsWith("--"))).toEqual(["--model", "--alias", "--window-hours"]);
        for (const flag of c.args.filter((a: string) => a.startsWith("--"))) expect(main).toContain(`check.add_argument("${flag}"`);
        expect(c.args[0]).toBe("check");
        expect(fs.readFileSync(path.join(DRIFT_CHECK_CONTEXT, "Dockerfile"), "utf8")).toMatch(/^ENTRYPOINT \["python3", "-m", "drift_check"\]$/m);
    });

    it("its tag prefix is the program's release", () => {
        const init = fs.readFileSync(path.join(DRIFT_CHECK_CONTEXT, "drift_check", "__init__.py"), "utf8");
        expect(init).toContain(`__version__ = "${DRIFT_CHECK_VERSION}"`);
    });
});
