/**
 * Team fraud's stack: the online fraud scorer and the nightly batch scoring, on the MLOps platform.
 *
 * It reads the platform stack of its environment (`team-fraud:platformStack`, e.g. acme/mlops/prod)
 * with a StackReference, builds its own Kubernetes provider from that stack's outputs, and deploys into
 * the team's namespace ml-fraud. Everything a release changes (model versions, images) is stack
 * configuration: Pulumi.<stack>.yaml. Approvals are not: compliance records them in the platform
 * (approvals/<environment>.yaml), and the workloads look them up. docs/team-guide.md explains each step.
 */
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
    BatchInference,
    type Environment,
    type ImageSource,
    ModelRoute,
    ModelService,
    readPlatform,
    type ResourceSettings,
    type ServiceSlo,
} from "mlops-platform";

/** Settings both workloads take from the stack configuration. */
interface WorkloadConfig {
    modelUri: string;
    alias?: string;
    previousVersion?: number;
    /** `{ reference }`, or `{ build: { context } }` with the context relative to this project. */
    image: ImageSource;
    resources: ResourceSettings;
}

interface ScorerConfig extends WorkloadConfig {
    replicas: { min: number; max: number };
    autoscaling?: { targetCpuUtilization?: number; targetRequestsPerSecond?: number };
    slo: ServiceSlo;
    predictionLogging: { enabled: boolean; sampleRate?: number };
}

interface NightlyConfig extends WorkloadConfig {
    jobName: string;
    schedule: string;
    timeZone: string;
    inputPrefix: string;
    outputPrefix: string;
    retries: number;
    deadlineSeconds: number;
}

const config = new pulumi.Config();
const team = config.require("team");
const environment = config.require("environment") as Environment;
const aws_ = config.requireObject<{ region: string; accountId: string; deployRoleArn?: string }>("aws");
const scorerConfig = config.requireObject<ScorerConfig>("scorer");
const nightlyConfig = config.requireObject<NightlyConfig>("nightly");

// --- The platform ---------------------------------------------------------------------------------
const platform = readPlatform("platform", {
    stack: config.require("platformStack"),
    team,
    environment,
    labelDomain: config.require("labelDomain"),
    costCentre: config.require("costCentre"),
    runbookBaseUrl: config.require("runbookBaseUrl"),
    deployRoleArn: aws_.deployRoleArn,
});

/** Build contexts are relative to this project; the build runs from the working directory. */
function imageSource(image: ImageSource): ImageSource {
    if (!("build" in image)) return image;
    return { build: { ...image.build, context: path.relative(process.cwd(), path.resolve(__dirname, image.build.context)) } };
}
const builds = [scorerConfig.image, nightlyConfig.image].some((i) => "build" in i);

// Explicit providers: the platform's cluster, the team's AWS account (ECR for builds), Docker only when building.
const awsProvider = new aws.Provider(`aws-${environment}`, {
    region: platform.region as pulumi.Output<aws.Region>,
    allowedAccountIds: [aws_.accountId],
    ...(aws_.deployRoleArn ? { assumeRoles: [{ roleArn: aws_.deployRoleArn, sessionName: `pulumi-team-${team}-${environment}` }] } : {}),
    defaultTags: { tags: { owner: team, team, environment, "cost-centre": config.require("costCentre"), "managed-by": "pulumi" } },
});
const providers: pulumi.ProviderResource[] = [platform.kubernetesProvider, awsProvider];
if (builds) providers.push(new docker.Provider(`docker-${environment}`, {}));

const owners = config.requireObject<string[]>("owners");
const inputSchema = JSON.parse(fs.readFileSync(path.join(__dirname, "schemas", "fraud-transaction.schema.json"), "utf8"));

// --- The online scorer ----------------------------------------------------------------------------
const scorer = new ModelService(
    "fraud-scorer",
    {
        team,
        owners,
        platform: platform.refs,
        modelUri: scorerConfig.modelUri,
        alias: scorerConfig.alias,
        previousVersion: scorerConfig.previousVersion,
        image: imageSource(scorerConfig.image),
        resources: scorerConfig.resources,
        replicas: scorerConfig.replicas,
        autoscaling: scorerConfig.autoscaling,
        inputSchema,
        predictionLogging: scorerConfig.predictionLogging,
        slo: scorerConfig.slo,
        // Behind the route below: a canary or shadow is a second ModelService (docs/team-guide.md#canary-and-shadow).
        track: "stable",
    },
    { providers },
);

// --- The scorer's route through the platform's gateway (its name, HTTPS listener and hostname suffix are the platform stack's outputs)
const route = new ModelRoute("fraud-scorer", { team, platform: platform.refs, stable: scorer }, { providers });

// --- Nightly batch scoring ------------------------------------------------------------------------
const nightly = new BatchInference(
    "fraud-nightly-scoring",
    {
        team,
        owners,
        platform: platform.refs,
        jobName: nightlyConfig.jobName,
        modelUri: nightlyConfig.modelUri,
        alias: nightlyConfig.alias,
        previousVersion: nightlyConfig.previousVersion,
        image: imageSource(nightlyConfig.image),
        schedule: nightlyConfig.schedule,
        timeZone: nightlyConfig.timeZone,
        input: { prefix: nightlyConfig.inputPrefix },
        output: { prefix: nightlyConfig.outputPrefix },
        resources: nightlyConfig.resources,
        retries: nightlyConfig.retries,
        deadlineSeconds: nightlyConfig.deadlineSeconds,
    },
    { providers },
);

/** Where the team's workloads run. */
export const namespace = scorer.namespace;
/** The scorer: in-cluster URL (the gateway routes here), model, deployed image, operating note. */
export const scorerUrl = scorer.url;
export const scorerModelUri = scorer.modelUri;
export const scorerImage = scorer.image;
export const scorerOperatingNote = scorer.operatingNote;
/** Where callers reach the scorer: HTTPS at the platform's gateway. */
export const scorerHostnames = route.hostnames;
/** The nightly job: CronJob, where its runs write (a partition per run), when it counts as stale, operating note. */
export const nightlyJobName = nightly.jobName;
export const nightlyOutputUri = nightly.outputUri;
export const nightlyOutputPartition = nightly.outputPartition;
export const nightlyStaleAfterSeconds = nightly.staleAfterSeconds;
export const nightlyOperatingNote = nightly.operatingNote;
