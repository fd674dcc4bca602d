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
 * For both, the suite scrapes the runtime's /metrics, checks every native metric the adapter's
 * recording rules read is there, and runs `promtool test rules` with the rendered recording rules on the
 * scraped samples (with the labels the ServiceMonitor would add): the contract's request counter and
 * latency series come out with the counts of the requests the suite sent.
 *
 * What is rewritten, and only that: ports (free ports instead of the pod's fixed ones), the pod's /tmp
 * and /models (the suite's temp dir), endpoints (loopback MLflow and S3), tritonserver's backend
 * directory (the wheel's layout, not the image's /opt/tritonserver/backends). Not run here: `onnx` (the
 * ONNX Runtime backend is not in any PyPI package) and `torchserve` (its worker imports torch, whose
 * Linux wheels on PyPI pull the CUDA libraries); their rendered contract is tested in test/runtimes.test.ts.
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
import { freePort, type Server, startServer } from "./lib/childServer";
import { parseExposition, renderService, type RenderedService, ROOT, runtimesVenv, type Sample, seriesOf } from "./lib/runtimes";

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
