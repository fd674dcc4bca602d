/**
 * What ModelService and BatchInference share: the platform references a team's workloads need, the
 * image source (a pinned prebuilt reference or a build pushed to ECR), validation of the arguments both
 * take, the labels and annotations of a model workload, MLflow settings, and the PrometheusRule spec of
 * a workload's alert rules (alertRules.ts builds them).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RuleGroup } from "../shared/alertRules";
import { argumentsError, type ArgKind, fillForChecks, opt, req, type Shape, type ShapeOf, shapeProblems, withoutShapeDuplicates } from "./argShape";
import { type Environment, IMAGE_REFERENCE } from "../contract";
import { quantityValue, type ResourceSettings } from "../shared/resources";
import { ContainerImage, validateContainerImageArgs } from "./containerImage";
import type { GpuNodes } from "./gpu";
import {
    type ApprovalRecord,
    approvalFor,
    approvalsFile,
    approvalsRecordedIn,
    BATCH_SERVICE_ACCOUNT,
    imageDigestOf,
    isModelVersion,
    labelKeys,
    MLFLOW_CREDENTIALS_SECRET,
    MODEL_ALIAS,
    MODEL_URI_ENV,
    type ModelApproval,
    type ModelRef,
    ORG_ANNOTATIONS,
    orgKey,
    parseModelUri,
    servingNamespaceName,
    TRAINING_SERVICE_ACCOUNT,
    WORKLOAD_SERVICE_ACCOUNT,
} from "../contract";
import { modelNameProblem, teamNameProblem } from "./modelUri";
import { type LabelContext, labelValue, standardLabels } from "../shared/naming";

/** uid/gid a model image runs as unless told otherwise (a numeric non-root user). */
export const DEFAULT_WORKLOAD_UID = 10001;
/** Service account of team workloads (ServingNamespace's `workload`). */
export const DEFAULT_SERVICE_ACCOUNT = WORKLOAD_SERVICE_ACCOUNT;
/** The batch service account every serving namespace has (ServingNamespace): batch-scoring jobs run as it. */
export const DEFAULT_BATCH_SERVICE_ACCOUNT = BATCH_SERVICE_ACCOUNT;
/** The training service account every serving namespace has (ServingNamespace): training runs (TrainingJob) run as it. */
export const DEFAULT_TRAINING_SERVICE_ACCOUNT = TRAINING_SERVICE_ACCOUNT;

/** The platform's Gateway as ModelRoute attaches to it (PlatformRefs.gateway). */
export interface GatewayRef {
    /** Name of the Gateway, in the platform's gateway namespace. */
    readonly name: string;
    /** Its HTTPS listener. */
    readonly sectionName: string;
    /** DNS suffix of model hostnames. */
    readonly hostnameSuffix: string;
}

/**
 * What a team's workloads need from the platform stack: read them from its outputs with a
 * StackReference (see `readPlatform` in platformReference.ts). Plain strings are needed before anything
 * is registered (label keys, rule expressions, the operating note); the rest may be outputs.
 */
export interface PlatformRefs {
    /** dev, test or prod: decides which rules apply (image pinning, approval, replicas). */
    readonly environment: Environment;
    /** DNS domain of the organisation (`acme.io`): label keys are `mlops.<domain>/*`. */
    readonly labelDomain: string;
    /** Cost centre the team's objects are billed to (label). */
    readonly costCentre: string;
    /** Base URL of docs/runbooks, without a trailing slash: alert and operating-note links. */
    readonly runbookBaseUrl: string;
    /** In-cluster URL of the MLflow tracking server (stack output `mlflowTrackingUri`). */
    readonly mlflowTrackingUri: pulumi.Input<string>;
    /** Name of the artifact bucket (stack output `artifactBucketName`). */
    readonly artifactBucketName: pulumi.Input<string>;
    /** Namespace of the ingress gateway (stack output `kubernetes.gatewayNamespace`). */
    readonly gatewayNamespace: pulumi.Input<string>;
    /** Namespace of Prometheus (stack output `monitoring.namespace`). */
    readonly monitoringNamespace: pulumi.Input<string>;
    /** In-cluster URL of the Pushgateway (stack output `monitoring.pushgatewayUrl`): batch jobs push their run metrics. */
    readonly pushgatewayUrl: pulumi.Input<string>;
    /** The team's workload service account, model servers run as it (stack output `teams.<team>.serviceAccountName`). Default `workload`. */
    readonly serviceAccountName?: pulumi.Input<string>;
    /** The team's batch service account, batch jobs run as it (stack output `teams.<team>.batchServiceAccountName`). Default `batch`. */
    readonly batchServiceAccountName?: pulumi.Input<string>;
    /** The team's training service account, training jobs run as it (stack output `teams.<team>.trainingServiceAccountName`). Default `training`. */
    readonly trainingServiceAccountName?: pulumi.Input<string>;
    /**
     * Image with the AWS CLI (`aws` on the PATH) that downloads models from the artifact store for the
     * onnx, triton and torchserve runtimes (pinned by digest outside dev). Needed only by those runtimes.
     * readPlatform passes the platform stack's `modelFetchImage` output (checked when it is read).
     */
    readonly modelFetchImage?: pulumi.Input<string | undefined>;
    /**
     * The platform's Gateway (Gateway API) that ModelRoutes attach to: its name (in `gatewayNamespace`),
     * the HTTPS listener (`sectionName`, TLS terminated there with the platform's certificate) and the DNS
     * suffix of model hostnames (`<service>.<team>.<hostnameSuffix>`). Needed only by ModelRoute.
     * readPlatform passes the platform stack's `gateway` output (checked when it is read).
     */
    readonly gateway?: pulumi.Input<GatewayRef | undefined>;
    /** Where the platform's GPU nodes are (node labels and taints); the defaults of contract/gpu.ts when absent. Read only for `resources.gpu`. */
    readonly gpuNodes?: GpuNodes;
    /**
     * Approvals of model versions in this environment, as compliance recorded them (stack output
     * `modelApprovals`, from approvals/<environment>.yaml of the platform). Required in prod: a workload
     * deploys only a version approved there, with an approved image digest.
     */
    readonly approvals?: pulumi.Input<readonly ModelApproval[]>;
}

/** An image built from a local context and pushed to an ECR repository the component creates. */
export interface ImageBuild {
    /** Directory of the build context. */
    readonly context: string;
    /** Dockerfile, relative to the context. Default `Dockerfile`. */
    readonly dockerfile?: string;
    /** Build arguments. Default none. */
    readonly buildArgs?: Readonly<Record<string, string>>;
    /** ECR repository name. Default `ml-<team>/<workload name>`. */
    readonly repositoryName?: string;
    /** Start of the pushed tag (the rest is a hash of the context). Default the workload name. */
    readonly tagPrefix?: string;
}

/**
 * Where a workload's image comes from: a prebuilt reference (pinned by digest outside dev), or a build
 * of a local context pushed to ECR (scan on push, immutable tags, lifecycle policy); a build deploys the
 * pushed digest. Building needs an explicit `docker` provider among the component's providers.
 */
export type ImageSource = { readonly reference: string } | { readonly build: ImageBuild };

/**
 * ECR repository of a workload's builds: `ml-<team>/<name>`, with runs of `-` squeezed (ECR refuses
 * consecutive separators, which team and model names may contain).
 */
export function defaultRepositoryName(team: string, name: string): string {
    return `ml-${team}/${name}`.replace(/-{2,}/g, "-");
}

/** Is the source a build? */
export function isImageBuild(image: ImageSource): image is { readonly build: ImageBuild } {
    return "build" in image && image.build !== undefined;
}

/** Problems of an image source in an environment (empty when fine). */
export function imageProblems(image: ImageSource, environment: Environment, defaults: { repositoryName: string; tagPrefix: string }): string[] {
    if (isImageBuild(image)) {
        try {
            validateContainerImageArgs(buildArgsOf(image.build, defaults));
            return [];
        } catch (e) {
            return [`image build: ${(e as Error).message.replace(/^ContainerImage: /, "").replace(/\.$/, "")}`];
        }
    }
    const ref = (image as { reference?: unknown }).reference;
    if (typeof ref !== "string") return ['image must be { reference: "<registry>/<repository>@sha256:<digest>" } or { build: { context } }'];
    const pinned = /@sha256:[a-f0-9]{64}$/.test(ref);
    if (environment !== "dev" && !pinned) return [`image "${ref}" must be pinned by digest (repo@sha256:...) in ${environment}`];
    if (!IMAGE_REFERENCE.test(ref))
        return [`image "${ref}" is not an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo:1.2.0@sha256:<64 hex digits>`];
    if (/:latest(@|$)/.test(ref)) return [`image "${ref}" uses the moving tag latest: pin a version tag (and a digest)`];
    return [];
}

function buildArgsOf(build: ImageBuild, defaults: { repositoryName: string; tagPrefix: string }) {
    return {
        repositoryName: build.repositoryName ?? defaults.repositoryName,
        context: build.context,
        dockerfile: build.dockerfile,
        buildArgs: build.buildArgs,
        tagPrefix: build.tagPrefix ?? defaults.tagPrefix,
    };
}

/**
 * The image reference to deploy: the prebuilt one, or the digest a new ContainerImage child pushes.
 * Call after `super()`; the arguments were validated by {@link imageProblems}.
 */
export function deployedImage(
    parent: pulumi.ComponentResource,
    name: string,
    image: ImageSource,
    defaults: { repositoryName: string; tagPrefix: string },
    protect: boolean,
): { ref: pulumi.Input<string>; build?: ContainerImage } {
    if (!isImageBuild(image)) return { ref: image.reference };
    const build = new ContainerImage(`${name}-image`, { ...buildArgsOf(image.build, defaults), protect }, { parent });
    return { ref: build.imageRef, build };
}

/** Problems of requests and limits: valid quantities, requests within limits. */
export function resourceProblems(r: ResourceSettings): string[] {
    const problems: string[] = [];
    const value = (key: keyof ResourceSettings) => {
        try {
            return quantityValue(r[key] as string);
        } catch {
            problems.push(`resources.${key} "${r[key]}" is not a Kubernetes quantity (like 500m, 2, 512Mi or 4Gi)`);
            return undefined;
        }
    };
    for (const [request, limit] of [
        ["cpuRequest", "cpuLimit"],
        ["memoryRequest", "memoryLimit"],
        ["ephemeralStorageRequest", "ephemeralStorageLimit"],
    ] as const) {
        // Ephemeral storage is optional (each workload has a default); checked when both are set.
        if (r[request] === undefined || r[limit] === undefined) {
            for (const key of [request, limit]) if (r[key] !== undefined) value(key);
            continue;
        }
        const [req, lim] = [value(request), value(limit)];
        if (req !== undefined && lim !== undefined) {
            if (req <= 0) problems.push(`resources.${request} must be above 0`);
            else if (req > lim) problems.push(`resources.${request} (${r[request]}) must not exceed resources.${limit} (${r[limit]})`);
        }
    }
    return problems;
}

/** The arguments ModelService and BatchInference both take. */
export interface ModelWorkloadCommon {
    readonly team: string;
    readonly owners: readonly string[];
    readonly platform: PlatformRefs;
    readonly modelUri: string;
    readonly alias?: string;
    readonly previousVersion?: number;
    /**
     * Deprecated: approvals are compliance's, recorded in the platform (see `PlatformRefs.approvals`).
     * Refused in prod; ignored with a warning elsewhere.
     */
    readonly approval?: ApprovalRecord;
    readonly resources: ResourceSettings;
}

/** What the operating note of either component says about who owns the workload and what it runs. */
export interface WorkloadNoteInput {
    readonly team: string;
    readonly owners: readonly string[];
    readonly environment: string;
    readonly labelDomain: string;
    readonly model: ModelRef;
    readonly modelUri: string;
    readonly alias?: string;
    readonly previousVersion?: number;
    readonly approval?: ApprovalRecord;
    /** Where the image comes from, in words. */
    readonly image: string;
}

/** The note input of a workload from its arguments, its parsed model and the words for its image. */
export function workloadNoteInput(args: ModelWorkloadCommon, model: ModelRef, image: string, approval?: ApprovalRecord): WorkloadNoteInput {
    const p = args.platform;
    return {
        team: args.team,
        owners: args.owners,
        environment: p.environment,
        labelDomain: p.labelDomain,
        model,
        modelUri: args.modelUri,
        alias: args.alias,
        previousVersion: args.previousVersion,
        approval,
        image,
    };
}

/**
 * The facts a workload's note opens with: owners, team, environment, namespace, model version, previous
 * version, approval, image. `resolvedWhen` says when an alias (dev only) is resolved to a version.
 */
export function workloadNoteFacts(i: WorkloadNoteInput, resolvedWhen: string): [string, string][] {
    const version = "version" in i.model ? String(i.model.version) : `resolved from @${i.model.alias} ${resolvedWhen} (dev only)`;
    return [
        ["Owners", i.owners.join(", ")],
        ["Team", i.team],
        ["Environment", i.environment],
        ["Namespace", servingNamespaceName(i.team)],
        ["Model", `${i.model.name} version ${version}${i.alias ? ` (alias ${i.alias})` : ""}`],
        ["Previous version", i.previousVersion !== undefined ? String(i.previousVersion) : "none recorded"],
        [
            "Approval",
            i.approval
                ? `${i.approval.approvedBy}, ${i.approval.ticket}, ${i.approval.date}`
                : i.environment === "prod"
                  ? `compliance's record of this version in ${approvalsFile(i.environment)} of the platform (stack output modelApprovals), looked up at deploy`
                  : "none required",
        ],
        ["Image", i.image],
    ];
}

/** Checks what both components take; returns the parsed model URI (when valid) and every problem. */
export function commonProblems(args: ModelWorkloadCommon & { readonly image?: ImageSource }, now: Date = new Date()): { model?: ModelRef; problems: string[] } {
    const problems: string[] = [];
    const env = args.platform.environment;
    const teamProblem = teamNameProblem(args.team);
    if (teamProblem) problems.push(teamProblem);
    if (!Array.isArray(args.owners) || args.owners.length === 0 || args.owners.some((o) => typeof o !== "string" || o.trim() === "")) {
        problems.push("owners must name at least one person or group accountable for the model");
    }
    if (!["dev", "test", "prod"].includes(env)) problems.push(`platform.environment "${env}" must be dev, test or prod`);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(args.platform.labelDomain)) {
        problems.push(`platform.labelDomain "${args.platform.labelDomain}" must be a DNS domain like acme.io`);
    }
    if (!/^https:\/\/\S+[^/\s]$/.test(args.platform.runbookBaseUrl)) {
        problems.push(`platform.runbookBaseUrl "${args.platform.runbookBaseUrl}" must be an https:// URL of docs/runbooks without a trailing slash`);
    }
    let model: ModelRef | undefined;
    try {
        model = parseModelUri(args.modelUri);
    } catch (e) {
        problems.push((e as Error).message);
    }
    if (model) {
        const nameProblem = teamProblem ? undefined : modelNameProblem(model.name, args.team);
        if (nameProblem) problems.push(nameProblem);
        if ("alias" in model && env !== "dev") {
            problems.push(
                `model URI "${args.modelUri}" names the alias "${model.alias}"; in ${env} pin a version (models:/${model.name}/<version>): resolve the alias when you deploy`,
            );
        }
    }
    if (args.alias !== undefined && !MODEL_ALIAS.test(args.alias)) {
        problems.push(`alias "${args.alias}" must be a registry alias like champion (lower-case letters, digits, _ and -)`);
    }
    if (args.previousVersion !== undefined) {
        if (!isModelVersion(args.previousVersion))
            problems.push(`previousVersion must be a registered version (a positive integer), got ${args.previousVersion}`);
        else if (model && "version" in model && model.version === args.previousVersion) {
            problems.push(`previousVersion ${args.previousVersion} is the version being deployed; name the version to roll back to`);
        }
    }
    if (args.approval !== undefined && env === "prod") {
        problems.push(`approval is no longer taken from the team's stack: ${approvalsRecordedIn(env)}; remove approval from this workload`);
    }
    if (env === "prod" && model && "version" in model && !teamProblem && !modelNameProblem(model.name, args.team)) {
        const approvals = args.platform.approvals;
        if (approvals === undefined) {
            problems.push(
                `platform.approvals is missing: in prod a workload deploys only an approved version (readPlatform passes the platform stack's modelApprovals output); ${approvalsRecordedIn(env)}`,
            );
        } else if (!pulumi.Output.isInstance(approvals) && Array.isArray(approvals)) {
            const r = approvalFor(
                approvals as readonly ModelApproval[],
                { team: args.team, model: model.name, version: model.version, digest: knownImageDigest(args), environment: env },
                now,
            );
            if ("problem" in r) problems.push(r.problem);
        }
    }
    problems.push(...resourceProblems(args.resources));
    return { model, problems };
}

/** The digest of a workload's prebuilt image reference, when it is pinned; undefined for a build or an unpinned tag. */
function knownImageDigest(args: ModelWorkloadCommon & { image?: ImageSource }): string | undefined {
    const image = args.image;
    if (!image || isImageBuild(image) || typeof image.reference !== "string") return undefined;
    return imageDigestOf(image.reference);
}

/**
 * The approval a workload deploys under: compliance's record of its model version in
 * `platform.approvals`, checked against the deployed image's digest.
 * - `known`: the record, when the approvals and the image are plain values (checked already by
 *   {@link commonProblems}, so a prod workload without one never gets here).
 * - `approval`: the record as an output (undefined outside prod when there is none).
 * - `gate`: in prod, when the approvals or the image are outputs (a StackReference, a build): an empty
 *   dependency list that fails with the refusal when there is no valid approval. Every child of the
 *   component depends on it, so none is created without one.
 * A team-supplied `approval` outside prod is ignored with a warning.
 */
export function workloadApproval(
    parent: pulumi.Resource,
    component: string,
    args: ModelWorkloadCommon,
    model: ModelRef,
    imageRef: pulumi.Input<string>,
    now: Date = new Date(),
    /** Other images the pods run (a runtime's model-fetch init container, maybe the platform's output): the approval must cover them too, as the cluster's rule does. */
    otherImages: readonly pulumi.Input<string>[] = [],
): { known?: ModelApproval; approval: pulumi.Output<ModelApproval | undefined>; gate?: pulumi.Output<pulumi.Resource[]> } {
    const env = args.platform.environment;
    if (args.approval !== undefined) {
        pulumi.log.warn(`${component}: approval in the team's stack is ignored: ${approvalsRecordedIn(env)}; remove it (refused in prod)`, parent);
    }
    // Approvals are prod's: elsewhere nothing is looked up or stamped.
    if (env !== "prod" || !("version" in model)) return { approval: pulumi.output(undefined) };
    const lookup = (list: readonly ModelApproval[] | undefined, ref: string, others: readonly string[]) => {
        let r = approvalFor(list ?? [], { team: args.team, model: model.name, version: model.version, digest: imageDigestOf(ref), environment: env }, now);
        for (const other of others) {
            if ("problem" in r) break;
            r = approvalFor(list ?? [], { team: args.team, model: model.name, version: model.version, digest: imageDigestOf(other), environment: env }, now);
        }
        if ("approval" in r) return r.approval;
        if (env === "prod") throw new Error(`${component}: ${r.problem}.`);
        return undefined;
    };
    const approvals = args.platform.approvals;
    const plain = approvals === undefined || (!pulumi.Output.isInstance(approvals) && Array.isArray(approvals));
    if (plain && typeof imageRef === "string" && otherImages.every((i) => typeof i === "string")) {
        const known = lookup(approvals as readonly ModelApproval[] | undefined, imageRef, otherImages as readonly string[]);
        return { known, approval: pulumi.output(known) };
    }
    const approval = pulumi
        .all([pulumi.output(approvals), pulumi.output(imageRef), pulumi.all([...otherImages])])
        .apply(([list, ref, others]) => lookup(list as readonly ModelApproval[] | undefined, ref, others));
    return { approval, gate: env === "prod" ? approval.apply(() => [] as pulumi.Resource[]) : undefined };
}

/**
 * Metadata that carries the approval (the workload's and its pod template's labels and annotations):
 * plain when the approval is known, else an output of it.
 */
export function stampedMetadata<T>(
    a: { known?: ApprovalRecord; approval: pulumi.Output<ApprovalRecord | undefined>; gate?: unknown },
    make: (approval?: ApprovalRecord) => T,
): pulumi.Input<T> {
    return a.gate ? a.approval.apply((x) => make(x)) : make(a.known);
}

/** What the labels of a model workload say. */
export interface ModelLabelArgs {
    readonly team: string;
    /** The object name of the workload (the `app.kubernetes.io/instance`). */
    readonly instance: string;
    /** `model-server` or `batch-inference`. */
    readonly component: string;
    readonly model: ModelRef;
    /** Registry alias the version was resolved from (the `stage` label); for an alias URI, that alias. */
    readonly alias?: string;
    readonly approval?: ApprovalRecord;
}

/** Ownership labels of a team's objects: the team is the owner. */
export function teamLabelContext(platform: Pick<PlatformRefs, "labelDomain" | "environment" | "costCentre">, team: string): LabelContext {
    return { labelDomain: platform.labelDomain, owner: team, environment: platform.environment, costCentre: platform.costCentre };
}

/**
 * Labels of a model workload and its pods: `app.kubernetes.io/*` (name = the registered model,
 * version = the model version), ownership, and `mlops.<domain>/model`, `model-version`, `stage`,
 * `approved-by`, `approval-ticket`, `approval-date` (label-safe values; the raw ones are annotations).
 */
export function modelWorkloadLabels(ctx: LabelContext, a: ModelLabelArgs): Record<string, string> {
    const keys = labelKeys(ctx.labelDomain);
    const version = "version" in a.model ? String(a.model.version) : undefined;
    const stage = a.alias ?? ("alias" in a.model ? a.model.alias : undefined);
    return {
        ...standardLabels(ctx, { name: a.model.name, instance: a.instance, component: a.component, version, team: a.team }),
        [keys.model]: labelValue(a.model.name),
        ...(version ? { [keys.modelVersion]: version } : {}),
        ...(stage ? { [keys.stage]: labelValue(stage) } : {}),
        ...(a.approval
            ? {
                  [keys.approvedBy]: labelValue(a.approval.approvedBy),
                  [keys.approvalTicket]: labelValue(a.approval.ticket),
                  [keys.approvalDate]: labelValue(a.approval.date),
              }
            : {}),
    };
}

/** Annotations of a model workload: owners, the exact approval record, the model URI and the rollback target. */
export function modelWorkloadAnnotations(
    labelDomain: string,
    a: { owners: readonly string[]; modelUri: string; approval?: ApprovalRecord; previousVersion?: number },
): Record<string, string> {
    const keys = labelKeys(labelDomain);
    const key = (suffix: string) => orgKey(labelDomain, suffix);
    return {
        [key(ORG_ANNOTATIONS.owners)]: a.owners.join(", "),
        [key(ORG_ANNOTATIONS.modelUri)]: a.modelUri,
        ...(a.previousVersion !== undefined ? { [key(ORG_ANNOTATIONS.previousVersion)]: String(a.previousVersion) } : {}),
        ...(a.approval ? { [keys.approvedBy]: a.approval.approvedBy, [keys.approvalTicket]: a.approval.ticket, [keys.approvalDate]: a.approval.date } : {}),
    };
}

/** MLflow settings of a workload: the tracking URI, and credentials from the platform's optional `mlflow-credentials` Secret (auth on). */
export function mlflowEnv(trackingUri: pulumi.Input<string>): k8s.types.input.core.v1.EnvVar[] {
    return [
        { name: "MLFLOW_TRACKING_URI", value: trackingUri },
        { name: "MLFLOW_TRACKING_USERNAME", valueFrom: { secretKeyRef: { name: MLFLOW_CREDENTIALS_SECRET, key: "username", optional: true } } },
        { name: "MLFLOW_TRACKING_PASSWORD", valueFrom: { secretKeyRef: { name: MLFLOW_CREDENTIALS_SECRET, key: "password", optional: true } } },
    ];
}

/**
 * What a workload runs and for whom, as environment variables: the model URI, name, version (when the
 * URI pins one) and alias, and the owning team. Every model server and batch job gets the same set.
 */
export function modelEnv(modelUri: string, model: ModelRef, alias: string | undefined, team: string): k8s.types.input.core.v1.EnvVar[] {
    return [
        { name: MODEL_URI_ENV, value: modelUri },
        { name: "MODEL_NAME", value: model.name },
        ...("version" in model ? [{ name: "MODEL_VERSION", value: String(model.version) }] : []),
        ...(alias ? [{ name: "MODEL_ALIAS", value: alias }] : []),
        { name: "MLOPS_TEAM", value: team },
    ];
}

/** How an operating note names the image: the prebuilt reference, or where it is built and pushed. */
export function imageDescription(image: ImageSource, defaultRepositoryName: string): string {
    return isImageBuild(image)
        ? `built from ${image.build.context} and pushed to ECR ${image.build.repositoryName ?? defaultRepositoryName} (deployed by digest)`
        : image.reference;
}

/** Problems of extra environment variables a team adds: valid names, none the component sets itself. */
export function extraEnvProblems(env: Readonly<Record<string, unknown>> | undefined, reserved: readonly string[]): string[] {
    return Object.keys(env ?? {}).flatMap((k) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return [`env "${k}" is not a valid variable name (letters, digits and _)`];
        if (reserved.includes(k)) return [`env "${k}" is set by the component; remove it`];
        return [];
    });
}

/** A PrometheusRule's spec groups (the CRD wants `interval` only when set). */
export function prometheusRuleSpec(groups: readonly RuleGroup[]): { groups: RuleGroup[] } {
    return { groups: groups.map((g) => ({ name: g.name, ...(g.interval ? { interval: g.interval } : {}), rules: g.rules })) };
}

// ------------------------------------------------------------------------------------------------
// Shapes of the arguments both workloads take (runtime checks: components/team/argShape.ts).
// ------------------------------------------------------------------------------------------------

/** Shape of {@link PlatformRefs}. */
export const PLATFORM_REFS_SHAPE = {
    environment: req("string", "dev, test or prod (readPlatform(...).refs gives every platform field)"),
    labelDomain: req("string", "the organisation's DNS domain, like acme.io"),
    costCentre: req("string", "the cost centre the team's objects are billed to"),
    runbookBaseUrl: req("string", "https:// URL of docs/runbooks without a trailing slash"),
    mlflowTrackingUri: req("input", "stack output mlflowTrackingUri"),
    artifactBucketName: req("input", "stack output artifactBucketName"),
    gatewayNamespace: req("input", "stack output kubernetes.gatewayNamespace"),
    monitoringNamespace: req("input", "stack output monitoring.namespace"),
    pushgatewayUrl: req("input", "stack output monitoring.pushgatewayUrl"),
    serviceAccountName: opt("input"),
    batchServiceAccountName: opt("input"),
    trainingServiceAccountName: opt("input"),
    modelFetchImage: opt("string"),
    // Plain (checked by ModelRoute) or the stack output readPlatform passes.
    gateway: opt("input"),
    gpuNodes: opt({ object: { nodeSelector: opt("record"), tolerations: opt("input") } }),
    approvals: opt("input", "stack output modelApprovals (readPlatform passes it)"),
} satisfies ShapeOf<PlatformRefs>;

/** Shape of {@link ImageSource}. */
export const IMAGE_SHAPE: ArgKind = {
    describe: '{ reference: "<registry>/<repository>@sha256:<digest>" } or { build: { context } }',
    oneOf: [
        { reference: req("string") },
        {
            build: req({
                object: {
                    context: req("string", "directory of the build context"),
                    dockerfile: opt("string"),
                    buildArgs: opt("record"),
                    repositoryName: opt("string"),
                    tagPrefix: opt("string"),
                },
            }),
        },
    ],
};

/** Shape of ResourceSettings. */
export const RESOURCES_SHAPE: ArgKind = {
    object: {
        cpuRequest: req("string", "a Kubernetes quantity like 500m"),
        memoryRequest: req("string", "a Kubernetes quantity like 1Gi"),
        cpuLimit: req("string", "a Kubernetes quantity like 2"),
        memoryLimit: req("string", "a Kubernetes quantity like 2Gi"),
        ephemeralStorageRequest: opt("string"),
        ephemeralStorageLimit: opt("string"),
    } satisfies ShapeOf<ResourceSettings>,
};

/** Shape of the arguments ModelService and BatchInference share. */
export const WORKLOAD_COMMON_SHAPE = {
    team: req("string", "the team's name (mlops:teams[].name)"),
    owners: req("string[]", "a list of the people or groups accountable for the model"),
    platform: req({ object: PLATFORM_REFS_SHAPE }, "readPlatform(...).refs"),
    modelUri: req("string", "models:/<name>/<version>"),
    alias: opt("string"),
    previousVersion: opt("integer"),
    approval: opt({ object: { approvedBy: req("string"), ticket: req("string"), date: req("string", "YYYY-MM-DD") } }),
    image: req(IMAGE_SHAPE),
    resources: req(RESOURCES_SHAPE, "{ cpuRequest, memoryRequest, cpuLimit, memoryLimit }"),
    runAsUser: opt("integer"),
    tmpSizeLimit: opt("string"),
    env: opt("record"),
} satisfies Shape;

/**
 * Checks a workload's arguments in one pass: the shape (missing, wrong type, unknown), then the values
 * where the shape holds. Throws one error listing every problem, each naming its argument.
 */
export function checkWorkloadArgs<T>(component: string, name: string, args: unknown, shape: Shape, valueProblems: (safe: T) => string[]): void {
    const shapeIssues = shapeProblems(args, shape);
    if (shapeIssues.some((p) => p.path === ""))
        throw argumentsError(
            component,
            name,
            shapeIssues.map((p) => p.message),
        );
    const values = withoutShapeDuplicates(valueProblems(fillForChecks<T>(args, shape)), shapeIssues);
    const problems = [...shapeIssues.map((p) => p.message), ...values];
    if (problems.length > 0) throw argumentsError(component, name, problems);
}
