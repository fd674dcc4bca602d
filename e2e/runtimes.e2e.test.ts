/**
 * The serving runtime presets against the real runtimes PyPI ships (docs/serving-runtimes.md):
 *
 * - `mlflow`: MLServer 1.7 with its MLflow runtime, started with the command and environment the preset
 *   renders, loads version 1 of a tiny pyfunc model from a real MLflow tracking server (registry and
 *   proxied artifacts) through the `models:/` URI; the readiness and liveness probe paths answer, a
 *   prediction succeeds at the preset's path, a model that cannot load keeps the readiness path failing.
 * - `triton`: the tritonserver binary of nvidia-pytriton (Triton 2.51, Python backend only), started with
 *   the arguments the preset renders, serves a model repository the download init container's own
 *   command (the AWS CLI) copied from an S3 server (moto) under the team's model prefix; probes answer,
 *   a prediction succeeds.
 *
 * - `torchserve`: TorchServe 0.12.0 from PyPI (its Java frontend on Debian's JRE, its Python worker on
 *   Debian's CPU-only torch), started with the rendered command, arguments, environment and
 *   config.properties as the first process of its own PID namespace (as in the container), serves a
 *   `.mar` made by torch-model-archiver that the init container's command copied from moto's S3 as the
 *   workload role (web identity, the platform's workload policy, enforced by moto); the rendered readiness
 *   command passes once the model has a READY worker and never for a model that cannot load (while /ping
 *   answers 200), predictions succeed, and the rendered preStop hook stops the server (SIGTERM to the
 *   launcher alone is discarded).
 *
 * For all three, the suite scrapes the runtime's /metrics, checks every native metric the adapter's
 * recording rules read is there, and runs `promtool test rules` with the rendered recording rules on the
 * scraped samples (with the labels the ServiceMonitor would add): the contract's request counter and
 * latency series come out with the counts of the requests the suite sent.
 *
 * What is rewritten, and only that: ports (free ports instead of the pod's fixed ones; TorchServe's
 * listen addresses on loopback, and its gRPC ports, which the preset leaves at their loopback defaults),
 * the pod's /tmp, /models and config directory (the suite's temp dir), endpoints (loopback MLflow and
 * S3), tritonserver's backend directory (the wheel's layout, not the image's /opt/tritonserver/backends).
 * Not run here: `onnx` (the ONNX Runtime backend is not in any PyPI package); its rendered contract is
 * tested in test/runtimes.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { nativeMetricsOf } from "../components/team/runtimes";
import { platformRefs, prodArgs } from "../test/modelServiceFixtures";
import type { ModelServiceArgs } from "../components/team/modelService";
import type { RuntimeArgs } from "../components/team/runtimes";
import { workloadPolicy } from "../components/platform/servingNamespace";
import { freePort, type Server, startServer } from "./lib/childServer";
import { Proc, waitFor } from "./lib/procs";
import { parseExposition, renderService, type RenderedService, ROOT, runtimesVenv, type Sample, seriesOf, torchserveVenv } from "./lib/runtimes";

const VENV = runtimesVenv();
const bin = (name: string) => path.join(VENV, "bin", name);
const AWS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1" };
const FETCH_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.22.0";
/** MLflow 3 sends usage telemetry unless told not to: nothing may leave the machine. */
const NO_TELEMETRY = { MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "true" };

/** The fraud scorer in dev on a runtime. */
function devOn(runtime: RuntimeArgs, modelUri = "models:/fraud-scorer/1"): ModelServiceArgs {
    const { inputSchema: _s, approval: _a, autoscaling: _h, ...rest } = prodArgs();
    return {
        ...rest,
        platform: { ...platformRefs("dev"), modelFetchImage: FETCH_IMAGE },
        modelUri,
        previousVersion: undefined,
        image: { reference: "seldonio/mlserver:1.7.1-mlflow" },
        replicas: { min: 1, max: 1 },
        predictionLogging: { enabled: false },
        runtime,
    };
}

/** The literal environment of a rendered container (the optional MLflow credentials Secret does not exist in dev). */
const envOf = (c: any): Record<string, string> =>
    Object.fromEntries((c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, String(e.value)]));

/**
 * promtool on the rendered recording rules, with the scraped samples as constant series carrying the
 * ServiceMonitor's target labels (namespace, service, pod) and the model labels its relabelings copy
 * from the pod (a scraped label of the same name becomes exported_<name>, as Prometheus does).
 */
function promtoolAdapter(dir: string, r: RenderedService, samples: Sample[], tests: { expr: string; exp: { labels: string; value: number }[] }[]) {
    const target = { namespace: "ml-fraud", service: "fraud-scorer", pod: "fraud-scorer-5d8f9-abcde" };
    const model = { model: r.podLabels["mlops.acme.io/model"], version: r.podLabels["mlops.acme.io/model-version"], team: r.podLabels["mlops.acme.io/team"] };
    const relabelled = samples.map((s) => {
        const labels: Record<string, string> = {};
        for (const [k, v] of Object.entries(s.labels)) labels[k in model || k in target ? `exported_${k}` : k] = v;
        return { ...s, labels: { ...labels, ...target, ...model } };
    });
    fs.mkdirSync(dir, { recursive: true });
    // The rules as rendered (service fraud-scorer, the name the target labels give).
    fs.writeFileSync(path.join(dir, "adapter.yaml"), YAML.stringify({ groups: [{ name: "adapter", rules: r.rules }] }));
    const test = {
        rule_files: ["adapter.yaml"],
        evaluation_interval: "1m",
        tests: [
            {
                interval: "1m",
                input_series: relabelled.map((s) => ({ series: seriesOf(s), values: `${s.value}x5` })),
                promql_expr_test: tests.map((t) => ({ expr: t.expr, eval_time: "2m", exp_samples: t.exp })),
            },
        ],
    };
    fs.writeFileSync(path.join(dir, "adapter.test.yaml"), YAML.stringify(test));
    const out = spawnSync("promtool", ["test", "rules", "adapter.test.yaml"], { cwd: dir, encoding: "utf8" });
    return { status: out.status, output: out.stdout + out.stderr };
}

/** Samples of the native metrics the rules read. */
function nativeSamples(text: string, r: RenderedService): Sample[] {
    const names = new Set(nativeMetricsOf(r.rules));
    return parseExposition(text).filter((s) => names.has(s.name));
}

describe("the mlflow runtime: MLServer serving a registered model from a real MLflow registry", () => {
    let tmp: string;
    const servers: Server[] = [];
    let rendered: RenderedService;
    let url: string;
    let metricsUrl: string;
    let mlflowUrl: string;

    beforeAll(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-runtimes-mlflow-"));
        const mlflowPort = await freePort();
        mlflowUrl = `http://127.0.0.1:${mlflowPort}`;
        servers.push(
            await startServer(
                "mlflow",
                bin("mlflow"),
                [
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    String(mlflowPort),
                    "--workers",
                    "1",
                    "--backend-store-uri",
                    `sqlite:///${tmp}/mlflow.db`,
                    "--artifacts-destination",
                    `${tmp}/artifacts`,
                ],
                mlflowUrl,
                { readyPath: "/health", timeoutMs: 120_000, env: { ...process.env, ...NO_TELEMETRY, HOME: tmp } },
            ),
        );
        const reg = spawnSync(bin("python"), [path.join(ROOT, "e2e", "fixtures", "runtimes", "register_model.py"), "fraud-scorer"], {
            env: { ...process.env, ...NO_TELEMETRY, MLFLOW_TRACKING_URI: mlflowUrl, HOME: tmp },
            cwd: tmp,
            encoding: "utf8",
        });
        if (reg.status !== 0) throw new Error(`registering the model failed:\n${reg.stdout}\n${reg.stderr}`);
        expect(reg.stdout.trim().split("\n").pop()).toBe("1");

        rendered = await renderService(devOn({ kind: "mlflow" }));
        const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
        url = `http://127.0.0.1:${http}`;
        metricsUrl = `http://127.0.0.1:${metrics}`;
        servers.push(await startMlserver(rendered, { http, grpc, metrics, dir: path.join(tmp, "pod-tmp") }));
    });

    /** MLServer as the pod runs it: the rendered command and environment, ports, /tmp and MLflow rewritten. */
    async function startMlserver(r: RenderedService, o: { http: number; grpc: number; metrics: number; dir: string; readyPath?: string }): Promise<Server> {
        fs.mkdirSync(o.dir, { recursive: true });
        const env = envOf(r.container);
        const rewritten: Record<string, string> = {};
        for (const [k, v] of Object.entries(env)) rewritten[k] = v === "/tmp" || v.startsWith("/tmp/") ? v.replace(/^\/tmp/, o.dir) : v;
        const [command, ...args] = r.container.command as string[];
        expect(command).toBe("mlserver");
        return startServer(
            "mlserver",
            bin(command),
            args.map((a) => (a === "/tmp" ? o.dir : a)),
            `http://127.0.0.1:${o.http}`,
            {
                readyPath: o.readyPath ?? r.container.readinessProbe.httpGet.path,
                timeoutMs: 120_000,
                env: {
                    PATH: `${path.join(VENV, "bin")}:/usr/bin:/bin`,
                    ...rewritten,
                    MLSERVER_HTTP_PORT: String(o.http),
                    MLSERVER_GRPC_PORT: String(o.grpc),
                    MLSERVER_METRICS_PORT: String(o.metrics),
                    MLFLOW_TRACKING_URI: mlflowUrl,
                    ...NO_TELEMETRY,
                },
            },
        );
    }

    afterAll(async () => {
        for (const s of servers.reverse()) await s.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("answers the rendered probe paths", async () => {
        expect(rendered.container.readinessProbe.httpGet.path).toBe("/v2/models/fraud-scorer/ready");
        expect((await fetch(url + rendered.container.readinessProbe.httpGet.path)).status).toBe(200);
        expect((await fetch(url + rendered.container.livenessProbe.httpGet.path)).status).toBe(200);
        expect(envOf(rendered.container).MLSERVER_MODEL_URI).toBe("models:/fraud-scorer/1");
    });

    it("predicts at the preset's path with the registered version, and on the v2 protocol", async () => {
        const res = await fetch(`${url}/invocations`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ dataframe_split: { columns: ["x"], data: [[1.5], [4]] } }),
        });
        expect(res.status).toBe(200);
        expect(JSON.stringify(await res.json())).toContain("3");
        for (let i = 0; i < 4; i++) {
            const ok = await fetch(`${url}/invocations`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ dataframe_records: [{ x: i }] }),
            });
            expect(ok.status).toBe(200);
        }
        // A request in no MLflow format: MLServer's MLflow runtime answers 500 (not 4xx).
        const bad = await fetch(`${url}/invocations`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rows: [1] }) });
        expect(bad.status).toBe(500);
    });

    it("exposes the native metrics the adapter reads, and the adapter turns them into the contract's series", async () => {
        const text = await (await fetch(`${metricsUrl}/metrics`)).text();
        const samples = nativeSamples(text, rendered);
        expect(new Set(samples.map((s) => s.name))).toEqual(new Set(nativeMetricsOf(rendered.rules)));
        const r = promtoolAdapter(path.join(tmp, "promtool"), rendered, samples, [
            // 5 predictions answered 200, 1 answered 500; the probes are not counted.
            {
                expr: 'sum by (status) (mlops_model_requests_total{service="fraud-scorer"})',
                exp: [
                    { labels: '{status="200"}', value: 5 },
                    { labels: '{status="500"}', value: 1 },
                ],
            },
            { expr: 'sum(mlops_model_request_duration_seconds_count{service="fraud-scorer"})', exp: [{ labels: "{}", value: 6 }] },
            { expr: 'sum(mlops_model_request_duration_seconds_bucket{service="fraud-scorer",le="+Inf"})', exp: [{ labels: "{}", value: 6 }] },
            // The model labels come from the pod, for every recorded series.
            {
                expr: "count by (model, version, team) (mlops_model_requests_total)",
                exp: [{ labels: '{model="fraud-scorer",version="1",team="fraud"}', value: 2 }],
            },
        ]);
        expect(r.output).not.toContain("FAILED");
        expect(r.status, r.output).toBe(0);
    });

    it("never reports ready when the model cannot load: MLServer exits, so the pod restarts", async () => {
        // Version 7 is not registered. Waiting on the readiness path: it must never answer 2xx before the exit.
        const broken = await renderService(devOn({ kind: "mlflow" }, "models:/fraud-scorer/7"));
        const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
        const outcome = await startMlserver(broken, { http, grpc, metrics, dir: path.join(tmp, "broken-tmp") }).catch((e: Error) => e);
        if (!(outcome instanceof Error)) servers.push(outcome);
        expect(outcome).toBeInstanceOf(Error);
        expect((outcome as Error).message).toMatch(/^mlserver exited with \d+/);
        expect((outcome as Error).message).toContain("Some of the models failed to load during startup");
    }, 200_000);
});

describe("the triton runtime: tritonserver serving a repository the download init container copied from S3", () => {
    let tmp: string;
    const servers: Server[] = [];
    let rendered: RenderedService;
    let url: string;
    let metricsUrl: string;

    beforeAll(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-runtimes-triton-"));
        rendered = await renderService({
            ...devOn({ kind: "triton", artifactPath: "fraud-scorer/1/repository" }),
            image: { reference: "nvcr.io/nvidia/tritonserver:24.10-py3" },
        });

        // The artifact store: moto's S3 server with the repository under the team's model prefix.
        const s3Port = await freePort();
        const s3Url = `http://127.0.0.1:${s3Port}`;
        servers.push(await startServer("moto", bin("moto_server"), ["-H", "127.0.0.1", "-p", String(s3Port)], s3Url, { readyPath: "/moto-api/" }));
        const bucket = String(platformRefs("dev").artifactBucketName);
        const repo = path.join(tmp, "upload");
        fs.cpSync(path.join(ROOT, "e2e", "fixtures", "runtimes", "triton-repository"), repo, { recursive: true });
        const config = path.join(repo, "fraud-scorer", "config.pbtxt");
        fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace("@VENV@", VENV));
        const aws = (args: string[]) => {
            const r = spawnSync(bin("aws"), args, {
                env: { ...process.env, ...AWS, HOME: tmp, AWS_ENDPOINT_URL_S3: s3Url, PATH: `${path.join(VENV, "bin")}:/usr/bin:/bin` },
                encoding: "utf8",
            });
            if (r.status !== 0) throw new Error(`aws ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
            return r.stdout;
        };
        aws(["s3", "mb", `s3://${bucket}`]);
        aws(["s3", "sync", repo, `s3://${bucket}/models/fraud/fraud-scorer/1/repository`]);

        // The init container's command, as rendered, with the pod's /models in the suite's temp dir.
        const init = rendered.initContainers[0];
        expect(init.command).toEqual(["aws"]);
        const models = path.join(tmp, "models");
        aws((init.args as string[]).map((a) => a.replace(/^\/models/, models)));

        const [http, metrics] = [await freePort(), await freePort()];
        url = `http://127.0.0.1:${http}`;
        metricsUrl = `http://127.0.0.1:${metrics}`;
        const [command, ...args] = [...rendered.container.command, ...rendered.container.args] as string[];
        expect(command).toBe("tritonserver");
        const pytriton = spawnSync(bin("python"), ["-c", "import pathlib, sysconfig; print(pathlib.Path(sysconfig.get_paths()['purelib']))"], {
            encoding: "utf8",
        }).stdout.trim();
        const tritonDir = path.join(pytriton, "pytriton", "tritonserver");
        servers.push(
            await startServer(
                "tritonserver",
                path.join(tritonDir, "bin", "tritonserver"),
                [
                    ...args.map((a) =>
                        a
                            .replace("=/models", `=${models}`)
                            .replace(/^--http-port=\d+$/, `--http-port=${http}`)
                            .replace(/^--metrics-port=\d+$/, `--metrics-port=${metrics}`),
                    ),
                    `--backend-directory=${path.join(tritonDir, "backends")}`,
                ],
                url,
                {
                    readyPath: rendered.container.readinessProbe.httpGet.path,
                    timeoutMs: 120_000,
                    env: { ...process.env, LD_LIBRARY_PATH: path.join(pytriton, "nvidia_pytriton.libs"), HOME: tmp },
                },
            ),
        );
    });

    afterAll(async () => {
        for (const s of servers.reverse()) await s.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("downloaded the repository with the init container's command, and answers the rendered probe paths", async () => {
        expect(fs.existsSync(path.join(tmp, "models", "repository", "fraud-scorer", "1", "model.py"))).toBe(true);
        expect((await fetch(url + rendered.container.readinessProbe.httpGet.path)).status).toBe(200);
        expect((await fetch(url + rendered.container.livenessProbe.httpGet.path)).status).toBe(200);
    });

    it("predicts at the preset's path, and refuses an input the model does not have with 400", async () => {
        for (let i = 0; i < 3; i++) {
            const res = await fetch(`${url}/v2/models/fraud-scorer/infer`, {
                method: "POST",
                body: JSON.stringify({ inputs: [{ name: "x", shape: [2], datatype: "FP32", data: [1, i] }] }),
            });
            expect(res.status).toBe(200);
            expect(((await res.json()) as any).outputs[0].data).toEqual([2, 2 * i]);
        }
        const bad = await fetch(`${url}/v2/models/fraud-scorer/infer`, {
            method: "POST",
            body: JSON.stringify({ inputs: [{ name: "amount", shape: [1], datatype: "FP32", data: [1] }] }),
        });
        expect(bad.status).toBe(400);
    });

    it("exposes the native metrics the adapter reads, and the adapter turns them into the contract's series", async () => {
        const text = await (await fetch(`${metricsUrl}/metrics`)).text();
        const samples = nativeSamples(text, rendered);
        expect(new Set(samples.map((s) => s.name))).toEqual(new Set(nativeMetricsOf(rendered.rules)));
        const r = promtoolAdapter(path.join(tmp, "promtool"), rendered, samples, [
            // 3 successful inferences; Triton counts the refused input in no counter.
            {
                expr: 'sum by (status) (mlops_model_requests_total{service="fraud-scorer"})',
                exp: [
                    { labels: '{status="200"}', value: 3 },
                    { labels: '{status="500"}', value: 0 },
                ],
            },
            { expr: 'sum(mlops_model_request_duration_seconds_count{service="fraud-scorer"})', exp: [{ labels: "{}", value: 3 }] },
            {
                expr: 'sum(mlops_model_request_duration_seconds_sum{service="fraud-scorer"}) > 0',
                exp: [{ labels: "{}", value: Number(samples.find((s) => s.name === "nv_inference_request_duration_us")!.value) / 1e6 }],
            },
        ]);
        expect(r.output).not.toContain("FAILED");
        expect(r.status, r.output).toBe(0);
    });
});

describe("the torchserve runtime: TorchServe serving an archive the download init container copied from S3 as the workload role", () => {
    const TS_VENV = torchserveVenv();
    const tsBin = (name: string) => path.join(TS_VENV, "bin", name);
    const FIXTURE = path.join(ROOT, "e2e", "fixtures", "runtimes", "torchserve");
    const bucket = String(platformRefs("dev").artifactBucketName);
    let tmp: string;
    const servers: Server[] = [];
    const procs: Proc[] = [];
    let rendered: RenderedService;
    let main: TorchServe;
    let s3Url: string;
    /** The rendered init container's environment plus what EKS' pod identity webhook injects (role ARN, token file). */
    let podIdentity: Record<string, string>;

    /** A TorchServe started as the pod runs it, and what the suite rewrote for it. */
    interface TorchServe {
        proc: Proc;
        url: string;
        metricsUrl: string;
        managementPort: number;
        /** The server container's environment, /tmp rewritten. */
        env: Record<string, string>;
        podTmp: string;
    }

    /** Runs a command of the TorchServe venv. */
    const tsRun = (command: string, args: string[], env: Record<string, string> = {}) =>
        spawnSync(command, args, { env: { PATH: `${path.join(TS_VENV, "bin")}:/usr/bin:/bin`, HOME: tmp, ...env }, encoding: "utf8", cwd: tmp });

    /** The AWS CLI of the runtimes venv against moto. */
    const aws = (args: string[], env: Record<string, string>) =>
        spawnSync(bin("aws"), args, { env: { PATH: `${path.join(VENV, "bin")}:/usr/bin:/bin`, HOME: tmp, AWS_ENDPOINT_URL: s3Url, ...env }, encoding: "utf8" });
    const awsOk = (args: string[], env: Record<string, string> = AWS) => {
        const r = aws(args, env);
        if (r.status !== 0) throw new Error(`aws ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
        return r.stdout;
    };

    /**
     * The AWS CLI as the pod's workload identity: no keys, the role ARN and token file the webhook sets, a
     * fresh HOME (no cached credentials), so the CLI asks STS for the role's credentials first. moto checks
     * signatures and the role's policy on every request after that one: it cannot take the unsigned
     * AssumeRoleWithWebIdentity call under enforcement (it fails with a 500), so the first request of the
     * invocation is let through (`INITIAL_NO_AUTH_ACTION_COUNT` 1).
     */
    async function asWorkload(args: string[]) {
        const r = await fetch(`${s3Url}/moto-api/reset-auth`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "1" });
        expect(r.status).toBe(200);
        const home = fs.mkdtempSync(path.join(tmp, "home-"));
        try {
            return aws(args, { ...podIdentity, HOME: home });
        } finally {
            await fetch(`${s3Url}/moto-api/reset-auth`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "inf" });
        }
    }

    /** The model archive of a handler, made with torch-model-archiver as a team's CI would. */
    function archive(handler: string, dir: string): string {
        fs.mkdirSync(dir, { recursive: true });
        const r = tsRun(tsBin("torch-model-archiver"), [
            "--model-name",
            "fraud-scorer",
            "--version",
            "1",
            "--handler",
            path.join(FIXTURE, handler),
            "--export-path",
            dir,
        ]);
        if (r.status !== 0) throw new Error(`torch-model-archiver exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
        return path.join(dir, "fraud-scorer.mar");
    }

    /**
     * TorchServe as the pod runs it: the rendered command, arguments, environment and config.properties,
     * as the first process of its own PID namespace (as in the container); rewritten: ports, listen
     * addresses (loopback), the pod's /tmp, /models and config directory.
     */
    async function startTorchServe(name: string, models: string): Promise<TorchServe> {
        const dir = path.join(tmp, name);
        const podTmp = path.join(dir, "pod-tmp");
        const configDir = path.join(dir, "config");
        fs.mkdirSync(podTmp, { recursive: true });
        fs.mkdirSync(configDir, { recursive: true });
        const [http, management, metrics, grpc, grpcManagement] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
        const config = rendered.configFiles["config.properties"];
        expect(config).toContain("inference_address=http://0.0.0.0:8080\n");
        expect(config).toContain("management_address=http://127.0.0.1:8081\n");
        expect(config).toContain("metrics_address=http://0.0.0.0:8082\n");
        fs.writeFileSync(
            path.join(configDir, "config.properties"),
            config
                .replace("http://0.0.0.0:8080", `http://127.0.0.1:${http}`)
                .replace("http://127.0.0.1:8081", `http://127.0.0.1:${management}`)
                .replace("http://0.0.0.0:8082", `http://127.0.0.1:${metrics}`)
                .replace("model_store=/models/", `model_store=${models}/`) +
                // TorchServe's gRPC APIs, which it always starts, on loopback (7070, 7071): the preset leaves them
                // at that default; the suite moves them so that two servers run side by side.
                `grpc_inference_port=${grpc}\ngrpc_management_port=${grpcManagement}\n`,
        );
        expect(config).not.toContain("grpc");
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(envOf(rendered.container))) env[k] = v === "/tmp" || v.startsWith("/tmp/") ? v.replace(/^\/tmp/, podTmp) : v;
        const [command, ...args] = [...rendered.container.command, ...rendered.container.args] as string[];
        expect(command).toBe("torchserve");
        const proc = new Proc(
            `torchserve-${name}`,
            "unshare",
            [
                "--pid",
                "--fork",
                "--mount-proc",
                "--kill-child",
                tsBin(command),
                ...args.map((a) => a.replace("=/etc/mlops/runtime/", `=${configDir}/`).replace("=/models/", `=${models}/`)),
            ],
            { env: { PATH: `${path.join(TS_VENV, "bin")}:/usr/bin:/bin`, ...env }, cwd: podTmp },
        );
        procs.push(proc);
        const url = `http://127.0.0.1:${http}`;
        await waitFor(
            `${name} to answer ${rendered.container.livenessProbe.httpGet.path}`,
            async () => {
                if (!proc.running) throw new Error(`torchserve exited ${proc.exitCode}:\n${proc.tail()}`);
                return (await fetch(url + rendered.container.livenessProbe.httpGet.path).catch(() => undefined))?.ok;
            },
            120_000,
        );
        return { proc, url, metricsUrl: `http://127.0.0.1:${metrics}`, managementPort: management, env, podTmp };
    }

    /** The rendered readiness command, run as the kubelet's exec probe would (the management port rewritten). */
    function readinessCheck(ts: TorchServe): number | null {
        const [command, ...args] = rendered.container.readinessProbe.exec.command as string[];
        expect(command).toBe("python3");
        return tsRun(
            tsBin(command),
            args.map((a) => a.replace("127.0.0.1:8081/", `127.0.0.1:${ts.managementPort}/`)),
            ts.env,
        ).status;
    }

    /** The host pid of PID 1 of the server's namespace (the child of unshare). */
    const pid1 = (ts: TorchServe) => Number(fs.readFileSync(`/proc/${ts.proc.pid}/task/${ts.proc.pid}/children`, "utf8").trim().split(/\s+/)[0]);

    beforeAll(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-runtimes-torchserve-"));
        rendered = await renderService({
            ...devOn({ kind: "torchserve", artifactPath: "fraud-scorer/1/fraud-scorer.mar" }),
            image: { reference: "pytorch/torchserve:0.12.0-cpu" },
            drainSeconds: 1,
        });

        // The artifact store: moto's S3 (and IAM, STS), the archive under the team's model prefix and
        // another team's archive under its own.
        const s3Port = await freePort();
        s3Url = `http://127.0.0.1:${s3Port}`;
        servers.push(await startServer("moto", bin("moto_server"), ["-H", "127.0.0.1", "-p", String(s3Port)], s3Url, { readyPath: "/moto-api/" }));
        const mar = archive("handler.py", path.join(tmp, "archive"));
        awsOk(["s3", "mb", `s3://${bucket}`]);
        awsOk(["s3", "cp", "--only-show-errors", mar, `s3://${bucket}/models/fraud/fraud-scorer/1/fraud-scorer.mar`]);
        awsOk(["s3", "cp", "--only-show-errors", mar, `s3://${bucket}/models/recsys/ranker/1/ranker.mar`]);

        // The workload role with the policy the platform gives it, assumed with a web identity token as
        // the pod identity webhook sets it up; then moto checks every request's signature and permissions.
        const policy = workloadPolicy({ bucketArn: `arn:aws:s3:::${bucket}`, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/e2e" }, "fraud");
        const trust = {
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/E2E" },
                    Action: "sts:AssumeRoleWithWebIdentity",
                },
            ],
        };
        const roleArn = awsOk([
            "iam",
            "create-role",
            "--role-name",
            "fraud-workload",
            "--assume-role-policy-document",
            JSON.stringify(trust),
            "--query",
            "Role.Arn",
            "--output",
            "text",
        ]).trim();
        awsOk(["iam", "put-role-policy", "--role-name", "fraud-workload", "--policy-name", "workload", "--policy-document", JSON.stringify(policy)]);
        const token = path.join(tmp, "token");
        fs.writeFileSync(token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bWwtZnJhdWQ6d29ya2xvYWQifQ.ZTJl");
        const init = rendered.initContainers[0];
        podIdentity = { ...envOf(init), AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1", AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: token };

        // The init container's command, as rendered, with the pod's /models in the suite's temp dir.
        expect(init.command).toEqual(["aws"]);
        const models = path.join(tmp, "models");
        const download = await asWorkload((init.args as string[]).map((a) => a.replace(/^\/models\//, `${models}/`)));
        if (download.status !== 0) throw new Error(`the init container's download exited ${download.status}:\n${download.stderr}`);
        main = await startTorchServe("main", models);
    });

    afterAll(async () => {
        for (const p of procs.reverse()) await p.stop();
        for (const s of servers.reverse()) await s.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("downloaded the archive with the init container's command as the workload role, which may read no other team's models", async () => {
        expect(rendered.serviceAccountName).toBe("workload");
        const init = rendered.initContainers[0];
        expect(Object.keys(envOf(init)).filter((k) => k.startsWith("AWS_") && /KEY|TOKEN|SECRET/.test(k))).toEqual([]);
        expect(fs.readFileSync(path.join(tmp, "models", "store", "model.mar"))).toEqual(fs.readFileSync(path.join(tmp, "archive", "fraud-scorer.mar")));
        const other = await asWorkload(
            (init.args as string[]).map((a) =>
                a.replace("/models/fraud/fraud-scorer/1/fraud-scorer.mar", "/models/recsys/ranker/1/ranker.mar").replace(/^\/models\//, `${tmp}/other/`),
            ),
        );
        expect(other.status).not.toBe(0);
        expect(other.stderr).toContain("403");
    });

    it("answers the rendered probes: the readiness command once the model has a READY worker, /ping for liveness", async () => {
        await waitFor("the readiness command to pass", () => readinessCheck(main) === 0, 120_000, 500);
        expect((await fetch(main.url + rendered.container.livenessProbe.httpGet.path)).status).toBe(200);
        expect(rendered.container.livenessProbe.httpGet.path).toBe("/ping");
        // The frontend wrote its logs and pid file where the rendered environment says (the pod's /tmp).
        expect(fs.existsSync(path.join(main.podTmp, "torchserve", "logs"))).toBe(true);
        expect(fs.existsSync(path.join(main.podTmp, ".model_server.pid"))).toBe(true);
    });

    it("predicts at the preset's path; a request the handler fails on is answered 503, an unknown model 404", async () => {
        const predict = (body: unknown, p = "/predictions/fraud-scorer") =>
            fetch(main.url + p, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        for (let i = 0; i < 3; i++) {
            const res = await predict({ x: [1, i] });
            expect(res.status).toBe(200);
            expect(await res.json()).toEqual({ score: [2, 2 * i] });
        }
        expect((await predict({ amount: 1 })).status).toBe(503);
        expect((await predict({ x: [1] }, "/predictions/ranker")).status).toBe(404);
    });

    it("exposes the native metrics the adapter reads, and the adapter turns them into the contract's series", async () => {
        const text = await (await fetch(`${main.metricsUrl}/metrics`)).text();
        const samples = nativeSamples(text, rendered);
        expect(new Set(samples.map((s) => s.name))).toEqual(new Set(nativeMetricsOf(rendered.rules)));
        const value = (name: string) => samples.find((s) => s.name === name)!.value;
        // TorchServe's counter of the model counts the failed request too; its latency only the answered ones.
        expect(value("ts_inference_requests_total")).toBe(4);
        const r = promtoolAdapter(path.join(tmp, "promtool"), rendered, samples, [
            // 3 answered, 1 failed (503: counted under 200 by the model's counter and again under 5xx), 1 unknown model (404).
            {
                expr: 'sum by (status) (mlops_model_requests_total{service="fraud-scorer"})',
                exp: [
                    { labels: '{status="200"}', value: 4 },
                    { labels: '{status="4xx"}', value: 1 },
                    { labels: '{status="5xx"}', value: 1 },
                ],
            },
            { expr: 'sum(mlops_model_request_duration_seconds_count{service="fraud-scorer"})', exp: [{ labels: "{}", value: 4 }] },
            {
                expr: 'sum(mlops_model_request_duration_seconds_sum{service="fraud-scorer"}) > 0',
                exp: [{ labels: "{}", value: value("ts_inference_latency_microseconds") / 1e6 }],
            },
            {
                expr: "count by (model, version, team) (mlops_model_requests_total)",
                exp: [{ labels: '{model="fraud-scorer",version="1",team="fraud"}', value: 3 }],
            },
        ]);
        expect(r.output).not.toContain("FAILED");
        expect(r.status, r.output).toBe(0);
    });

    it("never reports ready when the model cannot load, though /ping answers 200", async () => {
        const models = path.join(tmp, "broken-models");
        fs.mkdirSync(path.join(models, "store"), { recursive: true });
        fs.copyFileSync(archive("broken_handler.py", path.join(tmp, "broken-archive")), path.join(models, "store", "model.mar"));
        const broken = await startTorchServe("broken", models);
        // The worker has died and been restarted at least twice: /ping still says Healthy, the readiness command fails.
        await waitFor("two failed starts of the worker", () => (broken.proc.output.match(/Retry worker/g) ?? []).length >= 2, 120_000, 500);
        expect(broken.proc.output).toContain("the e2e broken model cannot load");
        expect((await fetch(broken.url + "/ping")).status).toBe(200);
        expect(readinessCheck(broken)).toBe(1);
        await broken.proc.stop();
    }, 200_000);

    it("stops on the rendered preStop hook; SIGTERM to the launcher (its namespace's PID 1) is discarded", async () => {
        const launcher = pid1(main);
        expect(fs.readFileSync(`/proc/${launcher}/status`, "utf8")).toMatch(/^NSpid:\s+\d+\s+1$/m);
        process.kill(launcher, "SIGTERM");
        await new Promise((r) => setTimeout(r, 3000));
        expect(main.proc.running).toBe(true);
        expect((await fetch(main.url + "/ping")).status).toBe(200);
        // The kubelet runs the hook in the container (its PID and mount namespaces, its environment).
        const hook = rendered.container.lifecycle.preStop.exec.command as string[];
        expect(hook.slice(-2)).toEqual(["torchserve", "--stop"]);
        const started = Date.now();
        const r = spawnSync("nsenter", ["--target", String(launcher), "--pid", "--mount", "--", ...hook], {
            env: { PATH: `${path.join(TS_VENV, "bin")}:/usr/bin:/bin`, ...main.env },
            cwd: main.podTmp,
            encoding: "utf8",
            timeout: 90_000,
        });
        expect(r.status, `${r.signal} ${r.stdout} ${r.stderr}`).toBe(0);
        // The frontend stopped, so the launcher returned: the container's first process exits, 0.
        const code = await Promise.race([main.proc.exited, new Promise((r) => setTimeout(() => r("still running"), 30_000))]);
        expect(code, main.proc.tail(15)).toBe(0);
        expect(Date.now() - started).toBeLessThan(60_000);
        expect(await fetch(main.url + "/ping").catch(() => "refused")).toBe("refused");
    }, 200_000);
});
