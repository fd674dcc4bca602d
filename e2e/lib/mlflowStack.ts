/**
 * The MLflow of one stack, run for real from its plan: PostgreSQL (Debian) as the backend database,
 * moto as S3, and every MLflow container of the plan (the Deployment's init containers and server, the
 * gc CronJob's container, the team-users Job) started by e2e/lib/pods.ts as rendered, with only the
 * endpoints rewritten to loopback: the database host and port, the in-cluster tracking URI, the server's
 * listen address and port, and AWS's endpoint (the IRSA credentials replaced by static test ones).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Plan } from "../../engine/plan";
import { findObject, objectsOf, planOutputs, planPlatform, resourceInputs, type StackName } from "./stackPlans";
import { launchOf, type ContainerLaunch, type PodContext, runToCompletion, startContainer } from "./pods";
import { startPostgres, type PostgresServer } from "./postgres";
import { freePort, type Proc, type RunResult, run, tcpConnects, waitFor } from "./procs";
import { venvBin, venvEnv } from "./python";
import { type AwsCredentials, S3Emulator } from "./s3Emulator";

export interface Credentials {
    readonly username: string;
    readonly password: string;
}

export interface MlflowStackOptions {
    /** An S3 emulator to share (the suite that started it stops it); by default one of its own. */
    readonly s3?: S3Emulator;
}

export class MlflowStack {
    readonly outputs: Record<string, any>;
    readonly namespace: string;
    readonly deployment: any;
    readonly gcCronJob: any;
    /** The team-users Job (auth on), undefined in dev. */
    readonly teamUsersJob: any;
    /** s3://<bucket>/<prefix> of the server's --artifacts-destination. */
    readonly artifactsDestination: string;
    readonly bucket: string;
    readonly artifactPrefix: string;
    readonly workdir: string;
    server?: Proc;
    port = 0;
    pg!: PostgresServer;
    s3!: S3Emulator;
    private ownS3 = false;
    private awsEnv: Record<string, string> = {};
    private pods = 0;

    private constructor(
        readonly stack: StackName,
        readonly plan: Plan,
        private readonly opts: MlflowStackOptions,
    ) {
        this.outputs = planOutputs(plan);
        this.namespace = this.outputs.mlflowNamespace;
        this.deployment = findObject(plan, "Deployment", "mlflow", this.namespace);
        this.gcCronJob = findObject(plan, "CronJob", "mlflow-gc", this.namespace);
        const jobs = objectsOf(plan).filter(
            (o) => o.kind === "Job" && o.metadata.namespace === this.namespace && /^mlflow-team-users-/.test(o.metadata.name ?? ""),
        );
        this.teamUsersJob = jobs[0];
        const args: string[] = this.serverContainer.args;
        this.artifactsDestination = args[args.indexOf("--artifacts-destination") + 1];
        const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(this.artifactsDestination);
        if (!m) throw new Error(`unexpected --artifacts-destination ${this.artifactsDestination}`);
        this.bucket = m[1];
        this.artifactPrefix = m[2].replace(/\/?$/, "/");
        this.workdir = fs.mkdtempSync(path.join(os.tmpdir(), `mlops-e2e-mlflow-${stack}-`));
    }

    /** Plans the stack and starts PostgreSQL and (unless given) moto; the MLflow containers start on demand. */
    static async create(stack: StackName, opts: MlflowStackOptions = {}): Promise<MlflowStack> {
        const plan = await planPlatform(stack);
        const m = new MlflowStack(stack, plan, opts);
        try {
            await m.startBackends();
        } catch (e) {
            await m.stop();
            throw e;
        }
        return m;
    }

    get podSpec(): any {
        return this.deployment.spec.template.spec;
    }

    get serverContainer(): any {
        return this.podSpec.containers.find((c: any) => c.name === "mlflow");
    }

    get trackingUri(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    /** A key of a Secret of the plan. */
    secretValue(name: string, key: string, namespace = this.namespace): string {
        const s = objectsOf(this.plan).find((o) => o.kind === "Secret" && o.metadata.name === name && o.metadata.namespace === namespace) as any;
        const v = s?.stringData?.[key] ?? (s?.data?.[key] !== undefined ? Buffer.from(s.data[key], "base64").toString() : undefined);
        if (v === undefined) throw new Error(`the plan has no Secret ${namespace}/${name} key ${key}`);
        return v;
    }

    get admin(): Credentials {
        return { username: this.secretValue("mlflow-auth", "admin-username"), password: this.secretValue("mlflow-auth", "admin-password") };
    }

    /** A team's credentials, from the Secret mlflow-credentials the plan delivers to its namespace. */
    team(name: string): Credentials {
        const ns = this.outputs.teams?.[name]?.namespace ?? `ml-${name}`;
        return { username: this.secretValue("mlflow-credentials", "username", ns), password: this.secretValue("mlflow-credentials", "password", ns) };
    }

    get metricsUser(): Credentials {
        return { username: this.secretValue("mlflow-metrics-credentials", "username"), password: this.secretValue("mlflow-metrics-credentials", "password") };
    }

    private async startBackends(): Promise<void> {
        const password = this.secretValue("mlflow-db", "password");
        const user = this.secretValue("mlflow-db", "username");
        // The tracking database exists (RDS creates it; the dev StatefulSet's POSTGRES_DB); the auth database does not.
        this.pg = await startPostgres({ user, password, databases: ["mlflow"] });
        if (this.opts.s3) this.s3 = this.opts.s3;
        else {
            this.s3 = await S3Emulator.start(this.outputs.region ?? "eu-west-1");
            this.ownS3 = true;
        }
        await this.s3.createBucket(this.bucket).catch((e) => {
            if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(String(e))) throw e;
        });
        this.port = await freePort();
        // Static credentials: moto cannot evaluate the s3:prefix condition of the role's ListBucket
        // statement (it denies it), so the role's policy is checked apart (see the suites).
        this.awsEnv = this.s3.clientEnv();
    }

    /** Credentials of a session of the plan's MLflow role (its inline policy from the plan). */
    async roleCredentials(): Promise<AwsCredentials> {
        const policy = resourceInputs(this.plan, "aws:iam/rolePolicy:RolePolicy", "mlflow-artifacts-policy");
        return this.s3.roleCredentials(`mlflow-${this.stack}`, { [policy.name]: policy.policy });
    }

    /** In-cluster endpoints -> loopback. */
    readonly rewrite = (v: string): string => {
        let s = v.split(this.outputs.mlflowTrackingUri).join(this.trackingUri);
        const host = this.outputs.mlflowDatabaseEndpoint as string;
        s = s.split(`@${host}:5432/`).join(`@127.0.0.1:${this.pg.port}/`);
        return s;
    };

    private ctx(podName: string, extraEnv: Record<string, string> = {}): PodContext {
        const workdir = path.join(this.workdir, `pod-${++this.pods}-${podName}`);
        fs.mkdirSync(workdir, { recursive: true });
        return {
            objects: objectsOf(this.plan),
            namespace: this.namespace,
            podName,
            rewrite: this.rewrite,
            venv: "mlflow",
            workdir,
            extraEnv: { ...this.awsEnv, ...extraEnv },
        };
    }

    /** The launch of a container of the server's pod (init or main), with the listen address and port on loopback. */
    serverPodLaunch(containerName: string, podName = "mlflow-0"): ContainerLaunch {
        const c = [...(this.podSpec.initContainers ?? []), ...this.podSpec.containers].find((x: any) => x.name === containerName);
        if (!c) throw new Error(`no container ${containerName} in the MLflow pod`);
        const l = launchOf(this.ctx(podName), this.podSpec, c);
        if (containerName === "mlflow") return { ...l, args: loopbackListen(l.args, this.port) };
        return l;
    }

    /** Runs the pod's init containers in order, as the kubelet does (stops at the first failure). */
    async runInitContainers(podName = "mlflow-0"): Promise<{ name: string; result: RunResult }[]> {
        const out: { name: string; result: RunResult }[] = [];
        for (const c of this.podSpec.initContainers ?? []) {
            const result = await runToCompletion(this.serverPodLaunch(c.name, podName));
            out.push({ name: c.name, result });
            if (result.code !== 0) break;
        }
        return out;
    }

    /** Starts the server container and waits until its startup probe (GET /health) passes. */
    async startServer(): Promise<Proc> {
        const l = this.serverPodLaunch("mlflow");
        this.server = startContainer(`mlflow-${this.stack}`, l);
        const probe = this.serverContainer.startupProbe;
        const budget = probe.periodSeconds * probe.failureThreshold * 1000;
        await waitFor(
            "the MLflow startup probe",
            async () => {
                if (!this.server?.running) throw new Error(`mlflow server exited:\n${this.server?.tail()}`);
                return (await fetch(`${this.trackingUri}${probe.httpGet.path}`).catch(() => undefined))?.status === 200;
            },
            Math.min(budget, 240_000),
            500,
        );
        return this.server;
    }

    async stopServer(): Promise<void> {
        await this.server?.stop(30_000);
        this.server = undefined;
    }

    /** Runs the readiness probe's exec command as rendered (in the server container's environment). */
    async readiness(): Promise<RunResult> {
        const base = this.serverPodLaunch("mlflow");
        const cmd: string[] = this.serverContainer.readinessProbe.exec.command.map((a: string) => this.rewrite(a));
        // The probe's port argument is the container port: the server listens on this.port here.
        const args = cmd.slice(1).map((a) => (a === String(this.serverContainer.ports[0].containerPort) ? String(this.port) : a));
        return run(venvBin("mlflow", cmd[0]), args, { env: base.env, timeoutMs: this.serverContainer.readinessProbe.timeoutSeconds * 1000 + 5000 });
    }

    /** The liveness probe (a TCP connect to the container port, mapped to the loopback port). */
    async liveness(): Promise<boolean> {
        const probe = this.serverContainer.livenessProbe;
        if (!probe.tcpSocket) throw new Error("the liveness probe is no longer a tcpSocket probe: update the suite");
        return tcpConnects(this.port, "127.0.0.1", probe.timeoutSeconds * 1000);
    }

    /** Runs the team-users Job's container; `envOverride`/`users` replace env values or the users file (rotation, wrong password). */
    async runTeamUsersJob(o: { envOverride?: Record<string, string>; users?: Record<string, string> } = {}): Promise<RunResult> {
        if (!this.teamUsersJob) throw new Error(`${this.stack} has no team-users Job`);
        const pod = this.teamUsersJob.spec.template.spec;
        const l = launchOf(this.ctx("team-users"), pod, pod.containers[0]);
        if (o.users) fs.writeFileSync(l.env.MLFLOW_TEAM_USERS_FILE, JSON.stringify(o.users));
        return runToCompletion({ ...l, env: { ...l.env, ...(o.envOverride ?? {}) } }, 120_000);
    }

    /** The team users' passwords file as the plan's Secret holds it (user name -> password). */
    teamPasswords(): Record<string, string> {
        return JSON.parse(this.secretValue("mlflow-team-passwords", "users.json"));
    }

    /** Runs the gc CronJob's container as rendered. */
    async runGc(): Promise<RunResult> {
        const pod = this.gcCronJob.spec.jobTemplate.spec.template.spec;
        return runToCompletion(launchOf(this.ctx("gc"), pod, pod.containers[0]), 300_000);
    }

    /** Runs a Python script in the MLflow venv as an MLflow client of this server (no AWS credentials). */
    client(script: string, o: { creds?: Credentials; input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
        const env = venvEnv("mlflow", {
            HOME: this.workdir,
            MLFLOW_TRACKING_URI: this.trackingUri,
            ...(o.creds ? { MLFLOW_TRACKING_USERNAME: o.creds.username, MLFLOW_TRACKING_PASSWORD: o.creds.password } : {}),
            ...(o.env ?? {}),
        });
        return run(venvBin("mlflow", "python"), ["-c", script], { env, input: o.input, timeoutMs: 240_000 });
    }

    /** GET on the server with optional basic auth. */
    async get(pathAndQuery: string, creds?: Credentials): Promise<Response> {
        const headers: Record<string, string> = creds
            ? { Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` }
            : {};
        return fetch(`${this.trackingUri}${pathAndQuery}`, { headers });
    }

    async stop(): Promise<void> {
        await this.stopServer().catch(() => undefined);
        await this.pg?.destroy().catch(() => undefined);
        if (this.ownS3) await this.s3?.stop().catch(() => undefined);
        fs.rmSync(this.workdir, { recursive: true, force: true });
    }
}

/** `--host <any>` -> 127.0.0.1 and `--port <any>` -> the loopback port. */
function loopbackListen(args: string[], port: number): string[] {
    const out = [...args];
    for (let i = 0; i < out.length - 1; i++) {
        if (out[i] === "--host") out[i + 1] = "127.0.0.1";
        if (out[i] === "--port") out[i + 1] = String(port);
    }
    return out;
}
