/**
 * The drift check, for real: the program of images/drift-check run exactly as the dev stack's DriftCheck
 * CronJob renders it (the image's ENTRYPOINT, the container's args and env from the plan; only the
 * endpoints rewritten to loopback), against moto's S3 server holding prediction logs written by the
 * example model server's own log-writing code and a reference profile written by the program's
 * `profile` command, pushing to a real Pushgateway (Debian prometheus-pushgateway). The series the
 * Pushgateway then serves are fed to `promtool test rules` with the dev stack's rendered alert rules:
 * ModelFeatureDriftHigh fires for shifted inputs and stays silent for unshifted ones.
 *
 * MLflow is a stub here that answers the one registry call the check makes (resolving the alias); the
 * suite checks the request it got.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { METRICS } from "../components/shared/metricsContract";
import { planStack } from "../engine/plan";
import { freePort, type Server, startServer } from "./lib/childServer";
import { DRIFT_CHECK_DIR, dockerEntrypoint, dockerEnv, driftVenv, type RenderedContainer, ROOT } from "./lib/driftCheck";

const VENV = driftVenv();
const PY = path.join(VENV, "bin", "python");
const SERVER_PY = path.join(ROOT, "examples", "team-fraud", "model-server", "server.py");
const LOGS_PY = path.join(ROOT, "e2e", "lib", "prediction_logs.py");
const VERSION = "3";
const AWS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1" };

interface Sample {
    name: string;
    labels: Record<string, string>;
    value: number;
}

/** Samples of the Prometheus text format (no escapes in the values the check pushes but \" and \\). */
function parseExposition(text: string): Sample[] {
    const samples: Sample[] = [];
    for (const line of text.split("\n")) {
        if (!line || line.startsWith("#")) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!m) throw new Error(`not a sample line: ${line}`);
        const labels: Record<string, string> = {};
        for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, "$1");
        samples.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return samples;
}

const seriesName = (s: Sample) =>
    `${s.name}{${Object.entries(s.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}}`;

describe("the drift check, for real", () => {
    let tmp: string;
    const servers: Server[] = [];
    let mlflow: http.Server | undefined;
    const mlflowRequests: { url: string; authorization?: string }[] = [];
    let s3Url: string;
    let pushgatewayUrl: string;
    let mlflowUrl: string;
    let container: RenderedContainer;
    let ruleGroups: unknown[];
    let env: Record<string, string>;
    let bucket: string;

    beforeAll(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-drift-"));
        // The dev stack's plan: the CronJob and the team's PrometheusRule as they would be applied.
        const plan = await planStack({ root: ROOT, stack: "dev", policyPacks: [], policyTimeoutMs: 60_000, load: (entry) => import(entry) });
        const cronJob = plan.objects.map((o) => o.object as any).find((o) => o.kind === "CronJob" && o.metadata.name === "drift-check-fraud-scorer");
        container = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
        const rule = plan.objects.map((o) => o.object as any).find((o) => o.kind === "PrometheusRule" && o.metadata.name === "mlops-model-alerts-fraud");
        ruleGroups = rule.spec.groups;

        const s3Port = await freePort();
        s3Url = `http://127.0.0.1:${s3Port}`;
        servers.push(
            await startServer("moto", path.join(VENV, "bin", "moto_server"), ["-H", "127.0.0.1", "-p", String(s3Port)], s3Url, { readyPath: "/moto-api/" }),
        );
        const pgPort = await freePort();
        pushgatewayUrl = `http://127.0.0.1:${pgPort}`;
        servers.push(
            await startServer("pushgateway", "prometheus-pushgateway", [`--web.listen-address=127.0.0.1:${pgPort}`], pushgatewayUrl, { readyPath: "/-/ready" }),
        );

        mlflow = http.createServer((req, res) => {
            mlflowRequests.push({ url: req.url ?? "", authorization: req.headers.authorization });
            const url = new URL(req.url ?? "/", "http://x");
            if (
                url.pathname === "/api/2.0/mlflow/registered-models/alias" &&
                url.searchParams.get("name") === "fraud-scorer" &&
                url.searchParams.get("alias") === "champion"
            ) {
                res.writeHead(200, { "Content-Type": "application/json" }).end(
                    JSON.stringify({ model_version: { name: "fraud-scorer", version: VERSION, aliases: ["champion"] } }),
                );
            } else {
                res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error_code: "RESOURCE_DOES_NOT_EXIST" }));
            }
        });
        await new Promise<void>((r) => mlflow!.listen(0, "127.0.0.1", r));
        mlflowUrl = `http://127.0.0.1:${(mlflow.address() as any).port}`;

        // The container's environment as Kubernetes would set it: literal values; the optional MLflow
        // credentials Secret does not exist in dev (auth off), so those variables stay unset.
        const rendered = Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
        env = {
            ...dockerEnv(),
            ...rendered,
            // Endpoints, rewritten to loopback.
            MLFLOW_TRACKING_URI: mlflowUrl,
            MLOPS_PUSHGATEWAY_URL: pushgatewayUrl,
            AWS_ENDPOINT_URL_S3: s3Url,
            // What the EKS pod identity webhook injects for IRSA, here moto's test credentials.
            ...AWS,
            // The image's /app is this directory (Dockerfile: COPY drift_check /app, PYTHONPATH=/app:/app/site).
            PYTHONPATH: DRIFT_CHECK_DIR,
            PATH: `${path.join(VENV, "bin")}:/usr/bin:/bin`,
        };
        bucket = /^s3:\/\/([^/]+)\//.exec(rendered.MLOPS_PREDICTION_LOG_URI)![1];
        python(["-c", `import boto3; boto3.client("s3").create_bucket(Bucket="${bucket}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})`]);

        // The reference profile of version 3, written by the program's own `profile` command.
        const training = path.join(tmp, "training.jsonl");
        const profile = path.join(tmp, "profile.json");
        python([LOGS_PY, "training", "--count", "3000", "--output", training]);
        python(["-m", "drift_check", "profile", "--input", training, "--output", profile]);
        python([
            "-c",
            `import boto3, sys; boto3.client("s3").upload_file(sys.argv[1], "${bucket}", sys.argv[2])`,
            profile,
            `${new URL(rendered.MLOPS_REFERENCE_URI_PREFIX).pathname.slice(1)}${VERSION}/reference/profile.json`,
        ]);
    });

    afterAll(async () => {
        for (const s of servers.reverse()) await s.stop();
        await new Promise<void>((r) => (mlflow ? mlflow.close(() => r()) : r()));
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    function python(args: string[], extraEnv: Record<string, string> = {}): string {
        const r = spawnSync(PY, args, { env: { ...env, ...extraEnv }, encoding: "utf8", cwd: tmp });
        if (r.status !== 0) throw new Error(`python ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
        return r.stdout;
    }

    /** Replaces the prediction logs with `count` requests logged by the model server's PredictionLog. */
    function logRequests(count: number, shift: boolean): void {
        python(["-c", `import boto3; b = boto3.resource("s3").Bucket("${bucket}"); b.objects.filter(Prefix="prediction-logs/").delete()`]);
        python([
            LOGS_PY,
            "logs",
            "--server",
            SERVER_PY,
            "--log-uri",
            env.MLOPS_PREDICTION_LOG_URI,
            "--model",
            "fraud-scorer",
            "--version",
            VERSION,
            "--count",
            String(count),
            ...(shift ? ["--shift"] : []),
        ]);
    }

    /**
     * Runs the check as the CronJob does: the ENTRYPOINT (python3 is the venv's) with the rendered args.
     * Asynchronous: the MLflow stub answers from this process's event loop meanwhile.
     */
    function runCheck(): Promise<{ status: number | null; stderr: string }> {
        const [interpreter, ...entryArgs] = dockerEntrypoint();
        expect(interpreter).toBe("python3");
        expect(container.command).toBeUndefined();
        return new Promise((resolve, reject) => {
            const child = spawn(path.join(VENV, "bin", interpreter), [...entryArgs, ...(container.args ?? [])], {
                env,
                cwd: tmp,
                stdio: ["ignore", "ignore", "pipe"],
                timeout: 120_000,
            });
            let stderr = "";
            child.stderr!.on("data", (d) => (stderr += d));
            child.on("error", reject);
            child.on("close", (status) => resolve({ status, stderr }));
        });
    }

    async function pushed(): Promise<Sample[]> {
        const text = await (await fetch(`${pushgatewayUrl}/metrics`)).text();
        return parseExposition(text).filter((s) => s.name.startsWith("mlops_"));
    }

    /** promtool test rules on the dev stack's rendered team rules with `samples` as constant input series. */
    function promtoolDrift(samples: Sample[], expected: Sample[]): { status: number | null; output: string } {
        const dir = fs.mkdtempSync(path.join(tmp, "promtool-"));
        fs.writeFileSync(path.join(dir, "rules.yaml"), YAML.stringify({ groups: ruleGroups }));
        const drift = (ruleGroups as any[]).flatMap((g) => g.rules).find((r: any) => r.alert === "ModelFeatureDriftHigh");
        const render = (template: string, s: Sample) =>
            template.replace(/\{\{ printf "%\.2f" \$value \}\}/g, s.value.toFixed(2)).replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k) => s.labels[k] ?? "");
        const test = {
            rule_files: ["rules.yaml"],
            evaluation_interval: "1m",
            tests: [
                {
                    interval: "1m",
                    input_series: samples.map((s) => ({ series: seriesName(s), values: `${s.value}x20` })),
                    alert_rule_test: [
                        {
                            eval_time: "15m",
                            alertname: "ModelFeatureDriftHigh",
                            exp_alerts: expected.map((s) => ({
                                exp_labels: {
                                    ...drift.labels,
                                    namespace: s.labels.namespace,
                                    model: s.labels.model,
                                    version: s.labels.version,
                                    feature: s.labels.feature,
                                },
                                exp_annotations: Object.fromEntries(
                                    Object.entries(drift.annotations as Record<string, string>).map(([k, v]) => [k, render(v, s)]),
                                ),
                            })),
                        },
                        { eval_time: "15m", alertname: "BatchJobStale", exp_alerts: [] },
                    ],
                },
            ],
        };
        fs.writeFileSync(path.join(dir, "drift.test.yaml"), YAML.stringify(test));
        const r = spawnSync("promtool", ["test", "rules", "drift.test.yaml"], { cwd: dir, encoding: "utf8" });
        return { status: r.status, output: r.stdout + r.stderr };
    }

    const threshold = () => {
        const drift = (ruleGroups as any[]).flatMap((g) => g.rules).find((r: any) => r.alert === "ModelFeatureDriftHigh");
        return Number(/> ([0-9.]+)$/.exec(drift.expr)![1]);
    };

    it("the program's own unit tests pass (pytest, in the suite's venv)", () => {
        const r = spawnSync(PY, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], {
            cwd: DRIFT_CHECK_DIR,
            env: { ...env, PYTHONDONTWRITEBYTECODE: "1" },
            encoding: "utf8",
        });
        expect(r.status, r.stdout + r.stderr).toBe(0);
    });

    it("an unshifted window: every score stays below the threshold and ModelFeatureDriftHigh stays silent", async () => {
        logRequests(600, false);
        const started = Date.now() / 1000;
        const r = await runCheck();
        expect(r.status, r.stderr).toBe(0);
        expect(mlflowRequests.at(-1)).toEqual({ url: "/api/2.0/mlflow/registered-models/alias?name=fraud-scorer&alias=champion", authorization: undefined });

        const samples = await pushed();
        const group = { job: env.MLOPS_PUSH_JOB, namespace: env.MLOPS_PUSH_NAMESPACE };
        expect(group).toEqual({ job: "drift-check-fraud-scorer", namespace: "ml-fraud" });
        // Every pushed series is a contract metric of the drift check or the batch jobs, in the push group.
        const contract = Object.values(METRICS).filter((m) => m.source !== "model-server");
        for (const s of samples) {
            const spec = contract.find((m) => m.name === s.name);
            expect(spec, s.name).toBeDefined();
            expect(s.labels).toMatchObject({ ...group, model: "fraud-scorer", version: VERSION, team: "fraud" });
            for (const l of spec!.labels) if (l !== "job") expect(Object.keys(s.labels), `${s.name} ${l}`).toContain(l);
        }
        const byName = (n: string) => samples.filter((s) => s.name === n);
        const features = ["amount", "card_present", "country", "currency", "hour_of_day", "merchant_category", "__prediction__"];
        expect(
            byName(METRICS.featureDriftScore.name)
                .map((s) => s.labels.feature)
                .sort(),
        ).toEqual([...features].sort());
        expect(byName(METRICS.featureDriftScore.name).every((s) => s.labels.method === "psi")).toBe(true);
        expect(
            byName(METRICS.featureMissingRatio.name)
                .map((s) => [s.labels.feature, s.value])
                .sort(),
        ).toEqual([...features].sort().map((f) => [f, 0]));
        expect(byName(METRICS.batchRowsScored.name)[0].value).toBe(600);
        expect(byName(METRICS.batchExpectedInterval.name)[0].value).toBe(3600);
        const last = byName(METRICS.batchLastSuccess.name)[0].value;
        expect(last).toBeGreaterThanOrEqual(Math.floor(started));
        expect(last).toBeLessThanOrEqual(Date.now() / 1000);
        for (const s of byName(METRICS.featureDriftScore.name)) expect(s.value, s.labels.feature).toBeLessThan(threshold());

        const result = promtoolDrift(samples, []);
        expect(result.status, result.output).toBe(0);
        // The same series with one score raised above the threshold would fire: the test can fail.
        const raised = samples.map((s) => (s.name === METRICS.featureDriftScore.name && s.labels.feature === "amount" ? { ...s, value: threshold() + 1 } : s));
        expect(promtoolDrift(raised, []).status).not.toBe(0);
    });

    it("a shifted window (amounts and countries moved): ModelFeatureDriftHigh fires for the moved features and the prediction", async () => {
        logRequests(600, true);
        const r = await runCheck();
        expect(r.status, r.stderr).toBe(0);
        const samples = await pushed();
        const scores = samples.filter((s) => s.name === METRICS.featureDriftScore.name);
        const firing = scores.filter((s) => s.value > threshold());
        expect(firing.map((s) => s.labels.feature).sort()).toEqual(["__prediction__", "amount", "country"]);
        const result = promtoolDrift(samples, firing);
        expect(result.status, result.output).toBe(0);
    });

    it("fails without pushing when the reference profile of the resolved version is missing", async () => {
        const before = await (await fetch(`${pushgatewayUrl}/metrics`)).text();
        const stub = http.createServer((_req, res) =>
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ model_version: { version: "4" } })),
        );
        await new Promise<void>((r) => stub.listen(0, "127.0.0.1", r));
        try {
            const saved = env.MLFLOW_TRACKING_URI;
            env.MLFLOW_TRACKING_URI = `http://127.0.0.1:${(stub.address() as any).port}`;
            const r = await runCheck();
            env.MLFLOW_TRACKING_URI = saved;
            expect(r.status).toBe(1);
            expect(r.stderr).toContain("cannot read the reference profile");
            expect(r.stderr).toContain("/4/reference/profile.json");
        } finally {
            await new Promise<void>((r) => stub.close(() => r()));
        }
        const after = await (await fetch(`${pushgatewayUrl}/metrics`)).text();
        const pushTime = (t: string) => t.split("\n").filter((l) => l.startsWith("push_time_seconds"));
        expect(pushTime(after)).toEqual(pushTime(before));
    });

    it("writes the logs it reads with the model server's own code (server.py's PredictionLog)", () => {
        const source = fs.readFileSync(SERVER_PY, "utf8");
        expect(source).toMatch(/^class PredictionLog:/m);
        expect(execFileSync("grep", ["-c", "date={now:%Y-%m-%d}/{now:%H%M%S}-", SERVER_PY], { encoding: "utf8" }).trim()).toBe("1");
    });
});
