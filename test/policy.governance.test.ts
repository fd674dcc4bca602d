/**
 * The governance pack, policy by policy, on synthetic resources labelled with the keys of
 * the contract (components/contract), as ModelService and BatchInference write them.
 */
import { describe, expect, it } from "vitest";
import { awsOwnershipTags } from "../policy/rules/governance/awsOwnershipTags";
import { environmentMatchesStack } from "../policy/rules/governance/environmentMatchesStack";
import { imageDigestPinned } from "../policy/rules/governance/imageDigestPinned";
import { parseImage } from "../policy/rules/governance/imageCommon";
import { imageRegistryAllowed } from "../policy/rules/governance/imageRegistryAllowed";
import { imageTagNotLatest } from "../policy/rules/governance/imageTagNotLatest";
import { kubernetesOwnershipLabels } from "../policy/rules/governance/kubernetesOwnershipLabels";
import { modelApprovalRecord } from "../policy/rules/governance/modelApprovalRecord";
import { modelUriProblem, modelVersionPinned } from "../policy/rules/governance/modelVersionPinned";
import { noCrossEnvironmentReferences, otherEnvironment } from "../policy/rules/governance/noCrossEnvironmentReferences";
import * as f from "./policies/fixtures";
import {
    assertHasResourceViolation,
    assertHasStackViolation,
    assertNoResourceViolations,
    assertNoStackViolations,
    assertResourceNotApplicable,
    context,
    createResourceValidationArgs,
    createStackValidationArgs,
    resourcePolicy,
    runResourcePolicy,
    runStackPolicy,
    stackPolicy,
    type TestResource,
    UNKNOWN,
    variant,
} from "./policies/util";

const REF = "Deployment team-fraud/fraud";
const deployment = (mutate: (d: Record<string, any>) => void = () => {}) => variant(f.modelDeployment(), mutate);
const container = (d: Record<string, any>) => d.spec.template.spec.containers[0];

describe("model-approval-record", () => {
    const policy = resourcePolicy(modelApprovalRecord);
    const args = (d: Record<string, any>, type = f.DEPLOYMENT) => createResourceValidationArgs(type, d, { factory: modelApprovalRecord });

    it("passes an approved prod Deployment and CronJob", async () => {
        await assertNoResourceViolations(policy, args(deployment()));
        await assertNoResourceViolations(policy, args(f.modelCronJob(), f.CRONJOB));
    });
    it("accepts the record as labels or on the pod template", async () => {
        await assertNoResourceViolations(
            policy,
            args(
                deployment((d) => {
                    d.spec.template.metadata.annotations = d.metadata.annotations;
                    delete d.metadata.annotations;
                }),
            ),
        );
    });
    it("reports a model workload without any approval", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => delete d.metadata.annotations)),
            `${REF} has no approval record: set ${f.K.approvedBy}, ${f.K.approvalTicket} and ${f.K.approvalDate}.`,
        );
    });
    it("reports a missing approver", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => delete d.metadata.annotations[f.K.approvedBy])),
            `${REF}: ${f.K.approvedBy} is missing or empty.`,
        );
    });
    it("reports a ticket that does not match the pattern", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => (d.metadata.annotations[f.K.approvalTicket] = "see slack"))),
            `${REF}: ${f.K.approvalTicket} "see slack" does not match ^[A-Z][A-Z0-9]+-\\d+$.`,
        );
    });
    it("uses the configured ticket pattern", async () => {
        const a = createResourceValidationArgs(f.DEPLOYMENT, deployment(), { factory: modelApprovalRecord, config: { ticketPattern: "^CHG\\d{7}$" } });
        await assertHasResourceViolation(policy, a, `${REF}: ${f.K.approvalTicket} "MLOPS-1234" does not match ^CHG\\d{7}$.`);
    });
    it.each(["01/06/2025", "2025-02-30", "2025-06-01T09:30:00Z"])(
        "reports the date %s, which is not a date written YYYY-MM-DD (the contract's form, a label value)",
        async (date) => {
            await assertHasResourceViolation(
                policy,
                args(deployment((d) => (d.metadata.annotations[f.K.approvalDate] = date))),
                `${REF}: ${f.K.approvalDate} "${date}" is not a date written YYYY-MM-DD.`,
            );
        },
    );
    it("reports an approver that is not a user or group name", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => (d.metadata.annotations[f.K.approvedBy] = "Jane Doe (on leave)"))),
            `${REF}: ${f.K.approvedBy} "Jane Doe (on leave)" is not a user or group name (like jane.doe).`,
        );
    });
    it("reports a date in the future", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => (d.metadata.annotations[f.K.approvalDate] = "2025-07-01"))),
            `${REF}: ${f.K.approvalDate} 2025-07-01 is in the future.`,
        );
    });
    it("reports an expired approval, with the configured age", async () => {
        const old = deployment((d) => (d.metadata.annotations[f.K.approvalDate] = "2025-01-01"));
        await assertHasResourceViolation(
            policy,
            args(old),
            `${REF}: the approval of 2025-01-01 is 165 days old; approvals expire after 90 days: re-approve the model version.`,
        );
        await assertNoResourceViolations(policy, createResourceValidationArgs(f.DEPLOYMENT, old, { config: { maxApprovalAgeDays: 365 } }));
    });
    it("applies in prod only, to model workloads only", async () => {
        await assertResourceNotApplicable(
            resourcePolicy(modelApprovalRecord, context("dev")),
            args(deployment((d) => delete d.metadata.annotations)),
            "applies in prod only, not in dev",
        );
        await assertResourceNotApplicable(
            policy,
            args(
                deployment((d) => {
                    delete d.metadata.labels[f.K.model];
                    delete d.spec.template.metadata.labels[f.K.model];
                }),
            ),
            `not a model workload (no ${f.K.model} label)`,
        );
        await assertResourceNotApplicable(policy, args(f.modelService(), f.SERVICE), "does not apply to this resource type");
    });
    it("is not applicable when the stack's environment is unknown", async () => {
        await assertResourceNotApplicable(resourcePolicy(modelApprovalRecord, context(null)), args(deployment()), "the stack's environment is not known");
    });
});

describe("model-version-pinned", () => {
    const policy = resourcePolicy(modelVersionPinned);
    const args = (d: Record<string, any>) => createResourceValidationArgs(f.DEPLOYMENT, d, { factory: modelVersionPinned });
    const setVersion = (v: string) => (d: Record<string, any>) => {
        d.metadata.labels[f.K.modelVersion] = v;
        d.spec.template.metadata.labels[f.K.modelVersion] = v;
    };

    it("passes a pinned version with a matching MODEL_URI", async () => {
        await assertNoResourceViolations(policy, args(deployment()));
        await assertNoResourceViolations(policy, createResourceValidationArgs(f.CRONJOB, f.modelCronJob()));
    });
    it("reports a missing version label", async () => {
        await assertHasResourceViolation(
            policy,
            args(
                deployment((d) => {
                    delete d.metadata.labels[f.K.modelVersion];
                    delete d.spec.template.metadata.labels[f.K.modelVersion];
                }),
            ),
            `${REF} does not pin a model version: set the ${f.K.modelVersion} label to the registered version number.`,
        );
    });
    it("reports latest and stages", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment(setVersion("latest"))),
            `${REF}: the ${f.K.modelVersion} label is latest; expected a registered version number.`,
        );
        await assertHasResourceViolation(
            policy,
            args(deployment(setVersion("Production"))),
            `${REF}: the ${f.K.modelVersion} label is the stage or alias "Production"; expected a registered version number.`,
        );
    });
    it("reports copies that disagree", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => (d.spec.template.metadata.labels[f.K.modelVersion] = "8"))),
            `${REF}: the ${f.K.modelVersion} copies disagree (7, 8).`,
        );
    });
    it("reports a MODEL_URI on a stage, an alias or latest", async () => {
        const uri = (value: string) => args(deployment((d) => (container(d).env[0].value = value)));
        await assertHasResourceViolation(
            policy,
            uri("models:/fraud/Production"),
            `${REF}: container "server" sets MODEL_URI="models:/fraud/Production", the stage or alias "Production" instead of a version number.`,
        );
        await assertHasResourceViolation(
            policy,
            uri("models:/fraud/latest"),
            `${REF}: container "server" sets MODEL_URI="models:/fraud/latest", latest instead of a version number.`,
        );
        await assertHasResourceViolation(
            policy,
            uri("models:/fraud@champion"),
            `${REF}: container "server" sets MODEL_URI="models:/fraud@champion", the alias "@champion" (an alias moves; pin models:/<name>/<version>).`,
        );
    });
    it("reports a MODEL_URI whose version differs from the label", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => (container(d).env[0].value = "models:/fraud/6"))),
            `${REF}: container "server" sets MODEL_URI="models:/fraud/6" but ${f.K.modelVersion} is 7.`,
        );
    });
    it("reports a MODEL_URI from valueFrom", async () => {
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => (container(d).env[0] = { name: "MODEL_URI", valueFrom: { configMapKeyRef: { name: "m", key: "uri" } } }))),
            `${REF}: container "server" takes MODEL_URI from valueFrom: set it as a literal models:/<name>/<version> so the pinned version is reviewable.`,
        );
    });
    it("checks the model-uri annotation too", async () => {
        await assertNoResourceViolations(
            policy,
            args(deployment((d) => (d.metadata.annotations[f.K.model.replace(/model$/, "model-uri")] = "models:/fraud/7"))),
        );
        await assertHasResourceViolation(
            policy,
            args(deployment((d) => (d.metadata.annotations["mlops.acme.io/model-uri"] = "models:/fraud@champion"))),
            `${REF}: the mlops.acme.io/model-uri annotation is "models:/fraud@champion", the alias "@champion" (an alias moves; pin models:/<name>/<version>).`,
        );
    });
    it("classifies model URIs", () => {
        expect(modelUriProblem("models:/fraud/12")).toBeUndefined();
        expect(modelUriProblem("runs:/abc/model")).toBe("not a registry URI models:/<name>/<version>");
    });
});

describe("image policies", () => {
    const withImage = (image: string, where: "containers" | "initContainers" = "containers") =>
        createResourceValidationArgs(
            f.DEPLOYMENT,
            deployment((d) => (d.spec.template.spec[where][0].image = image)),
            { factory: imageRegistryAllowed },
        );

    it("parse image references as runtimes do", () => {
        expect(parseImage("postgres:16.4")).toEqual({ registry: "docker.io", repository: "library/postgres", tag: "16.4", digest: undefined });
        expect(parseImage(f.IMAGE)).toEqual({ registry: f.REGISTRY, repository: "acme/models/fraud", tag: undefined, digest: f.DIGEST });
        expect(parseImage("localhost:5000/x:1")).toMatchObject({ registry: "localhost:5000", repository: "x", tag: "1" });
        expect(parseImage("Bad Image")).toBeUndefined();
    });
    it("image-registry-allowed passes ECR and reports others (init containers too)", async () => {
        const policy = resourcePolicy(imageRegistryAllowed);
        await assertNoResourceViolations(policy, withImage(f.IMAGE));
        await assertHasResourceViolation(
            policy,
            withImage("docker.io/library/python:3.12", "initContainers"),
            `${REF}: initContainer "download-model" pulls docker.io/library/python, which is not in an allowed registry (*.dkr.ecr.*.amazonaws.com/*).`,
        );
        const restricted = createResourceValidationArgs(f.DEPLOYMENT, deployment(), {
            config: { allowedRegistries: ["210987654321.dkr.ecr.eu-west-1.amazonaws.com/*"] },
        });
        await assertHasResourceViolation(
            policy,
            restricted,
            `${REF}: container "server" pulls ${f.REGISTRY}/acme/models/fraud, which is not in an allowed registry (210987654321.dkr.ecr.eu-west-1.amazonaws.com/*).`,
        );
    });
    it("image-tag-not-latest reports explicit and implicit latest", async () => {
        const policy = resourcePolicy(imageTagNotLatest);
        await assertNoResourceViolations(policy, withImage(`${f.REGISTRY}/acme/models/fraud:1.4.2`));
        await assertHasResourceViolation(
            policy,
            withImage(`${f.REGISTRY}/acme/models/fraud:latest`),
            `${REF}: container "server" uses "${f.REGISTRY}/acme/models/fraud:latest" with the latest tag: pin a version or digest.`,
        );
        await assertHasResourceViolation(
            policy,
            withImage(`${f.REGISTRY}/acme/models/fraud`),
            `${REF}: container "server" uses "${f.REGISTRY}/acme/models/fraud" without tag or digest, which means latest: pin a version or digest.`,
        );
    });
    it("image-tag-not-latest looks into CronJob templates", async () => {
        const cron = variant(f.modelCronJob(), (c) => (c.spec.jobTemplate.spec.template.spec.containers[0].image = "busybox"));
        await assertHasResourceViolation(
            resourcePolicy(imageTagNotLatest),
            createResourceValidationArgs(f.CRONJOB, cron),
            'CronJob team-fraud/fraud-batch: container "server" uses "busybox" without tag or digest, which means latest: pin a version or digest.',
        );
    });
    it("image-digest-pinned requires a digest in test and prod, not in dev", async () => {
        const tagged = withImage(`${f.REGISTRY}/acme/models/fraud:1.4.2`);
        await assertHasResourceViolation(
            resourcePolicy(imageDigestPinned),
            tagged,
            `${REF}: container "server" uses "${f.REGISTRY}/acme/models/fraud:1.4.2" without a digest: deploy repo@sha256:<digest>.`,
        );
        await assertHasResourceViolation(
            resourcePolicy(imageDigestPinned, context("test")),
            tagged,
            `${REF}: container "server" uses "${f.REGISTRY}/acme/models/fraud:1.4.2" without a digest: deploy repo@sha256:<digest>.`,
        );
        await assertResourceNotApplicable(resourcePolicy(imageDigestPinned, context("dev")), tagged, "applies in test, prod only, not in dev");
    });
    it("are not applicable while an image is unknown (preview)", async () => {
        await assertResourceNotApplicable(
            resourcePolicy(imageTagNotLatest),
            withImage(UNKNOWN),
            "unknown during preview: string value at .spec.template.spec.containers.0.image",
        );
    });
});

describe("aws-ownership-tags", () => {
    const policy = stackPolicy(awsOwnershipTags);
    const bucket = (tags?: Record<string, string>, provider = "aws-prod"): TestResource => ({
        type: f.BUCKET,
        name: "bucket",
        provider,
        props: { bucket: f.BUCKET_NAME, ...(tags ? { tags } : {}) },
    });
    const args = (resources: TestResource[]) => createStackValidationArgs(resources, { factory: awsOwnershipTags });

    it("counts the provider's default tags", async () => {
        await assertNoStackViolations(policy, args([f.awsProvider(), bucket()]));
    });
    it("reports tags missing from both the resource and its provider", async () => {
        await assertHasStackViolation(
            policy,
            args([f.awsProvider({ owner: "ml-platform", environment: "prod" }), bucket()]),
            'aws:s3/bucket:Bucket "bucket" is missing the tag(s) cost-centre: set them in the defaultTags of provider aws-prod or on the resource.',
            "::bucket",
        );
    });
    it("accepts tags set on the resource itself", async () => {
        await assertNoStackViolations(policy, args([f.awsProvider({ owner: "ml-platform", environment: "prod" }), bucket({ "cost-centre": "CC-1" })]));
    });
    it("joins each resource with its own provider", async () => {
        const other: TestResource = { type: f.AWS_PROVIDER, name: "aws-untagged", props: { region: "eu-west-1" } };
        await assertHasStackViolation(
            policy,
            args([f.awsProvider(), other, bucket(undefined, "aws-untagged")]),
            'aws:s3/bucket:Bucket "bucket" is missing the tag(s) owner, environment, cost-centre: set them in the defaultTags of provider aws-untagged or on the resource.',
        );
    });
    it("ignores resource types that take no tags", async () => {
        await assertNoStackViolations(policy, args([{ type: f.VERSIONING, name: "v", props: { bucket: "b" } }]));
    });
    it("skips a resource whose tags are unknown, and one whose provider was not sent", async () => {
        const run = await runStackPolicy(
            policy,
            args([f.awsProvider(), { ...bucket(), props: { bucket: "b", tags: UNKNOWN } }, { ...bucket(), name: "orphan", provider: undefined }]),
        );
        expect(run.violations).toEqual([]);
        expect(run.notApplicable).toMatch(
            /^2 resource\(s\) could not be evaluated: .*::bucket: needs a value that is unknown during preview.*::orphan: its provider was not sent/,
        );
    });
});

describe("kubernetes-ownership-labels", () => {
    const policy = resourcePolicy(kubernetesOwnershipLabels);
    it("passes labelled objects", async () => {
        await assertNoResourceViolations(policy, createResourceValidationArgs(f.DEPLOYMENT, deployment()));
        await assertNoResourceViolations(policy, createResourceValidationArgs(f.SERVICE, f.modelService()));
    });
    it("reports a missing team label on the object and on the pod template", async () => {
        await assertHasResourceViolation(
            policy,
            createResourceValidationArgs(
                f.SERVICE,
                variant(f.modelService(), (s) => delete s.metadata.labels[f.K.team]),
            ),
            `Service team-fraud/fraud is missing the label(s) ${f.K.team}.`,
        );
        await assertHasResourceViolation(
            policy,
            createResourceValidationArgs(
                f.DEPLOYMENT,
                deployment((d) => delete d.spec.template.metadata.labels[f.K.owner]),
            ),
            `${REF}: its pod template is missing the label(s) ${f.K.owner}.`,
        );
    });
    it("uses the stack's label domain, or any mlops.* domain when unknown", async () => {
        await assertHasResourceViolation(
            resourcePolicy(kubernetesOwnershipLabels, context("prod", "other.org")),
            createResourceValidationArgs(f.SERVICE, f.modelService()),
            "Service team-fraud/fraud is missing the label(s) mlops.other.org/team, mlops.other.org/owner.",
        );
        await assertNoResourceViolations(
            resourcePolicy(kubernetesOwnershipLabels, context("prod", null)),
            createResourceValidationArgs(f.SERVICE, f.modelService()),
        );
    });
    it("does not apply to Helm releases", async () => {
        await assertResourceNotApplicable(policy, createResourceValidationArgs("kubernetes:helm.sh/v3:Release", { chart: "x" }), "does not apply");
    });
});

describe("environment-matches-stack", () => {
    const policy = stackPolicy(environmentMatchesStack);
    const args = (resources: TestResource[]) => createStackValidationArgs(resources);
    const bucket: TestResource = { type: f.BUCKET, name: "bucket", provider: "aws-prod", props: { bucket: f.BUCKET_NAME } };

    it("passes prod resources in the prod stack", async () => {
        await assertNoStackViolations(policy, args([f.awsProvider(), bucket, ...f.modelStack()]));
    });
    it("reports a provider that tags everything dev", async () => {
        await assertHasStackViolation(
            policy,
            args([f.awsProvider({ ...f.DEFAULT_TAGS, environment: "dev" }), bucket]),
            "provider aws-prod tags everything environment=dev in the prod stack.",
            "::aws-prod",
        );
        await assertHasStackViolation(
            policy,
            args([f.awsProvider({ ...f.DEFAULT_TAGS, environment: "dev" }), bucket]),
            'aws:s3/bucket:Bucket "bucket" is tagged environment=dev in the prod stack.',
            "::bucket",
        );
    });
    it("reports a resource tag that overrides the provider's", async () => {
        await assertHasStackViolation(
            policy,
            args([f.awsProvider(), { ...bucket, props: { bucket: "b", tags: { environment: "test" } } }]),
            'aws:s3/bucket:Bucket "bucket" is tagged environment=test in the prod stack.',
        );
    });
    it("reports a Kubernetes label from another environment", async () => {
        const d: TestResource = { type: f.DEPLOYMENT, name: "fraud", props: deployment((x) => (x.metadata.labels[f.K.environment] = "dev")) };
        await assertHasStackViolation(policy, args([d]), `${REF} is labelled ${f.K.environment}=dev in the prod stack.`);
    });
    it("is not applicable when the stack's environment is unknown", async () => {
        const run = await runStackPolicy(stackPolicy(environmentMatchesStack, context(null)), args([f.awsProvider(), bucket]));
        expect(run).toEqual({ violations: [], notApplicable: 'the stack\'s environment is not known (stack "")' });
    });
});

describe("no-cross-environment-references", () => {
    const policy = resourcePolicy(noCrossEnvironmentReferences);
    const accounts = { dev: ["210987654321"], test: ["310987654321"], prod: [f.ACCOUNT] };
    const args = (type: string, props: Record<string, unknown>) =>
        createResourceValidationArgs(type, props, { factory: noCrossEnvironmentReferences, config: { environmentAccounts: accounts } });
    const devBucket = "acme-mlops-dev-artifacts-210987654321-eu-west-1";

    it("passes references to the stack's own environment", async () => {
        await assertNoResourceViolations(policy, args(f.ROLE_POLICY, { role: "r", policy: f.scopedPolicyDocument() }));
        await assertNoResourceViolations(policy, args(f.DEPLOYMENT, deployment()));
    });
    it("reports a dev bucket ARN inside a prod IAM policy", async () => {
        const doc = f.scopedPolicyDocument().replaceAll(f.BUCKET_NAME, devBucket);
        const run = await runResourcePolicy(policy, args(f.ROLE_POLICY, { role: "r", policy: doc }));
        expect(run.violations[0].message).toBe(`policy refers to dev from the prod stack: "arn:aws:s3:::${devBucket}" contains "dev".`);
    });
    it("reports a dev bucket in an environment variable, by name or as an s3 URI", async () => {
        await assertHasResourceViolation(
            policy,
            args(
                f.DEPLOYMENT,
                deployment((d) => container(d).env.push({ name: "ARTIFACT_BUCKET", value: devBucket })),
            ),
            `spec.template.spec.containers[0].env[3].value refers to dev from the prod stack: "${devBucket}" contains "dev".`,
        );
        await assertHasResourceViolation(
            policy,
            args(
                f.DEPLOYMENT,
                deployment((d) => (container(d).args = ["--artifacts-destination", `s3://${devBucket}/mlflow`])),
            ),
            `spec.template.spec.containers[0].args[1] refers to dev from the prod stack: "s3://${devBucket}/mlflow" contains "dev".`,
        );
    });
    it("reports a namespace of another environment", async () => {
        await assertHasResourceViolation(
            policy,
            args(
                f.SERVICE,
                variant(f.modelService(), (s) => (s.metadata.namespace = "team-fraud-test")),
            ),
            'metadata.namespace refers to test from the prod stack: "team-fraud-test" contains "test".',
        );
    });
    it("reports an ARN in another environment's account", async () => {
        await assertHasResourceViolation(
            policy,
            args("kubernetes:core/v1:ServiceAccount", {
                metadata: {
                    name: "fraud",
                    namespace: "team-fraud",
                    annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::310987654321:role/acme-fraud" },
                },
            }),
            'metadata.annotations.eks.amazonaws.com/role-arn refers to test from the prod stack: "arn:aws:iam::310987654321:role/acme-fraud" is in the test account 310987654321.',
        );
    });
    it("does not read environment names inside other words or free text", async () => {
        expect(otherEnvironment("arn:aws:s3:::acme-device-logs", "prod", {})).toBeUndefined();
        await assertNoResourceViolations(policy, args(f.KMS_KEY, { description: "copied from the dev environment", enableKeyRotation: true }));
    });
    it("skips values unknown during preview (they are this stack's own outputs)", async () => {
        await assertNoResourceViolations(policy, args(f.ROLE_POLICY, { role: UNKNOWN, policy: UNKNOWN }));
    });
});
