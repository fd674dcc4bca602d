/**
 * TrainingJob: every argument rule with its exact error (all problems in one message, nothing
 * registered on misuse), and the Job it renders: image by digest, the entrypoint contract's environment
 * (code, environment, data reference, parameters, MLflow as the team's user), the training identity,
 * the restricted security context, limits, deadline and retries, and a name that changes with the run.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { TRAINING_ENV } from "../components/contract";
import { validateObjects } from "../engine/kubernetes";
import { ProgramError } from "../engine/recorder";
import { parametersJson, TrainingJob, type TrainingJobArgs, trainingRunHash, validateTrainingJobArgs } from "../components/team/trainingJob";
import * as library from "../components/team";
import { runProgram, type StackRun } from "./harness";
import { platformRefs } from "./modelServiceFixtures";

const IMAGE = `410987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-train:1.4.0@sha256:${"c".repeat(64)}`;
const COMMIT = "3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a";
const DATA_MD5 = "0f343b0931126a20f133d67c2b018a3b";

function args(change: Partial<TrainingJobArgs> = {}): TrainingJobArgs {
    return {
        team: "fraud",
        owners: ["fraud-ml@acme.io"],
        platform: { ...platformRefs("prod"), trainingServiceAccountName: "training" },
        jobName: "fraud-scorer-training",
        image: IMAGE,
        code: { commit: COMMIT, repository: "https://github.com/acme/fraud-models" },
        data: { path: "data/transactions.csv", md5: DATA_MD5 },
        parameters: { C: 0.5, max_iter: 200, class_weight: "balanced", fit_intercept: true },
        experiment: "fraud/fraud-scorer",
        registeredModelName: "fraud-scorer",
        command: ["python", "train.py"],
        resources: { cpuRequest: "2", memoryRequest: "4Gi", cpuLimit: "4", memoryLimit: "8Gi" },
        ...change,
    };
}

function errorOf(a: unknown): string | undefined {
    try {
        validateTrainingJobArgs("train", a as TrainingJobArgs);
    } catch (e) {
        return (e as Error).message;
    }
    return undefined;
}

describe("TrainingJob arguments", () => {
    it("accept a pinned run in every environment, with a data rev or md5", () => {
        for (const env of ["dev", "test", "prod"] as const) expect(errorOf(args({ platform: platformRefs(env) }))).toBeUndefined();
        expect(
            errorOf(args({ data: { path: "data/features", rev: COMMIT }, parameters: undefined, registeredModelName: undefined, command: undefined })),
        ).toBeUndefined();
        expect(errorOf(args({ data: { path: "data/features", md5: `${DATA_MD5}.dir` } }))).toBeUndefined();
    });

    const cases: [string, Partial<TrainingJobArgs>, string][] = [
        [
            "an image by tag, even in dev",
            { image: "410987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-train:1.4.0", platform: platformRefs("dev") },
            'image "410987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-train:1.4.0" must be pinned by digest (<registry>/<repository>@sha256:<64 hex digits>): a training run names exactly the environment it ran in',
        ],
        [
            "a malformed image with a digest",
            { image: `Fraud Train@sha256:${"c".repeat(64)}` },
            `image "Fraud Train@sha256:${"c".repeat(64)}" is not an image reference like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/train:1.4.0@sha256:<64 hex digits>`,
        ],
        ["a branch as commit", { code: { commit: "main" } }, 'code.commit "main" must be a full git commit (40 lower-case hex digits): a branch or tag moves'],
        [
            "a short commit",
            { code: { commit: "3f2a9c1" } },
            'code.commit "3f2a9c1" must be a full git commit (40 lower-case hex digits): a branch or tag moves',
        ],
        [
            "no data pin",
            { data: { path: "data/transactions.csv" } },
            "data must pin the data with exactly one of rev (a 40-hex git commit) and md5 (DVC's md5), got neither",
        ],
        [
            "two data pins",
            { data: { path: "data/transactions.csv", rev: COMMIT, md5: DATA_MD5 } },
            "data must pin the data with exactly one of rev (a 40-hex git commit) and md5 (DVC's md5), got both",
        ],
        [
            "a data tag",
            { data: { path: "data/transactions.csv", rev: "v1.0" } },
            'data.rev "v1.0" must be a full git commit (40 lower-case hex digits): a branch or tag moves',
        ],
        [
            "a bad md5",
            { data: { path: "data/transactions.csv", md5: "xyz" } },
            'data.md5 "xyz" must be a DVC md5 (32 lower-case hex digits, with .dir for a directory)',
        ],
        [
            "a path out of the repository",
            { data: { path: "../other/data.csv", md5: DATA_MD5 } },
            'data.path "../other/data.csv" must be a relative path inside the data repository (no leading /, no . or .. segments, no spaces)',
        ],
        [
            "an absolute path",
            { data: { path: "/data.csv", md5: DATA_MD5 } },
            'data.path "/data.csv" must be a relative path inside the data repository (no leading /, no . or .. segments, no spaces)',
        ],
        ["another team's experiment", { experiment: "recsys/ranker" }, 'experiment "recsys/ranker" must be the team\'s: "fraud/<name>"'],
        [
            "another team's model",
            { registeredModelName: "recsys-ranker" },
            'registeredModelName: model name "recsys-ranker" must start with the team name ("fraud-")',
        ],
        [
            "a parameter name MLflow refuses",
            { parameters: { "C;drop": 1 } },
            'parameters: "C;drop" is not an MLflow parameter name (1-250 letters, digits, _ - . / and spaces)',
        ],
        ["a parameter that is not a number", { parameters: { C: Number.NaN } }, "parameters.C must be a finite number, got NaN"],
        ["a parameter that is an object", { parameters: { C: { a: 1 } as unknown as string } }, "parameters.C must be a string, number or boolean, got object"],
        ["five retries", { retries: 5 }, "retries must be an integer from 0 to 3 (the Job's backoffLimit), got 5"],
        ["a deadline of a week", { deadlineSeconds: 604800 }, "deadlineSeconds must be an integer from 60 to 259200, got 604800"],
        [
            "a job name too long",
            { jobName: `fraud-${"t".repeat(49)}` },
            `jobName "fraud-${"t".repeat(49)}" must be lower-case letters, digits and -, starting with a letter, at most 54 characters`,
        ],
        ["an env var the component sets", { env: { MLOPS_GIT_COMMIT: "other" } }, 'env "MLOPS_GIT_COMMIT" is set by the component; remove it'],
        ["root", { runAsUser: 0 }, "runAsUser must be a numeric non-root uid (1 to 2147483647), got 0"],
        [
            "requests above limits",
            { resources: { cpuRequest: "2", memoryRequest: "16Gi", cpuLimit: "4", memoryLimit: "8Gi" } },
            "resources.memoryRequest (16Gi) must not exceed resources.memoryLimit (8Gi)",
        ],
        ["no owners", { owners: [] }, "owners must name at least one person or group"],
    ];

    it.each(cases)("refuse %s", (_what, change, problem) => {
        expect(errorOf(args(change))).toBe(`TrainingJob "train": ${problem}.`);
    });

    it("name every problem in one message, the shape's and the values'", () => {
        const bad = { ...args({ image: "train:latest", code: { commit: "HEAD" }, data: { path: "data.csv" } }), experiment: undefined, bogus: 1 };
        expect(errorOf(bad)).toBe(
            'TrainingJob "train": experiment is required: the MLflow experiment, <team>/<name>; ' +
                "bogus is not an argument (known here: team, owners, platform, jobName, image, code, data, parameters, experiment, registeredModelName, command, args, resources, retries, deadlineSeconds, runAsUser, tmpSizeLimit, env); " +
                'image "train:latest" must be pinned by digest (<registry>/<repository>@sha256:<64 hex digits>): a training run names exactly the environment it ran in; ' +
                'code.commit "HEAD" must be a full git commit (40 lower-case hex digits): a branch or tag moves; ' +
                "data must pin the data with exactly one of rev (a 40-hex git commit) and md5 (DVC's md5), got neither.",
        );
    });

    it("register nothing when misused", async () => {
        const error = await runProgram(() => {
            new TrainingJob("train", args({ code: { commit: "main" } }));
        }).catch((e) => e);
        expect(error).toBeInstanceOf(ProgramError);
        expect((error as ProgramError).resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});

describe("TrainingJob as rendered", () => {
    let run: StackRun;
    let component: TrainingJob;
    beforeAll(async () => {
        run = await runProgram(() => {
            component = new TrainingJob("train", args());
        });
    });
    const job = () => {
        const jobs = run.k8sOfKind("Job", "ml-fraud");
        expect(jobs).toHaveLength(1);
        return jobs[0] as any;
    };
    const pod = () => job().spec.template.spec;
    const container = () => pod().containers[0];
    const env = () => Object.fromEntries(container().env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

    it("is one valid Job, a child of the component, named after the run", async () => {
        const objects = run.k8s().map((o) => o.object);
        expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
            `Job/ml-fraud/fraud-scorer-training-${trainingRunHash(args())}`,
        ]);
        expect(await validateObjects(objects)).toEqual([]);
        expect(component.jobName).toBe(`fraud-scorer-training-${trainingRunHash(args())}`);
        expect(component.jobName.length).toBeLessThanOrEqual(63);
        const parent = run.one("mlops:index:TrainingJob");
        expect(run.one("kubernetes:batch/v1:Job").parent).toBe(parent.urn);
        expect(run.one("kubernetes:batch/v1:Job").options?.deleteBeforeReplace ?? true).toBe(true);
    });

    it("runs the image by digest as the team's training identity, restricted, bounded", () => {
        const j = job();
        expect(j.metadata.labels).toMatchObject({
            "app.kubernetes.io/name": "fraud-scorer-training",
            "app.kubernetes.io/component": "training",
            "mlops.acme.io/team": "fraud",
            "mlops.acme.io/owner": "fraud",
            "mlops.acme.io/environment": "prod",
            "mlops.acme.io/cost-centre": "CC-5120",
        });
        // A training run is not a model workload: the model approval rules do not apply to it.
        expect(Object.keys(j.metadata.labels)).not.toContain("mlops.acme.io/model");
        expect(j.metadata.annotations).toEqual({ "mlops.acme.io/owners": "fraud-ml@acme.io", "pulumi.com/skipAwait": "true" });
        expect(j.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 21600 });
        expect(j.spec.ttlSecondsAfterFinished).toBeUndefined();
        expect(j.spec.template.metadata.labels).toEqual(j.metadata.labels);
        expect(pod()).toMatchObject({
            restartPolicy: "Never",
            serviceAccountName: "training",
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "10Gi" } }],
        });
        expect(container()).toMatchObject({
            name: "train",
            image: IMAGE,
            command: ["python", "train.py"],
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ["ALL"] } },
            resources: {
                requests: { cpu: "2", memory: "4Gi", "ephemeral-storage": "1Gi" },
                limits: { cpu: "4", memory: "8Gi", "ephemeral-storage": "10496Mi" },
            },
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        });
        expect(container().args).toBeUndefined();
    });

    it("sets the entrypoint contract: code, environment, data reference, parameters, and MLflow as the team's user", () => {
        const remote = "s3://acme-mlops-prod-artifacts/teams/fraud/dvc";
        expect(env()).toEqual({
            [TRAINING_ENV.team]: "fraud",
            [TRAINING_ENV.job]: component.jobName,
            [TRAINING_ENV.gitRepository]: "https://github.com/acme/fraud-models",
            [TRAINING_ENV.gitCommit]: COMMIT,
            [TRAINING_ENV.image]: IMAGE,
            [TRAINING_ENV.dataRemote]: remote,
            [TRAINING_ENV.dataPath]: "data/transactions.csv",
            [TRAINING_ENV.dataMd5]: DATA_MD5,
            [TRAINING_ENV.dataRef]: `${remote}/data/transactions.csv@md5:${DATA_MD5}`,
            [TRAINING_ENV.paramsJson]: '{"C":0.5,"class_weight":"balanced","fit_intercept":true,"max_iter":200}',
            [TRAINING_ENV.experiment]: "fraud/fraud-scorer",
            [TRAINING_ENV.registeredModel]: "fraud-scorer",
            MLFLOW_TRACKING_URI: "http://mlflow.mlflow.svc.cluster.local",
            MLFLOW_TRACKING_USERNAME: { secretKeyRef: { name: "mlflow-credentials", key: "username", optional: true } },
            MLFLOW_TRACKING_PASSWORD: { secretKeyRef: { name: "mlflow-credentials", key: "password", optional: true } },
            HOME: "/tmp",
            TMPDIR: "/tmp",
        });
        expect(Object.keys(TRAINING_ENV).length).toBe(new Set(Object.values(TRAINING_ENV)).size);
    });

    it("is a new Job when what the run is changes, the same Job when it does not", () => {
        const base = trainingRunHash(args());
        expect(trainingRunHash(args())).toBe(base);
        expect(trainingRunHash(args({ parameters: { max_iter: 200, fit_intercept: true, class_weight: "balanced", C: 0.5 } }))).toBe(base);
        for (const change of [
            { image: IMAGE.replace(/c{64}$/, "d".repeat(64)) },
            { code: { commit: COMMIT.replace(/^3/, "4"), repository: "https://github.com/acme/fraud-models" } },
            { data: { path: "data/transactions.csv", md5: DATA_MD5.replace(/^0/, "1") } },
            { parameters: { C: 1 } },
            { command: ["python", "train2.py"] },
        ] as Partial<TrainingJobArgs>[]) {
            expect(trainingRunHash(args(change))).not.toBe(base);
        }
        expect(parametersJson(undefined)).toBe("{}");
    });

    it("is exported by the library", () => {
        expect(library.TrainingJob).toBe(TrainingJob);
        expect(library.validateTrainingJobArgs).toBe(validateTrainingJobArgs);
    });
});
