/**
 * The teams' DVC remotes and a TrainingJob, for real, from the test stack's plan: real DVC (PyPI,
 * e2e/setup/python/dvc.lock) against moto (S3, IAM, STS), and the real MLflow of the stack (PostgreSQL,
 * its containers as rendered, auth on).
 *
 * - The `.dvc/config` the platform exports per team is what DVC itself writes (`dvc remote add -d`,
 *   `dvc remote modify`); a project with it pushes and pulls its data under `teams/<team>/dvc/` only.
 * - IAM: object requests (the keys DVC wrote) with moto enforcing the plan's training policies: the
 *   team's role may, the other team's may not. moto cannot judge listings (it answers
 *   SignatureDoesNotMatch to a signed ListObjectsV2 with a prefix while enforcing, and ignores StringLike
 *   conditions), so DVC runs with enforcement off and every listing DVC sent is judged against the plan's
 *   documents by e2e/lib/iamPolicy.ts, which the suite first checks against moto's own decisions.
 * - A TrainingJob rendered with the platform's outputs runs its container (the example team's tiny
 *   training script under the entrypoint contract, examples/team-fraud/training) with the rendered
 *   environment: it reads the pinned data as the team's training role (moto enforcing), logs to MLflow as
 *   the team's user, and the run carries its reproducibility note; the model is registered.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRAINING_ENV, TRAINING_TAGS } from "../components/contract";
import { TrainingJob } from "../components/team/trainingJob";
import { runProgram } from "../test/harness";
import { evaluate, iamRequestOf, loggedS3Requests } from "./lib/iamPolicy";
import { MlflowStack } from "./lib/mlflowStack";
import { launchOf, runToCompletion } from "./lib/pods";
import { run, type RunResult, waitFor } from "./lib/procs";
import { venvBin, venvEnv } from "./lib/python";
import type { AwsCredentials } from "./lib/s3Emulator";
import { objectsOf, resourceInputs } from "./lib/stackPlans";

const ROOT = path.resolve(__dirname, "..");
const TRAINING_DIR = path.join(ROOT, "examples", "team-fraud", "training");
const COMMIT = "3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a";
const IMAGE = `310987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-train:1.0.0@sha256:${"c".repeat(64)}`;
const DATA = ["amount,hour,fraud", ...Array.from({ length: 40 }, (_, i) => (i % 2 ? `${800 + i},${i % 5},1` : `${5 + i},${10 + (i % 8)},0`))].join("\n") + "\n";

describe("team DVC remotes and a TrainingJob (test stack), for real", () => {
    let m: MlflowStack;
    let work: string;
    let fraud: any;
    let recsys: any;
    let policies: { fraud: string; recsys: string };
    let creds: { fraud: AwsCredentials; recsys: AwsCredentials };
    let dataMd5 = "";
    let dvcLog = "";

    /** Runs `dvc <args>` in a project directory with the given AWS credentials (analytics off, no user config). */
    const dvc = (cwd: string, args: string[], c?: AwsCredentials): Promise<RunResult> =>
        run(venvBin("dvc", "dvc"), args, { cwd, env: venvEnv("dvc", { HOME: work, DVC_NO_ANALYTICS: "1", ...m.s3.clientEnv(c) }), timeoutMs: 180_000 });

    /** A team project is a git repository (DVC's default). */
    const git = (cwd: string, args: string[]): Promise<RunResult> => run("git", args, { cwd, env: { PATH: "/usr/bin:/bin", HOME: work } });

    beforeAll(async () => {
        m = await MlflowStack.create("test");
        const init = await m.runInitContainers();
        const failed = init.find((c) => c.result.code !== 0);
        if (failed) throw new Error(`init container ${failed.name} failed: ${failed.result.stderr.slice(-2000)}`);
        await m.startServer();
        const users = await m.runTeamUsersJob();
        if (users.code !== 0) throw new Error(`team users Job failed: ${users.stdout}${users.stderr}`);
        work = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-training-"));
        fraud = m.outputs.teams.fraud;
        recsys = m.outputs.teams.recsys;
        const policy = (team: string) => resourceInputs(m.plan, "aws:iam/rolePolicy:RolePolicy", `team-${team}-training-policy`).policy as string;
        policies = { fraud: policy("fraud"), recsys: policy("recsys") };
        creds = {
            fraud: await m.s3.roleCredentials("train-fraud", { training: policies.fraud }),
            recsys: await m.s3.roleCredentials("train-recsys", { training: policies.recsys }),
        };
    }, 600_000);
    afterAll(async () => {
        await m?.s3.enforceIam(false).catch(() => undefined);
        await m?.stop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("the exported .dvc/config is what DVC writes for the team's remote", async () => {
        const dir = path.join(work, "config-check");
        fs.mkdirSync(dir);
        expect((await git(dir, ["init", "-q"])).code).toBe(0);
        for (const args of [
            ["init", "-q"],
            ["remote", "add", "-d", fraud.dvc.name, fraud.dvc.url],
            ["remote", "modify", fraud.dvc.name, "region", fraud.dvc.region],
            ["remote", "modify", fraud.dvc.name, "endpointurl", fraud.dvc.endpointUrl],
        ]) {
            const r = await dvc(dir, args);
            expect(r.code, `dvc ${args.join(" ")}: ${r.stderr}`).toBe(0);
        }
        expect(fs.readFileSync(path.join(dir, ".dvc", "config"), "utf8")).toBe(fraud.dvc.config);
        expect(fraud.dvc).toMatchObject({
            url: `s3://${m.bucket}/teams/fraud/dvc`,
            region: "eu-west-1",
            roleArn: fraud.trainingRoleArn,
            serviceAccountName: "training",
        });
        expect(recsys.dvc.url).toBe(`s3://${m.bucket}/teams/recsys/dvc`);
    });

    it("a project with it pushes and pulls its data under teams/fraud/dvc/ only", async () => {
        const dir = path.join(work, "fraud-data");
        fs.mkdirSync(dir);
        expect((await git(dir, ["init", "-q"])).code).toBe(0);
        expect((await dvc(dir, ["init", "-q"])).code).toBe(0);
        fs.writeFileSync(path.join(dir, ".dvc", "config"), fraud.dvc.config);
        // The only local change: the emulator's endpoint instead of AWS's (a Git-ignored config.local).
        fs.writeFileSync(path.join(dir, ".dvc", "config.local"), `['remote "${fraud.dvc.name}"']\n    endpointurl = ${m.s3.endpoint}\n`);
        fs.writeFileSync(path.join(dir, "transactions.csv"), DATA);
        // What DVC sends, from moto's request log (the suite's own reads of the bucket are not in it). moto
        // writes its log through a pipe, late on a loaded machine: the window is fenced by a marker request
        // before and after (a GET of a key nobody writes), each waited for in the log.
        let marks = 0;
        const mark = async (): Promise<number> => {
            const line = `/${m.bucket}/__log-mark-${++marks} HTTP`;
            await m.s3.get(m.bucket, `__log-mark-${marks}`).catch(() => undefined);
            await waitFor(`moto's log line ${line}`, () => m.s3.proc.output.includes(line), 30_000, 50);
            return m.s3.proc.output.indexOf(line);
        };
        const logged = async (args: string[]) => {
            const start = await mark();
            const r = await dvc(dir, args, creds.fraud);
            const end = await mark();
            const window = m.s3.proc.output.slice(start, end);
            dvcLog += window.slice(window.indexOf("\n") + 1);
            return r;
        };
        const add = await dvc(dir, ["add", "-q", "transactions.csv"], creds.fraud);
        expect(add.code, add.stderr).toBe(0);
        dataMd5 = /md5: ([0-9a-f]{32})/.exec(fs.readFileSync(path.join(dir, "transactions.csv.dvc"), "utf8"))![1];
        const push = await logged(["push"]);
        expect(push.code, push.stdout + push.stderr).toBe(0);
        const keys = (await m.s3.list(m.bucket)).map((o) => o.key).filter((k) => !k.startsWith(m.artifactPrefix));
        expect(keys).toEqual([`teams/fraud/dvc/files/md5/${dataMd5.slice(0, 2)}/${dataMd5.slice(2)}`]);
        fs.rmSync(path.join(dir, ".dvc", "cache"), { recursive: true, force: true });
        fs.rmSync(path.join(dir, "transactions.csv"));
        const pull = await logged(["pull"]);
        expect(pull.code, pull.stdout + pull.stderr).toBe(0);
        expect(fs.readFileSync(path.join(dir, "transactions.csv"), "utf8")).toBe(DATA);
    });

    it("the policy evaluator agrees with moto (enforcing IAM) on every object request DVC sent, for both teams' training roles", async () => {
        const objects = loggedS3Requests(dvcLog).filter((r) => r.key !== undefined);
        expect(objects.map((r) => r.method)).toEqual(expect.arrayContaining(["HEAD", "PUT", "GET"]));
        const script = `
import json, sys, boto3
from botocore.exceptions import ClientError
spec = json.load(sys.stdin)
s3 = boto3.client("s3")
out = []
for r in spec["requests"]:
    try:
        if r["method"] == "PUT": s3.put_object(Bucket=r["bucket"], Key=r["key"], Body=b"x")
        elif r["method"] == "HEAD": s3.head_object(Bucket=r["bucket"], Key=r["key"])
        else: s3.get_object(Bucket=r["bucket"], Key=r["key"])
        out.append("Allowed")
    except ClientError as e:
        code = e.response["Error"]["Code"]
        out.append("Allowed" if code in ("404", "NoSuchKey") else code)
print(json.dumps(out))
`;
        // Reads before writes: the PUT of the replay rewrites the object DVC pushed with the same bytes' key.
        const replay = objects.filter((r) => r.method !== "PUT").map((r) => ({ method: r.method, bucket: r.bucket, key: r.key }));
        const moto = async (c: AwsCredentials, requests: object[]) => {
            await m.s3.enforceIam(true);
            try {
                const r = await run(venvBin("s3-emulator", "python"), ["-c", script], {
                    env: venvEnv("s3-emulator", m.s3.clientEnv(c)),
                    input: JSON.stringify({ requests }),
                });
                expect(r.code, r.stderr).toBe(0);
                return JSON.parse(r.stdout) as string[];
            } finally {
                await m.s3.enforceIam(false);
            }
        };
        // A refused HEAD has no body: its code is the status.
        const asDecision = (code: string) => (code === "Allowed" ? "Allowed" : code === "AccessDenied" || code === "403" ? "ImplicitDeny" : code);
        for (const team of ["fraud", "recsys"] as const) {
            const decided = (await moto(creds[team], replay)).map(asDecision);
            expect(decided).toEqual(replay.map((r) => evaluate(policies[team], iamRequestOf({ ...(r as any), query: new URLSearchParams(), status: 200 }))));
            expect(
                decided.every((d) => d === (team === "fraud" ? "Allowed" : "ImplicitDeny")),
                `${team}: ${decided}`,
            ).toBe(true);
        }
        // A write into the other team's remote, and into the team's own models, is refused by moto too.
        const writes = [
            { method: "PUT", bucket: m.bucket, key: "teams/recsys/dvc/files/md5/00/intruder" },
            { method: "PUT", bucket: m.bucket, key: "models/fraud/intruder" },
            { method: "PUT", bucket: m.bucket, key: "teams/fraud/dvc/files/md5/00/own" },
        ];
        expect(await moto(creds.fraud, writes)).toEqual(["AccessDenied", "AccessDenied", "Allowed"]);
        expect(writes.map((w) => evaluate(policies.fraud, iamRequestOf({ ...w, query: new URLSearchParams(), status: 200 })))).toEqual([
            "ImplicitDeny",
            "ImplicitDeny",
            "Allowed",
        ]);
    });

    it("moto cannot judge a listing (why the evaluator does): enforcing, it refuses a signed ListObjectsV2 with a prefix, even the team's own, with SignatureDoesNotMatch", async () => {
        const script = `
import boto3
from botocore.exceptions import ClientError
try:
    boto3.client("s3").list_objects_v2(Bucket="${m.bucket}", Prefix="teams/fraud/dvc/files/md5/", Delimiter="/")
    print("Allowed")
except ClientError as e:
    print(e.response["Error"]["Code"])
`;
        await m.s3.enforceIam(true);
        let r: RunResult;
        try {
            r = await run(venvBin("s3-emulator", "python"), ["-c", script], { env: venvEnv("s3-emulator", m.s3.clientEnv(creds.fraud)) });
        } finally {
            await m.s3.enforceIam(false);
        }
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe("SignatureDoesNotMatch");
    });

    it("every listing DVC sent is allowed by the team's training policy and denied by the other team's (policy evaluator: moto cannot judge s3:prefix)", () => {
        const listings = loggedS3Requests(dvcLog)
            .filter((r) => r.key === undefined)
            .map(iamRequestOf);
        expect(listings.length).toBeGreaterThan(0);
        for (const l of listings) {
            expect(l.action).toBe("s3:ListBucket");
            expect(l.context?.["s3:prefix"]).toMatch(/^teams\/fraud\/dvc\//);
            expect(evaluate(policies.fraud, l), l.context?.["s3:prefix"]).toBe("Allowed");
            expect(evaluate(policies.recsys, l), l.context?.["s3:prefix"]).toBe("ImplicitDeny");
        }
        const bucket = `arn:aws:s3:::${m.bucket}`;
        const list = (prefix: string) => evaluate(policies.fraud, { action: "s3:ListBucket", resource: bucket, context: { "s3:prefix": prefix } });
        expect([list(""), list("teams/"), list("teams/recsys/dvc/"), list("teams/fraud/dvc-other/"), list("models/fraud/")]).toEqual(
            Array(5).fill("ImplicitDeny"),
        );
    });

    it("a TrainingJob's container, as rendered, trains on the pinned data as the team's training role and logs a reproducible run to MLflow as the team's user; the model is registered", async () => {
        expect(dataMd5).toMatch(/^[0-9a-f]{32}$/);
        let job!: TrainingJob;
        const rendered = await runProgram(() => {
            job = new TrainingJob("fraud-training", {
                team: "fraud",
                owners: ["fraud-ml@acme.io"],
                platform: {
                    environment: "test",
                    labelDomain: m.outputs.labelDomain,
                    costCentre: "CC-4410",
                    runbookBaseUrl: "https://github.com/acme/mlops-platform/blob/main/docs/runbooks",
                    mlflowTrackingUri: m.outputs.mlflowTrackingUri,
                    artifactBucketName: m.outputs.artifactBucketName,
                    gatewayNamespace: m.outputs.kubernetes.gatewayNamespace,
                    monitoringNamespace: m.outputs.monitoring.namespace,
                    pushgatewayUrl: m.outputs.monitoring.pushgatewayUrl,
                    trainingServiceAccountName: fraud.trainingServiceAccountName,
                },
                jobName: "fraud-scorer-training",
                image: IMAGE,
                code: { commit: COMMIT, repository: "https://github.com/acme/fraud-models" },
                data: { path: "transactions.csv", md5: dataMd5 },
                parameters: { C: 0.5, max_iter: 200 },
                experiment: "fraud/fraud-scorer",
                registeredModelName: "fraud-scorer",
                command: ["python", "-m", "train"],
                resources: { cpuRequest: "1", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "2Gi" },
            });
        });
        const jobObject = rendered.k8sOfKind("Job", "ml-fraud")[0] as any;
        const pod = jobObject.spec.template.spec;
        expect(pod.serviceAccountName).toBe("training");
        const workdir = path.join(work, "training-pod");
        fs.mkdirSync(workdir);
        const launch = launchOf(
            // The team's mlflow-credentials Secret comes from the platform's plan, as in the cluster.
            {
                objects: objectsOf(m.plan),
                namespace: "ml-fraud",
                podName: `${job.jobName}-x1y2z`,
                rewrite: m.rewrite,
                venv: "mlflow",
                workdir,
                extraEnv: { ...m.s3.clientEnv(creds.fraud), PYTHONPATH: TRAINING_DIR },
            },
            pod,
            pod.containers[0],
        );
        expect(launch.env.MLFLOW_TRACKING_USERNAME).toBe(m.team("fraud").username);
        expect(launch.env.MLFLOW_TRACKING_URI).toBe(m.trackingUri);
        const tmp = launch.mounts["/tmp"];
        const env = { ...launch.env, HOME: tmp, TMPDIR: tmp };
        // The pinned data, read with the rendered environment while moto enforces IAM: the team's training
        // role may (and the md5 checks out), the other team's may not. (The run itself goes on with
        // enforcement off: the emulated MLflow server writes its artifacts with static credentials.)
        const fetch = "import mlops_run; print(mlops_run.fetch_data())";
        await m.s3.enforceIam(true);
        let own: RunResult;
        let other: RunResult;
        try {
            own = await run(venvBin("mlflow", "python"), ["-c", fetch], { env });
            other = await run(venvBin("mlflow", "python"), ["-c", fetch], { env: { ...env, ...m.s3.clientEnv(creds.recsys) } });
        } finally {
            await m.s3.enforceIam(false);
        }
        expect(own.code, own.stderr.slice(-2000)).toBe(0);
        expect(fs.readFileSync(own.stdout.trim(), "utf8")).toBe(DATA);
        expect(other.code).not.toBe(0);
        expect(other.stderr).toContain("AccessDenied");
        const result = await runToCompletion({ ...launch, env }, 300_000);
        expect(result.code, result.stdout + result.stderr.slice(-3000)).toBe(0);
        // MLflow prints its run links on stdout too: the script's own line is the JSON one.
        const printed = JSON.parse(
            result.stdout
                .split("\n")
                .filter((l) => l.startsWith("{"))
                .pop()!,
        );
        expect(printed.model_version).toBe("1");

        const check = await m.client(
            `
import json, sys, mlflow
from mlflow import MlflowClient
c = MlflowClient()
run = c.get_run(sys.argv[1] if len(sys.argv) > 1 else json.load(sys.stdin)["run_id"])
exp = c.get_experiment(run.info.experiment_id)
note = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/reproducibility.json")
versions = [dict(version=v.version, run_id=v.run_id) for v in c.search_model_versions("name='fraud-scorer'")]
print(json.dumps(dict(user=run.info.user_id, experiment=exp.name, tags=run.data.tags, params=run.data.params, metrics=run.data.metrics, note=note, versions=versions)))
`,
            { creds: m.team("fraud"), input: JSON.stringify({ run_id: printed.run_id }) },
        );
        expect(check.code, check.stderr.slice(-3000)).toBe(0);
        const got = JSON.parse(
            check.stdout
                .split("\n")
                .filter((l) => l.startsWith("{"))
                .pop()!,
        );
        const dataRef = `s3://${m.bucket}/teams/fraud/dvc/transactions.csv@md5:${dataMd5}`;
        expect(got.user).toBe(m.team("fraud").username);
        expect(got.experiment).toBe("fraud/fraud-scorer");
        expect(got.tags).toMatchObject({
            [TRAINING_TAGS.team]: "fraud",
            [TRAINING_TAGS.job]: job.jobName,
            [TRAINING_TAGS.gitCommit]: COMMIT,
            [TRAINING_TAGS.mlflowGitCommit]: COMMIT,
            [TRAINING_TAGS.gitRepository]: "https://github.com/acme/fraud-models",
            [TRAINING_TAGS.image]: IMAGE,
            [TRAINING_TAGS.dataRemote]: `s3://${m.bucket}/teams/fraud/dvc`,
            [TRAINING_TAGS.dataPath]: "transactions.csv",
            [TRAINING_TAGS.dataMd5]: dataMd5,
            [TRAINING_TAGS.dataRef]: dataRef,
        });
        expect(got.params).toEqual({ C: "0.5", max_iter: "200" });
        expect(got.metrics.rows).toBe(40);
        expect(got.metrics.train_accuracy).toBeGreaterThan(0.9);
        expect(got.note).toMatchObject({
            code: { git_commit: COMMIT, git_repository: "https://github.com/acme/fraud-models" },
            environment: { image: IMAGE },
            data: { remote: `s3://${m.bucket}/teams/fraud/dvc`, path: "transactions.csv", md5: dataMd5, rev: null, ref: dataRef },
            parameters: { C: 0.5, max_iter: 200 },
            run: { team: "fraud", job: job.jobName, experiment: "fraud/fraud-scorer" },
            metrics: { rows: 40, train_accuracy: got.metrics.train_accuracy },
        });
        expect(got.note.artifacts).toEqual(["data_summary.json"]);
        expect(got.versions).toEqual([{ version: "1", run_id: printed.run_id }]);
        // What the job set is the contract's: every TRAINING_ENV variable the run needed was rendered.
        for (const name of [TRAINING_ENV.gitCommit, TRAINING_ENV.image, TRAINING_ENV.dataRef, TRAINING_ENV.paramsJson, TRAINING_ENV.experiment])
            expect(launch.env[name], name).toBeTruthy();
    });
});
