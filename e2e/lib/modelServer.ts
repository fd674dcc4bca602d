/**
 * The example team's model server (examples/team-fraud/model-server/server.py) run for real: a tiny
 * scikit-learn fraud model trained here, logged and registered in a real MLflow (e2e/lib/mlflowStack.ts)
 * as the team's user, and the server started from the model-server venv (its image's lock) with the
 * container the team plan renders for the ModelService (the image's CMD from its Dockerfile, since the
 * Deployment sets none), only endpoints rewritten: the tracking URI, the ports, AWS's endpoint.
 *
 * {@link producePredictionLogs} is the one-call helper other suites use (the drift check): it brings
 * everything up, sends the given inputs, stops the server (which flushes its log) and returns the
 * prediction-log objects the server wrote to the emulated S3.
 */
import * as fs from "fs";
import * as path from "path";
import type { Plan } from "../../engine/plan";
import { type MlflowStack, MlflowStack as Mlflow } from "./mlflowStack";
import { findObject, objectsOf, planExampleTeam, resourceInputs, type StackName } from "./stackPlans";
import { launchOf, startContainer } from "./pods";
import { freePort, type Proc, waitFor } from "./procs";
import { type AwsCredentials } from "./s3Emulator";

const SERVER_DIR = path.resolve(__dirname, "..", "..", "examples", "team-fraud", "model-server");

/** One transaction, as the input schema (examples/team-fraud/schemas) describes it. */
export interface Transaction {
    amount: number;
    currency: string;
    merchant_category: string;
    country: string;
    card_present: boolean;
    hour_of_day: number;
}

/**
 * Trains the fraud model (one-hot categories + logistic regression, predicting the fraud probability),
 * logs it as a pyfunc model and registers `versions` versions of it under `model` as the given user (the
 * served version is the last; earlier ones are the same model), and points `alias` at the last.
 */
export const TRAIN = `
import json, sys, mlflow, numpy as np, pandas as pd
from mlflow import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

spec = json.load(sys.stdin)
rng = np.random.default_rng(7)
n = 400
fraud = rng.random(n) < 0.3
X = pd.DataFrame({
    "amount": np.where(fraud, rng.uniform(400, 3000, n), rng.uniform(1, 300, n)),
    "currency": rng.choice(["EUR", "GBP", "USD", "CHF", "SEK"], n),
    "merchant_category": rng.choice(["5411", "5812", "5999", "7995"], n),
    "country": rng.choice(["DE", "FR", "GB", "US"], n),
    "card_present": np.where(fraud, rng.random(n) < 0.2, rng.random(n) < 0.9),
    "hour_of_day": np.where(fraud, rng.integers(0, 6, n), rng.integers(8, 22, n)),
})
pipeline = Pipeline([
    ("features", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["currency", "merchant_category", "country"])], remainder="passthrough")),
    ("model", LogisticRegression(max_iter=1000)),
]).fit(X.astype({"card_present": float, "hour_of_day": float}), fraud.astype(int))

class FraudScorer(mlflow.pyfunc.PythonModel):
    """Fraud probability of each transaction."""
    def __init__(self, pipeline):
        self.pipeline = pipeline
    def predict(self, context, model_input, params=None):
        df = pd.DataFrame(model_input).astype({"card_present": float, "hour_of_day": float})
        return self.pipeline.predict_proba(df)[:, 1]

mlflow.set_experiment(spec["experiment"])
with mlflow.start_run() as run:
    mlflow.log_param("model", "logistic-regression")
    info = mlflow.pyfunc.log_model(name="model", python_model=FraudScorer(pipeline))
client = MlflowClient()
try:
    client.create_registered_model(spec["model"])
except mlflow.exceptions.MlflowException:
    pass
for _ in range(spec["versions"]):
    version = client.create_model_version(spec["model"], info.model_uri, run_id=run.info.run_id).version
client.set_registered_model_alias(spec["model"], spec["alias"], version)
print(json.dumps({"run_id": run.info.run_id, "version": version}))
`;

export async function trainAndRegister(
    m: MlflowStack,
    o: { model: string; versions: number; alias: string; team: string },
): Promise<{ run_id: string; version: string }> {
    const r = await m.client(TRAIN, {
        creds: m.teamUsersJob ? m.team(o.team) : undefined,
        input: JSON.stringify({ experiment: `${o.team}-${o.model}`, model: o.model, versions: o.versions, alias: o.alias }),
    });
    if (r.code !== 0) throw new Error(`training failed: ${r.stderr.slice(-3000)}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** The image's CMD from the Dockerfile (exec form), with /app/server.py mapped to the repository's file. */
export function imageCommand(): string[] {
    const dockerfile = fs.readFileSync(path.join(SERVER_DIR, "Dockerfile"), "utf8");
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    if (!cmd) throw new Error("examples/team-fraud/model-server/Dockerfile has no exec-form CMD");
    const copy = /^COPY (?:--\S+ )*server\.py (\S+)$/m.exec(dockerfile);
    return (JSON.parse(cmd[1]) as string[]).map((a) => (copy && a === copy[1] ? path.join(SERVER_DIR, "server.py") : a));
}

export class ModelServer {
    private constructor(
        readonly proc: Proc,
        readonly port: number,
        readonly metricsPort: number,
        readonly container: any,
    ) {}

    /** Starts the team plan's model-server container against the MLflow of `m`. */
    static async start(
        m: MlflowStack,
        team: Plan,
        o: { deployment: string; aws: AwsCredentials | undefined; envOverride?: Record<string, string> },
    ): Promise<ModelServer> {
        const deployment = findObject(team, "Deployment", o.deployment);
        const pod = deployment.spec.template.spec;
        const container = pod.containers.find((c: any) => c.name === "model-server");
        const port = await freePort();
        const metricsPort = await freePort();
        const ports: Record<string, number> = Object.fromEntries(
            container.ports.map((p: any) => [String(p.containerPort), p.name === "metrics" ? metricsPort : port]),
        );
        const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
        const workdir = fs.mkdtempSync(path.join(m.workdir, "model-server-"));
        const withCommand = container.command ? container : { ...container, command: imageCommand() };
        // PORT and METRICS_PORT are the container ports: on loopback they are free ports.
        const renderedPorts = {
            ...withCommand,
            env: container.env.map((e: any) => (["PORT", "METRICS_PORT"].includes(e.name) && e.value in ports ? { ...e, value: String(ports[e.value]) } : e)),
        };
        if (!env.PORT || !env.METRICS_PORT) throw new Error("the model-server container no longer sets PORT and METRICS_PORT: update the suite");
        const launch = launchOf(
            {
                objects: [...objectsOf(m.plan), ...objectsOf(team)],
                namespace: deployment.metadata.namespace,
                podName: `${o.deployment}-0`,
                rewrite: m.rewrite,
                venv: "model-server",
                workdir,
                extraEnv: { ...m.s3.clientEnv(o.aws), ...(o.envOverride ?? {}) },
            },
            pod,
            renderedPorts,
        );
        const proc = startContainer(o.deployment, launch);
        const server = new ModelServer(proc, port, metricsPort, container);
        return server;
    }

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    /** Waits for the startup probe (readiness path) to pass. */
    async waitReady(timeoutMs = 180_000): Promise<void> {
        const probe = this.container.startupProbe.httpGet.path;
        await waitFor(
            "the model server's startup probe",
            async () => {
                if (!this.proc.running) throw new Error(`model server exited:\n${this.proc.tail()}`);
                return (await fetch(`${this.url}${probe}`).catch(() => undefined))?.status === 200;
            },
            timeoutMs,
            500,
        );
    }

    async invoke(instances: unknown[]): Promise<{ status: number; body: any }> {
        const r = await fetch(`${this.url}/invocations`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ instances }),
        });
        return { status: r.status, body: await r.json() };
    }

    async metrics(): Promise<string> {
        const r = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
        if (!r.ok) throw new Error(`/metrics: HTTP ${r.status}`);
        return r.text();
    }

    /** SIGTERM, as the kubelet sends it after the preStop hook; resolves with the exit code. */
    async terminate(timeoutMs = 60_000): Promise<number | null> {
        this.proc.signal("SIGTERM");
        const timer = setTimeout(() => void this.proc.stop(1000), timeoutMs);
        const code = await this.proc.exited;
        clearTimeout(timer);
        return code;
    }

    async stop(): Promise<void> {
        await this.proc.stop(5000);
    }
}

/** The model-server suite's world: a stack's MLflow with the team's model registered, the team plan, the workload role's credentials. */
export interface ServingWorld {
    readonly mlflow: MlflowStack;
    readonly team: Plan;
    readonly registered: { run_id: string; version: string };
    /** Credentials of a session of the plan's workload role of the team (moto). */
    readonly workloadCredentials: AwsCredentials;
    /** s3://bucket/prefix/ of the prediction log. */
    readonly predictionLogUri: string;
    stop(): Promise<void>;
}

/**
 * Brings up the MLflow of `stack` (init containers, server, team users), plans the example team against
 * it, trains and registers its model so that the rendered MODEL_URI (models:/fraud-scorer/<n>) resolves.
 */
export async function startServingWorld(stack: StackName = "test"): Promise<ServingWorld> {
    const mlflow = await Mlflow.create(stack);
    try {
        const init = await mlflow.runInitContainers();
        const failed = init.find((c) => c.result.code !== 0);
        if (failed) throw new Error(`init container ${failed.name} failed: ${failed.result.stderr.slice(-2000)}`);
        await mlflow.startServer();
        if (mlflow.teamUsersJob) {
            const users = await mlflow.runTeamUsersJob();
            if (users.code !== 0) throw new Error(`team users Job failed: ${users.stdout}${users.stderr}`);
        }
        const team = await planExampleTeam(stack, mlflow.plan);
        const scorer = findObject(team, "Deployment", "fraud-scorer").spec.template.spec.containers[0];
        const envValue = (name: string) => scorer.env.find((e: any) => e.name === name)?.value as string;
        const uri = /^models:\/([^/]+)\/(\d+)$/.exec(envValue("MODEL_URI"));
        if (!uri) throw new Error(`unexpected MODEL_URI ${envValue("MODEL_URI")}`);
        const registered = await trainAndRegister(mlflow, {
            model: uri[1],
            versions: Number(uri[2]),
            alias: envValue("MODEL_ALIAS") ?? "champion",
            team: envValue("MLOPS_TEAM"),
        });
        const policy = resourceInputs(mlflow.plan, "aws:iam/rolePolicy:RolePolicy", `team-${envValue("MLOPS_TEAM")}-workload-policy`);
        const workloadCredentials = await mlflow.s3.roleCredentials(`workload-${envValue("MLOPS_TEAM")}`, { workload: policy.policy });
        return { mlflow, team, registered, workloadCredentials, predictionLogUri: envValue("PREDICTION_LOG_URI"), stop: () => mlflow.stop() };
    } catch (e) {
        await mlflow.stop();
        throw e;
    }
}

/** One prediction-log object the server wrote: its key and its JSON-lines records. */
export interface PredictionLogObject {
    readonly key: string;
    readonly records: { ts: string; model: string; version: string; input: Transaction; prediction: number }[];
}

/**
 * Produces a model server's prediction logs for the given inputs, for real: MLflow of `stack` with the
 * team's model, the example server as the team plan renders it, `inputs` sent in batches of `batch`,
 * then SIGTERM (the server flushes its log). Returns the objects under the rendered PREDICTION_LOG_URI.
 * The rendered PREDICTION_LOG_SAMPLE_RATE applies (test: 0.5) unless `sampleRate` overrides it. With
 * `keepDir`, the objects are also written there under their keys. Starts and stops everything itself.
 */
export async function producePredictionLogs(
    inputs: readonly Transaction[],
    o: { stack?: StackName; sampleRate?: number; batch?: number; keepDir?: string } = {},
): Promise<{ uri: string; objects: PredictionLogObject[] }> {
    const world = await startServingWorld(o.stack ?? "test");
    try {
        return await predictionLogsFrom(world, inputs, o);
    } finally {
        await world.stop();
    }
}

/** {@link producePredictionLogs} in a world that is already up (a new server; the log objects it wrote). */
export async function predictionLogsFrom(
    world: ServingWorld,
    inputs: readonly Transaction[],
    o: { sampleRate?: number; batch?: number; keepDir?: string } = {},
): Promise<{ uri: string; objects: PredictionLogObject[] }> {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(world.predictionLogUri)!;
    const before = new Set((await world.mlflow.s3.list(m[1], m[2])).map((x) => x.key));
    let serverLog: string;
    const server = await ModelServer.start(world.mlflow, world.team, {
        deployment: "fraud-scorer",
        aws: world.workloadCredentials,
        envOverride: o.sampleRate === undefined ? {} : { PREDICTION_LOG_SAMPLE_RATE: String(o.sampleRate) },
    });
    try {
        await server.waitReady();
        const batch = o.batch ?? 50;
        for (let i = 0; i < inputs.length; i += batch) {
            const r = await server.invoke(inputs.slice(i, i + batch));
            if (r.status !== 200) throw new Error(`invocations: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        }
        const code = await server.terminate();
        if (code !== 0) throw new Error(`the model server exited with ${code}:\n${server.proc.tail()}`);
        serverLog = server.proc.tail(60);
    } finally {
        await server.stop();
    }
    const objects: PredictionLogObject[] = [];
    for (const obj of await world.mlflow.s3.list(m[1], m[2])) {
        if (before.has(obj.key)) continue;
        const body = (await world.mlflow.s3.get(m[1], obj.key)).toString("utf8");
        if (o.keepDir) {
            fs.mkdirSync(path.dirname(path.join(o.keepDir, obj.key)), { recursive: true });
            fs.writeFileSync(path.join(o.keepDir, obj.key), body);
        }
        objects.push({
            key: obj.key,
            records: body
                .split("\n")
                .filter(Boolean)
                .map((l) => JSON.parse(l)),
        });
    }
    if (o.sampleRate === 1 && inputs.length > 0 && objects.length === 0) throw new Error(`the model server wrote no prediction log; its output:\n${serverLog}`);
    return { uri: world.predictionLogUri, objects };
}
