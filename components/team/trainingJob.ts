/**
 * A reproducible training run: a Kubernetes Job in the owning team's serving namespace that runs one
 * image (pinned by digest, in every environment), built from one git commit (40 hex), on one version of
 * the team's data (a DVC reference: the team's remote, a path, and the git revision or DVC md5 that pins
 * it), with fixed parameters, logging to MLflow as the team's user (the `mlflow-credentials` Secret of
 * its namespace) and running as the team's training identity (the `training` service account: its IRSA
 * role alone reads and writes the team's DVC remote, `teams/<team>/dvc/`).
 *
 * The entrypoint contract (contract/training.ts TRAINING_ENV, docs/team-guide.md#training-runs): the
 * component sets MLOPS_GIT_COMMIT, MLOPS_IMAGE, MLOPS_DATA_REMOTE/PATH/REV/MD5/REF, MLOPS_PARAMS_JSON,
 * MLFLOW_EXPERIMENT_NAME and MLOPS_REGISTERED_MODEL; the image records them on its MLflow run (the helper
 * `examples/team-fraud/training/mlops_run.py` does: tags, params and a `reproducibility.json` artifact
 * with the run's metrics and artifacts), so the run carries its reproducibility note.
 *
 * The Job is named after a hash of what the run is (image, commit, data, parameters, command), so a
 * changed run is a new Job and an unchanged one is left alone; it is not deleted after it finishes (no
 * ttlSecondsAfterFinished: Pulumi would see it vanish and run it again). `pulumi up` does not wait for
 * the run (it may take hours): its outcome is the Job's status and the MLflow run.
 */
import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { opt, req, type Shape, type ShapeOf } from "./argShape";
import type { ResourceSettings } from "../shared/resources";
import { dataRefString, dvcPrefix, ORG_ANNOTATIONS, orgKey, servingNamespaceName, TRAINING_ENV } from "../contract";
import { dvcRemoteUrl } from "../shared/dvcRemote";
import { containerResources, ephemeralStorage, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../shared/k8sHelpers";
import {
    checkWorkloadArgs,
    DEFAULT_TRAINING_SERVICE_ACCOUNT,
    DEFAULT_WORKLOAD_UID,
    extraEnvProblems,
    mlflowEnv,
    PLATFORM_REFS_SHAPE,
    type PlatformRefs,
    RESOURCES_SHAPE,
    resourceProblems,
    teamLabelContext,
} from "./modelWorkload";
import { modelNameProblem, teamNameProblem } from "./modelUri";
import { IMAGE_REFERENCE } from "../contract";
import { standardLabels } from "../shared/naming";

/** Longest job name: the Job is `<jobName>-<8 hex>`, and a Job's name must fit a label value (63). */
export const TRAINING_JOB_NAME_MAX = 54;
/** Largest retry count (backoffLimit): each retry is another MLflow run. */
export const TRAINING_MAX_RETRIES = 3;
/** Longest run deadline accepted (activeDeadlineSeconds): 3 days. */
export const TRAINING_MAX_DEADLINE_SECONDS = 3 * 24 * 3600;
/** Default run deadline. */
export const TRAINING_DEFAULT_DEADLINE_SECONDS = 6 * 3600;
/** Longest parameter value MLflow stores (its `MAX_PARAM_VAL_LENGTH`). */
export const MLFLOW_PARAM_VALUE_MAX = 6000;

/** Environment variables the component sets (a team's `env` may not override them). */
export const TRAINING_JOB_ENV: readonly string[] = [
    ...Object.values(TRAINING_ENV),
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "HOME",
    "TMPDIR",
];

/** Where the run's data comes from: a path of the team's DVC remote, pinned by a git revision or a DVC md5. */
export interface TrainingData {
    /** Path of the data in the data repository (the `.dvc`-tracked file or directory), like `data/transactions.csv`. */
    readonly path: string;
    /** Git commit (40 hex) of the data repository whose `.dvc` file pins the data. Exactly one of `rev` and `md5`. */
    readonly rev?: string;
    /** DVC md5 of the data (32 hex; `<32 hex>.dir` for a directory), as `dvc add` records it. Exactly one of `rev` and `md5`. */
    readonly md5?: string;
}

/** The code a run runs: the commit the image was built from. */
export interface TrainingCode {
    /** Full git commit (40 hex digits): a branch or tag moves, a commit does not. */
    readonly commit: string;
    /** The repository (URL) of the commit. Default none (recorded as absent). */
    readonly repository?: string;
}

/** A parameter value: MLflow records it as a string. */
export type TrainingParameter = string | number | boolean;

/** Arguments of {@link TrainingJob}. */
export interface TrainingJobArgs {
    /** Team that owns the run (`mlops:teams[].name`): it runs in namespace `ml-<team>` as the team's training identity. */
    readonly team: string;
    /** People or groups accountable for the run: an annotation. */
    readonly owners: readonly string[];
    /** What the run needs from the platform stack (`readPlatform(...).refs`). */
    readonly platform: PlatformRefs;
    /** Name of the run (lower-case, starting with a letter, at most 54 characters); the Job is `<jobName>-<8 hex of the run>`. */
    readonly jobName: string;
    /** The training image, pinned by digest (`<registry>/<repository>[:tag]@sha256:<64 hex>`) in every environment: a tag moves. */
    readonly image: string;
    /** The code: the git commit the image was built from. */
    readonly code: TrainingCode;
    /** The data: a path of the team's DVC remote and the revision or md5 that pins it. */
    readonly data: TrainingData;
    /** Parameters of the run (MLflow params): names of letters, digits, `_ - . / ` and space. Default none. */
    readonly parameters?: Readonly<Record<string, TrainingParameter>>;
    /** MLflow experiment of the run: `<team>/<name>`. */
    readonly experiment: string;
    /** Registered model the run's model is registered as (`<team>-<model>`). Default none (the run registers nothing). */
    readonly registeredModelName?: string;
    /** Command of the container (its entrypoint). Default the image's. */
    readonly command?: readonly string[];
    /** Arguments of the container. Default the image's. */
    readonly args?: readonly string[];
    /** Requests and limits of the container. */
    readonly resources: ResourceSettings;
    /** Retries of a failed run (the Job's backoffLimit), 0 to 3: each is another MLflow run. Default 0. */
    readonly retries?: number;
    /** Longest the run may take, in seconds (activeDeadlineSeconds), 60 to 259200. Default 21600 (6 hours). */
    readonly deadlineSeconds?: number;
    /** Numeric uid/gid the image runs as. Default 10001. */
    readonly runAsUser?: number;
    /** Size limit of the writable /tmp (where DVC pulls the data). Default 10Gi. */
    readonly tmpSizeLimit?: string;
    /** Extra environment variables (not those the component sets). Default none. */
    readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
}

/** Every argument of {@link TrainingJobArgs}: what it must be and whether it is required. */
export const TRAINING_JOB_SHAPE: Shape = {
    team: req("string", "the team's name (mlops:teams[].name)"),
    owners: req("string[]", "a list of the people or groups accountable for the run"),
    platform: req({ object: PLATFORM_REFS_SHAPE }, "readPlatform(...).refs"),
    jobName: req("string", "the run's name, like fraud-scorer-training"),
    image: req("string", "<registry>/<repository>@sha256:<digest>"),
    code: req({ object: { commit: req("string", "the 40-hex git commit"), repository: opt("string") } }, "{ commit }"),
    data: req(
        { object: { path: req("string", "the path of the data in the data repository"), rev: opt("string"), md5: opt("string") } },
        "{ path, rev or md5 }",
    ),
    parameters: opt("record"),
    experiment: req("string", "the MLflow experiment, <team>/<name>"),
    registeredModelName: opt("string"),
    command: opt("string[]"),
    args: opt("string[]"),
    resources: req(RESOURCES_SHAPE, "{ cpuRequest, memoryRequest, cpuLimit, memoryLimit }"),
    retries: opt("integer"),
    deadlineSeconds: opt("integer"),
    runAsUser: opt("integer"),
    tmpSizeLimit: opt("string"),
    env: opt("record"),
} satisfies ShapeOf<TrainingJobArgs>;

const GIT_COMMIT = /^[0-9a-f]{40}$/;
const DVC_MD5 = /^[0-9a-f]{32}(\.dir)?$/;
const PARAM_NAME = /^[A-Za-z0-9_\-./ ]{1,250}$/;

/** Problems of the values (the shape holds, or its problems are reported apart). */
function trainingValueProblems(args: TrainingJobArgs): string[] {
    const problems: string[] = [];
    const team = teamNameProblem(args.team);
    if (team) problems.push(team);
    if (args.owners.filter((o) => o.trim() !== "").length === 0) problems.push("owners must name at least one person or group");
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(args.jobName) || args.jobName.length > TRAINING_JOB_NAME_MAX) {
        problems.push(
            `jobName "${args.jobName}" must be lower-case letters, digits and -, starting with a letter, at most ${TRAINING_JOB_NAME_MAX} characters`,
        );
    }
    if (!/@sha256:[a-f0-9]{64}$/.test(args.image)) {
        problems.push(
            `image "${args.image}" must be pinned by digest (<registry>/<repository>@sha256:<64 hex digits>): a training run names exactly the environment it ran in`,
        );
    } else if (!IMAGE_REFERENCE.test(args.image)) {
        problems.push(
            `image "${args.image}" is not an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/train:1.4.0@sha256:<64 hex digits>`,
        );
    }
    if (!GIT_COMMIT.test(args.code.commit)) {
        problems.push(`code.commit "${args.code.commit}" must be a full git commit (40 lower-case hex digits): a branch or tag moves`);
    }
    if (args.code.repository !== undefined && (args.code.repository.length === 0 || /\s/.test(args.code.repository))) {
        problems.push(`code.repository "${args.code.repository}" must be a repository URL without spaces`);
    }
    const path = args.data.path;
    if (path.length === 0 || path.startsWith("/") || /\\|\s/.test(path) || path.split("/").some((p) => p === ".." || p === "." || p === "")) {
        problems.push(`data.path "${path}" must be a relative path inside the data repository (no leading /, no . or .. segments, no spaces)`);
    }
    const pins = [args.data.rev, args.data.md5].filter((x) => x !== undefined).length;
    if (pins !== 1)
        problems.push(`data must pin the data with exactly one of rev (a 40-hex git commit) and md5 (DVC's md5), got ${pins === 0 ? "neither" : "both"}`);
    if (args.data.rev !== undefined && !GIT_COMMIT.test(args.data.rev)) {
        problems.push(`data.rev "${args.data.rev}" must be a full git commit (40 lower-case hex digits): a branch or tag moves`);
    }
    if (args.data.md5 !== undefined && !DVC_MD5.test(args.data.md5)) {
        problems.push(`data.md5 "${args.data.md5}" must be a DVC md5 (32 lower-case hex digits, with .dir for a directory)`);
    }
    for (const [name, value] of Object.entries(args.parameters ?? {})) {
        if (!PARAM_NAME.test(name)) problems.push(`parameters: "${name}" is not an MLflow parameter name (1-250 letters, digits, _ - . / and spaces)`);
        if (typeof value === "number" && !Number.isFinite(value)) problems.push(`parameters.${name} must be a finite number, got ${value}`);
        else if (!["string", "number", "boolean"].includes(typeof value))
            problems.push(`parameters.${name} must be a string, number or boolean, got ${value === null ? "null" : typeof value}`);
        else if (String(value).length > MLFLOW_PARAM_VALUE_MAX)
            problems.push(`parameters.${name} is ${String(value).length} characters long; MLflow keeps at most ${MLFLOW_PARAM_VALUE_MAX}`);
    }
    if (!args.experiment.startsWith(`${args.team}/`) || args.experiment.length <= args.team.length + 1 || /[\n\r]/.test(args.experiment)) {
        problems.push(`experiment "${args.experiment}" must be the team's: "${args.team}/<name>"`);
    }
    if (args.registeredModelName !== undefined) {
        const m = modelNameProblem(args.registeredModelName, args.team);
        if (m) problems.push(`registeredModelName: ${m}`);
    }
    const retries = args.retries ?? 0;
    if (!Number.isInteger(retries) || retries < 0 || retries > TRAINING_MAX_RETRIES) {
        problems.push(`retries must be an integer from 0 to ${TRAINING_MAX_RETRIES} (the Job's backoffLimit), got ${retries}`);
    }
    const deadline = args.deadlineSeconds ?? TRAINING_DEFAULT_DEADLINE_SECONDS;
    if (!Number.isInteger(deadline) || deadline < 60 || deadline > TRAINING_MAX_DEADLINE_SECONDS) {
        problems.push(`deadlineSeconds must be an integer from 60 to ${TRAINING_MAX_DEADLINE_SECONDS}, got ${deadline}`);
    }
    const uid = args.runAsUser ?? DEFAULT_WORKLOAD_UID;
    if (!Number.isInteger(uid) || uid < 1 || uid > 2147483647) problems.push(`runAsUser must be a numeric non-root uid (1 to 2147483647), got ${uid}`);
    if (args.tmpSizeLimit !== undefined && !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(args.tmpSizeLimit)) {
        problems.push(`tmpSizeLimit "${args.tmpSizeLimit}" is not a Kubernetes quantity like 10Gi`);
    }
    problems.push(...resourceProblems(args.resources), ...extraEnvProblems(args.env, TRAINING_JOB_ENV));
    return problems;
}

/** Checks the arguments before anything is registered: one error naming every problem. */
export function validateTrainingJobArgs(name: string, args: TrainingJobArgs): void {
    checkWorkloadArgs<TrainingJobArgs>("TrainingJob", name, args, TRAINING_JOB_SHAPE, trainingValueProblems);
}

/** The parameters as the run records them: a JSON object, names sorted, values as given. */
export function parametersJson(parameters: Readonly<Record<string, TrainingParameter>> | undefined): string {
    const p = parameters ?? {};
    return JSON.stringify(
        Object.fromEntries(
            Object.keys(p)
                .sort()
                .map((k) => [k, p[k]]),
        ),
    );
}

/** 8 hex of the SHA-256 of what the run is: the Job's name suffix (a changed run is a new Job). */
export function trainingRunHash(
    args: Pick<TrainingJobArgs, "image" | "code" | "data" | "parameters" | "command" | "args" | "experiment" | "registeredModelName">,
): string {
    const what = {
        image: args.image,
        commit: args.code.commit,
        repository: args.code.repository ?? null,
        data: { path: args.data.path, rev: args.data.rev ?? null, md5: args.data.md5 ?? null },
        parameters: parametersJson(args.parameters),
        command: args.command ?? null,
        args: args.args ?? null,
        experiment: args.experiment,
        registeredModelName: args.registeredModelName ?? null,
    };
    return createHash("sha256").update(JSON.stringify(what)).digest("hex").slice(0, 8);
}

/**
 * The entrypoint contract's environment of a run (contract/training.ts TRAINING_ENV): what the run is and
 * where it logs. `remoteUrl` is the team's DVC remote (`s3://<bucket>/teams/<team>/dvc`).
 */
export function trainingEnv(args: TrainingJobArgs, jobName: string, remoteUrl: pulumi.Input<string>): k8s.types.input.core.v1.EnvVar[] {
    const pin = args.data.rev !== undefined ? { rev: args.data.rev } : { md5: args.data.md5! };
    const ref = pulumi.output(remoteUrl).apply((url) => dataRefString(url, args.data.path, pin));
    return [
        { name: TRAINING_ENV.team, value: args.team },
        { name: TRAINING_ENV.job, value: jobName },
        ...(args.code.repository !== undefined ? [{ name: TRAINING_ENV.gitRepository, value: args.code.repository }] : []),
        { name: TRAINING_ENV.gitCommit, value: args.code.commit },
        { name: TRAINING_ENV.image, value: args.image },
        { name: TRAINING_ENV.dataRemote, value: remoteUrl },
        { name: TRAINING_ENV.dataPath, value: args.data.path },
        ...(args.data.rev !== undefined ? [{ name: TRAINING_ENV.dataRev, value: args.data.rev }] : []),
        ...(args.data.md5 !== undefined ? [{ name: TRAINING_ENV.dataMd5, value: args.data.md5 }] : []),
        { name: TRAINING_ENV.dataRef, value: ref },
        { name: TRAINING_ENV.paramsJson, value: parametersJson(args.parameters) },
        { name: TRAINING_ENV.experiment, value: args.experiment },
        ...(args.registeredModelName !== undefined ? [{ name: TRAINING_ENV.registeredModel, value: args.registeredModelName }] : []),
        ...mlflowEnv(args.platform.mlflowTrackingUri),
        { name: "HOME", value: "/tmp" },
        { name: "TMPDIR", value: "/tmp" },
        ...Object.entries(args.env ?? {}).map(([k, v]) => ({ name: k, value: v })),
    ];
}

/** A reproducible training run as a Kubernetes Job. */
export class TrainingJob extends pulumi.ComponentResource {
    /** Name of the Job: `<jobName>-<8 hex of the run>`. */
    public readonly jobName: string;
    /** The team's namespace the Job runs in. */
    public readonly namespace: string;
    /** The data reference the run records (`MLOPS_DATA_REF`). */
    public readonly dataRef: pulumi.Output<string>;
    /** The Job's status as Kubernetes reports it (not awaited: read it after the run). */
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: TrainingJobArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): misuse fails before anything is registered.
        validateTrainingJobArgs(name, args);
        super("mlops:index:TrainingJob", name, {}, opts);

        const p = args.platform;
        const ns = servingNamespaceName(args.team);
        const jobName = `${args.jobName}-${trainingRunHash(args)}`;
        const uid = args.runAsUser ?? DEFAULT_WORKLOAD_UID;
        const tmp = args.tmpSizeLimit ?? "10Gi";
        const remoteUrl = pulumi.output(p.artifactBucketName).apply((bucket) => dvcRemoteUrl(bucket, args.team));
        const env = trainingEnv(args, jobName, remoteUrl);
        this.dataRef = pulumi.output(env.find((e) => e.name === TRAINING_ENV.dataRef)!.value as pulumi.Input<string>);

        const labels = standardLabels(teamLabelContext(p, args.team), { name: args.jobName, instance: jobName, component: "training", team: args.team });
        const annotations = {
            [orgKey(p.labelDomain, ORG_ANNOTATIONS.owners)]: args.owners.join(", "),
            // Pulumi does not wait for the run: it may take hours; its outcome is the Job's status and the MLflow run.
            "pulumi.com/skipAwait": "true",
        };

        this.job = new k8s.batch.v1.Job(
            `${name}-job`,
            {
                metadata: { name: jobName, namespace: ns, labels, annotations },
                spec: {
                    // No ttlSecondsAfterFinished: Pulumi would see the Job vanish and run it again.
                    backoffLimit: args.retries ?? 0,
                    activeDeadlineSeconds: args.deadlineSeconds ?? TRAINING_DEFAULT_DEADLINE_SECONDS,
                    template: {
                        metadata: { labels, annotations: { [orgKey(p.labelDomain, ORG_ANNOTATIONS.owners)]: args.owners.join(", ") } },
                        spec: {
                            restartPolicy: "Never",
                            serviceAccountName: p.trainingServiceAccountName ?? DEFAULT_TRAINING_SERVICE_ACCOUNT,
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            securityContext: restrictedPodSecurityContext(uid),
                            containers: [
                                {
                                    name: "train",
                                    image: args.image,
                                    imagePullPolicy: "IfNotPresent",
                                    ...(args.command ? { command: [...args.command] } : {}),
                                    ...(args.args ? { args: [...args.args] } : {}),
                                    env,
                                    resources: containerResources(args.resources, ephemeralStorage("1Gi", [tmp])),
                                    securityContext: restrictedContainerSecurityContext(uid),
                                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                                },
                            ],
                            volumes: [{ name: "tmp", emptyDir: { sizeLimit: tmp } }],
                        },
                    },
                },
            },
            // The same name after a change of what the run is cannot happen (the name is its hash); a change of
            // anything else (labels, resources) replaces the Job under the same name: delete it first.
            { parent: this, deleteBeforeReplace: true },
        );

        this.jobName = jobName;
        this.namespace = ns;
        this.registerOutputs({ jobName, namespace: ns, dataRef: this.dataRef, dvcPrefix: dvcPrefix(args.team) });
    }
}
