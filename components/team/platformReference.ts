/**
 * How a team's own Pulumi project reaches the platform: a StackReference to the platform stack of its
 * environment, the references its workloads need (PlatformRefs), and an explicit Kubernetes provider
 * for the platform's cluster built from the stack outputs (the same `aws eks get-token` kubeconfig the
 * platform uses, `kubeconfigFor`), so nothing falls back to an ambient kubeconfig.
 *
 * The team stack states its environment and label domain in its own config (they are needed as plain
 * strings before anything is registered); the kubeconfig is built only after checking them against the
 * platform's outputs, together with the team's presence in that environment, so a team stack pointed at
 * the wrong platform stack fails before it touches the cluster.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { opt, req, type Shape, type ShapeOf, shapeProblems, withoutShapeDuplicates } from "./argShape";
import { type Environment, IMAGE_REFERENCE } from "../contract";
import { DEFAULT_BATCH_SERVICE_ACCOUNT, DEFAULT_SERVICE_ACCOUNT, DEFAULT_TRAINING_SERVICE_ACCOUNT, type GatewayRef, type PlatformRefs } from "./modelWorkload";
import { teamNameProblem } from "./modelUri";
import { kubeconfigFor } from "./kubeconfig";
import type { DvcRemoteSettings } from "../shared/dvcRemote";
import { type ModelApproval, servingNamespaceName } from "../contract";

/** The platform stack's `kubernetes` output. */
export interface PlatformKubernetesOutput {
    readonly clusterName: string;
    readonly endpoint: string;
    readonly certificateAuthorityData: string;
    readonly oidcProviderArn: string;
    readonly gatewayNamespace: string;
}

/** The platform stack's `gateway` output (absent when the platform has no Gateway for teams). */
export interface PlatformGatewayOutput {
    readonly name: string;
    readonly namespace: string;
    /** The HTTPS listener: TLS ends there, with the platform's certificate for `*.<team>.<hostnameSuffix>`. */
    readonly sectionName: string;
    readonly hostnameSuffix: string;
}

/** The platform stack's `monitoring` output. */
export interface PlatformMonitoringOutput {
    readonly namespace: string;
    readonly prometheusUrl: string;
    readonly grafanaUrl: string;
    readonly grafanaAdminSecretName: string;
    readonly pushgatewayUrl: string;
}

/** One team in the platform stack's `teams` output. */
export interface PlatformTeamOutput {
    readonly namespace: string;
    readonly serviceAccountName: string;
    readonly roleArn: string;
    readonly driftCheckServiceAccountName: string;
    readonly driftCheckRoleArn: string;
    /** Absent in platform stacks older than the batch identity: batch jobs then fall back to `batch`. */
    readonly batchServiceAccountName?: string;
    readonly batchRoleArn?: string;
    readonly modelPrefix: string;
    readonly predictionLogPrefix: string;
    /** Absent in platform stacks older than the training identity: training jobs then fall back to `training`. */
    readonly trainingServiceAccountName?: string;
    readonly trainingRoleArn?: string;
    /** The team's DVC remote (absent in platform stacks older than it). */
    readonly dvc?: DvcRemoteSettings;
    readonly labels: Record<string, string>;
}

/** Arguments of {@link readPlatform}. */
export interface PlatformReferenceArgs {
    /** The platform stack of the environment, fully qualified: `<organisation>/mlops/<environment>`. */
    readonly stack: string;
    /** The team (`mlops:teams[].name` of the platform). */
    readonly team: string;
    /** The team stack's environment: must be the platform stack's. */
    readonly environment: Environment;
    /** The organisation's label domain: must be the platform stack's. */
    readonly labelDomain: string;
    /** Cost centre of the team's objects (label). */
    readonly costCentre: string;
    /** Base URL of docs/runbooks (alert links), without a trailing slash. */
    readonly runbookBaseUrl: string;
    /** IAM role the team deploys with: `aws eks get-token --role-arn`; omit to use the caller's credentials. */
    readonly deployRoleArn?: string;
}

/** What {@link readPlatform} returns. */
export interface TeamPlatform {
    /** The reference to the platform stack. */
    readonly stackReference: pulumi.StackReference;
    /** What ModelService and BatchInference need (`platform:` argument). */
    readonly refs: PlatformRefs;
    /** Provider for the platform's cluster: pass it to every Kubernetes resource of the team stack. */
    readonly kubernetesProvider: k8s.Provider;
    /** AWS region of the platform. */
    readonly region: pulumi.Output<string>;
    /** The team's entry of the platform's `teams` output (namespace, identities, prefixes). */
    readonly team: pulumi.Output<PlatformTeamOutput>;
    /**
     * The team's DVC remote: URL, region, endpoint, the training role that alone reaches it, and the
     * `.dvc/config` of a project using it (undefined with a platform stack older than the remote).
     */
    readonly dvc: pulumi.Output<DvcRemoteSettings | undefined>;
}

/** Every argument of {@link PlatformReferenceArgs}: what it must be and whether it is required. */
export const PLATFORM_REFERENCE_SHAPE: Shape = {
    stack: req("string", "the platform stack, fully qualified: <organisation>/mlops/<environment>"),
    team: req("string", "the team's name (mlops:teams[].name)"),
    environment: req("string", "dev, test or prod"),
    labelDomain: req("string", "the organisation's DNS domain, like acme.io"),
    costCentre: req("string", "the cost centre the team's objects are billed to"),
    runbookBaseUrl: req("string", "https:// URL of docs/runbooks without a trailing slash"),
    deployRoleArn: opt("string"),
} satisfies ShapeOf<PlatformReferenceArgs>;

/** Problems of the arguments (empty when fine): shape first, then values, every one at once. */
export function platformReferenceProblems(args: PlatformReferenceArgs): string[] {
    const shape = shapeProblems(args, PLATFORM_REFERENCE_SHAPE);
    if (shape.some((p) => p.path === "")) return shape.map((p) => p.message);
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(args.stack)) {
        problems.push(`stack "${args.stack}" must be a fully qualified stack name like acme/mlops/${args.environment}`);
    }
    const team = teamNameProblem(args.team);
    if (team) problems.push(team);
    if (!["dev", "test", "prod"].includes(args.environment)) problems.push(`environment "${args.environment}" must be dev, test or prod`);
    if (typeof args.labelDomain === "string" && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(args.labelDomain)) {
        problems.push(`labelDomain "${args.labelDomain}" must be a DNS domain like acme.io`);
    }
    if (typeof args.runbookBaseUrl === "string" && !/^https:\/\/\S+[^/\s]$/.test(args.runbookBaseUrl)) {
        problems.push(`runbookBaseUrl "${args.runbookBaseUrl}" must be an https:// URL of docs/runbooks without a trailing slash`);
    }
    if (args.deployRoleArn !== undefined && !/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(args.deployRoleArn)) {
        problems.push(`deployRoleArn "${args.deployRoleArn}" must be an IAM role ARN like arn:aws:iam::123456789012:role/name`);
    }
    return [...shape.map((p) => p.message), ...withoutShapeDuplicates(problems, shape)];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

/**
 * Problems of the platform's serving outputs: `gateway` (absent, or its name, namespace, HTTPS listener
 * and hostname suffix, in the cluster's gateway namespace) and `modelFetchImage` (absent, or an image
 * reference, pinned by digest outside dev). Absent ones are no problem here: ModelRoute and the
 * downloading runtimes refuse to run without them.
 */
export function platformServingProblems(
    args: Pick<PlatformReferenceArgs, "stack" | "environment">,
    outputs: { gateway?: unknown; modelFetchImage?: unknown; gatewayNamespace?: unknown },
): string[] {
    const problems: string[] = [];
    const gw = outputs.gateway as Record<string, unknown> | undefined | null;
    if (gw !== undefined && gw !== null) {
        const bad = (key: string, re: RegExp) => typeof gw[key] !== "string" || !re.test(gw[key] as string);
        if (
            typeof gw !== "object" ||
            bad("name", DNS_LABEL) ||
            bad("namespace", DNS_LABEL) ||
            bad("sectionName", DNS_LABEL) ||
            bad("hostnameSuffix", DNS_DOMAIN)
        ) {
            problems.push(
                `platform stack ${args.stack} has an invalid gateway output ${JSON.stringify(gw)}: expected { name, namespace, sectionName, hostnameSuffix } (mlops:serving.gateway of the platform)`,
            );
        } else if (outputs.gatewayNamespace !== undefined && gw.namespace !== outputs.gatewayNamespace) {
            problems.push(
                `platform stack ${args.stack} has its gateway in namespace "${String(gw.namespace)}", but kubernetes.gatewayNamespace is "${String(outputs.gatewayNamespace)}"`,
            );
        }
    }
    const image = outputs.modelFetchImage;
    if (image !== undefined && image !== null) {
        if (typeof image !== "string" || !IMAGE_REFERENCE.test(image)) {
            problems.push(
                `platform stack ${args.stack} has an invalid modelFetchImage output ${JSON.stringify(image)}: expected an image reference (mlops:serving.modelFetchImage of the platform)`,
            );
        } else if (args.environment !== "dev" && !image.includes("@sha256:")) {
            problems.push(
                `platform stack ${args.stack} has modelFetchImage "${image}", not pinned by digest (repo@sha256:...) as ${args.environment} requires`,
            );
        }
    }
    return problems;
}

/**
 * Problems of the platform stack's outputs for this team stack: a different environment or label
 * domain, no serving namespace for the team, or invalid serving outputs ({@link platformServingProblems}).
 * Pure, for tests and for the kubeconfig's check.
 */
export function platformOutputProblems(
    args: Pick<PlatformReferenceArgs, "stack" | "team" | "environment" | "labelDomain">,
    outputs: { environment: unknown; labelDomain: unknown; teams: unknown; gateway?: unknown; modelFetchImage?: unknown; gatewayNamespace?: unknown },
): string[] {
    const problems: string[] = [];
    if (outputs.environment !== args.environment) {
        problems.push(`platform stack ${args.stack} is environment "${String(outputs.environment)}", but this stack is "${args.environment}"`);
    }
    if (outputs.labelDomain !== args.labelDomain) {
        problems.push(`platform stack ${args.stack} labels with "${String(outputs.labelDomain)}", but this stack says labelDomain "${args.labelDomain}"`);
    }
    const teams = (outputs.teams ?? {}) as Record<string, PlatformTeamOutput | undefined>;
    const mine = teams[args.team];
    if (!mine) {
        problems.push(
            `platform stack ${args.stack} has no team "${args.team}" (teams: ${Object.keys(teams).join(", ") || "none"}): add it to mlops:teams with this environment`,
        );
    } else if (mine.namespace !== servingNamespaceName(args.team)) {
        problems.push(`platform stack ${args.stack} serves team "${args.team}" from namespace "${mine.namespace}", not "${servingNamespaceName(args.team)}"`);
    }
    problems.push(...platformServingProblems(args, outputs));
    return problems;
}

/**
 * Reads the platform stack of the team's environment and builds the team's Kubernetes provider.
 * `name` prefixes the StackReference and provider names.
 */
export function readPlatform(name: string, args: PlatformReferenceArgs, opts?: pulumi.CustomResourceOptions): TeamPlatform {
    const problems = platformReferenceProblems(args);
    if (problems.length > 0) throw new Error(`readPlatform "${name}": ${problems.join("; ")}.`);

    const stackReference = new pulumi.StackReference(`${name}-stack`, { name: args.stack }, opts);
    const kubernetes = stackReference.requireOutput("kubernetes") as pulumi.Output<PlatformKubernetesOutput>;
    const monitoring = stackReference.requireOutput("monitoring") as pulumi.Output<PlatformMonitoringOutput>;
    const teams = stackReference.requireOutput("teams") as pulumi.Output<Record<string, PlatformTeamOutput>>;
    const region = stackReference.requireOutput("region") as pulumi.Output<string>;
    // Absent in platform stacks without a Gateway or fetch image (and in those older than these outputs).
    const gatewayOutput = stackReference.getOutput("gateway") as pulumi.Output<PlatformGatewayOutput | undefined>;
    const fetchImageOutput = stackReference.getOutput("modelFetchImage") as pulumi.Output<string | undefined>;

    // The kubeconfig is built only for the right platform stack: a mismatch or an invalid output fails the provider, before any object.
    const kubeconfig = pulumi
        .all([
            kubernetes,
            region,
            stackReference.requireOutput("environment"),
            stackReference.requireOutput("labelDomain"),
            teams,
            gatewayOutput,
            fetchImageOutput,
        ])
        .apply(([k, r, environment, labelDomain, t, gateway, modelFetchImage]) => {
            const mismatch = platformOutputProblems(args, {
                environment,
                labelDomain,
                teams: t,
                gateway,
                modelFetchImage,
                gatewayNamespace: k.gatewayNamespace,
            });
            if (mismatch.length > 0) throw new Error(`readPlatform "${name}": ${mismatch.join("; ")}.`);
            return kubeconfigFor({
                environment: args.environment,
                aws: { region: r, deployRoleArn: args.deployRoleArn },
                cluster: { name: k.clusterName, endpoint: k.endpoint, certificateAuthorityData: k.certificateAuthorityData },
            });
        });
    const kubernetesProvider = new k8s.Provider(`${name}-kubernetes`, { kubeconfig, enableServerSideApply: true, deleteUnreachable: false }, opts);

    const team = teams.apply((t) => t[args.team]);
    return {
        stackReference,
        kubernetesProvider,
        region,
        team,
        dvc: team.apply((t) => t?.dvc),
        refs: {
            environment: args.environment,
            labelDomain: args.labelDomain,
            costCentre: args.costCentre,
            runbookBaseUrl: args.runbookBaseUrl,
            mlflowTrackingUri: stackReference.requireOutput("mlflowTrackingUri") as pulumi.Output<string>,
            artifactBucketName: stackReference.requireOutput("artifactBucketName") as pulumi.Output<string>,
            gatewayNamespace: kubernetes.gatewayNamespace,
            monitoringNamespace: monitoring.namespace,
            pushgatewayUrl: monitoring.pushgatewayUrl,
            // Checked with the kubeconfig (platformServingProblems: an invalid one fails the provider, so no object is created
            // with it); an absent one is refused by what needs it (ModelRoute, the downloading runtimes).
            gateway: gatewayOutput.apply((g): GatewayRef | undefined =>
                g ? { name: g.name, sectionName: g.sectionName, hostnameSuffix: g.hostnameSuffix } : undefined,
            ),
            modelFetchImage: fetchImageOutput.apply((i) => i ?? undefined),
            serviceAccountName: team.apply((t) => t?.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT),
            batchServiceAccountName: team.apply((t) => t?.batchServiceAccountName ?? DEFAULT_BATCH_SERVICE_ACCOUNT),
            trainingServiceAccountName: team.apply((t) => t?.trainingServiceAccountName ?? DEFAULT_TRAINING_SERVICE_ACCOUNT),
            // Compliance's approvals (approvals/<environment>.yaml of the platform); absent in older platform stacks: none.
            approvals: stackReference.getOutput("modelApprovals").apply((a) => (Array.isArray(a) ? (a as ModelApproval[]) : [])),
        },
    };
}
