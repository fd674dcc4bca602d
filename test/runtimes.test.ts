/**
 * Serving runtime presets of ModelService (components/team/runtimes/): each preset's argument checks with
 * their exact messages, the objects each renders in prod (command, ports, probes, the model download
 * init container as the workload's identity, the ServiceMonitor's relabelings, the metrics adapter's
 * PrometheusRule), that the rendered objects are valid and pass the mandatory policies of prod, and that
 * `custom` renders exactly what ModelService rendered before (no adapter, no relabelings).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { quantityValue } from "../stacks/config";
import { METRICS, seriesNames } from "../components/shared/metricsContract";
import { type ModelServiceArgs, ModelService, validateModelServiceArgs } from "../components/team/modelService";
import {
    CONTRACT_SERIES,
    MLSERVER_METRICS,
    nativeMetricsOf,
    podLabelMeta,
    type RuntimeArgs,
    TORCHSERVE_METRICS,
    torchserveReadinessCommand,
    TRITON_METRICS,
} from "../components/team/runtimes";
import { validateObjects } from "../engine/kubernetes";
import { readPackConfig } from "../policy/framework/configFiles";
import { PACKS } from "../policy/packs";
import { contextForStack, runPacks } from "../policy/framework/runner";
import { runProgram, type StackRun } from "./harness";
import { APPROVAL_12, platformRefs, prodArgs } from "./modelServiceFixtures";

const NOW = new Date("2026-11-22T12:00:00Z");
/** The AWS CLI image, mirrored to the organisation's registry (the only one prod pulls from). */
const FETCH = `410987654321.dkr.ecr.eu-west-1.amazonaws.com/mirror/aws-cli:2.22.0@sha256:${"b".repeat(64)}`;
const image = (repo: string) => ({ reference: `410987654321.dkr.ecr.eu-west-1.amazonaws.com/mirror/${repo}@sha256:${"c".repeat(64)}` });

/** The prod fraud scorer on a runtime: the runtime's image, no schema, no prediction logging (custom-only). */
function onRuntime(runtime: RuntimeArgs, change: Partial<ModelServiceArgs> = {}): ModelServiceArgs {
    const { inputSchema: _schema, ...rest } = prodArgs();
    return {
        ...rest,
        // Compliance approved version 12 with the runtime's image and the model-fetch image.
        platform: {
            ...platformRefs("prod"),
            modelFetchImage: FETCH,
            approvals: [{ ...APPROVAL_12, imageDigests: [`sha256:${"c".repeat(64)}`, `sha256:${"b".repeat(64)}`] }],
        },
        image: image(runtime.kind === "mlflow" ? "mlserver:1.7.1-mlflow" : runtime.kind === "torchserve" ? "torchserve:0.12.0-cpu" : "tritonserver:24.08-py3"),
        predictionLogging: { enabled: false },
        runtime,
        ...change,
    };
}

function errorOf(args: ModelServiceArgs): string | undefined {
    try {
        validateModelServiceArgs("fraud-scorer", args, NOW);
    } catch (e) {
        return (e as Error).message;
    }
    return undefined;
}

const RUNTIMES: Record<string, RuntimeArgs> = {
    mlflow: { kind: "mlflow" },
    onnx: { kind: "onnx", artifactPath: "fraud-scorer/12/model.onnx" },
    triton: { kind: "triton", artifactPath: "fraud-scorer/12/repository" },
    torchserve: { kind: "torchserve", artifactPath: "fraud-scorer/12/fraud-scorer.mar", modelVolumeSize: "8Gi" },
};

describe("runtime arguments", () => {
    it("accept every preset in prod, and custom is the default", () => {
        for (const runtime of Object.values(RUNTIMES)) expect(errorOf(onRuntime(runtime)), runtime.kind).toBeUndefined();
        expect(errorOf(prodArgs({ runtime: { kind: "custom" } }))).toBeUndefined();
    });

    it("refuse an unknown kind", () => {
        expect(errorOf(onRuntime({ kind: "kserve" } as never))).toContain('runtime.kind "kserve" must be one of custom, mlflow, onnx, triton, torchserve');
    });

    it("want an artifact path under the team's model prefix, of the preset's kind", () => {
        expect(errorOf(onRuntime({ kind: "torchserve", artifactPath: "fraud-scorer/12/model.onnx" }))).toContain(
            'runtime.artifactPath "fraud-scorer/12/model.onnx" must name a .mar file (TorchServe model archive)',
        );
        expect(errorOf(onRuntime({ kind: "onnx", artifactPath: "s3://other-bucket/model.onnx" }))).toContain(
            'runtime.artifactPath "s3://other-bucket/model.onnx" must be relative to the team\'s model prefix (models/<team>/), like fraud-scorer/12/model.onnx',
        );
        expect(errorOf(onRuntime({ kind: "triton", artifactPath: "../recsys/repository" }))).toContain(
            'runtime.artifactPath "../recsys/repository" may hold only letters, digits, ., _, - and /, and no . or .. segments',
        );
        expect(errorOf(onRuntime({ kind: "triton" } as never))).toContain(
            "runtime.artifactPath must name the Triton model repository directory under the team's model prefix",
        );
    });

    it("want a pinned AWS CLI image for the presets that download", () => {
        const { modelFetchImage: _fetch, ...noFetch } = onRuntime(RUNTIMES.mlflow).platform;
        expect(errorOf(onRuntime(RUNTIMES.onnx, { platform: noFetch }))).toContain(
            "runtime onnx downloads its model with the AWS CLI: set platform.modelFetchImage (an AWS CLI image, pinned by digest outside dev)",
        );
        expect(errorOf(onRuntime(RUNTIMES.mlflow, { platform: noFetch }))).toBeUndefined();
        expect(
            errorOf(
                onRuntime(RUNTIMES.torchserve, {
                    platform: { ...noFetch, modelFetchImage: "410987654321.dkr.ecr.eu-west-1.amazonaws.com/mirror/aws-cli:2.22.0" },
                }),
            ),
        ).toContain(
            'platform.modelFetchImage: image "410987654321.dkr.ecr.eu-west-1.amazonaws.com/mirror/aws-cli:2.22.0" must be pinned by digest (repo@sha256:...) in prod',
        );
    });

    it("refuse what only the custom contract reads, and what the preset owns, in one message", () => {
        const message = errorOf(
            onRuntime(RUNTIMES.mlflow, {
                image: { build: { context: "examples/team-fraud/model-server" } },
                inputSchema: { type: "object" },
                predictionLogging: { enabled: true },
                port: 8000,
                health: { readinessPath: "/ready" },
                env: { MLSERVER_MODEL_URI: "models:/other/1", GUNICORN_CMD_ARGS: "--timeout 60" },
            }),
        );
        expect(message).toContain(
            "runtime mlflow serves with the runtime's own image: image must be { reference } to a MLServer (with mlserver-mlflow) image, not a build",
        );
        expect(message).toContain(
            "inputSchema is read by custom servers only; runtime mlflow validates requests against the model's own signature or configuration: remove it",
        );
        expect(message).toContain("predictionLogging is written by custom servers only; runtime mlflow logs no predictions: set enabled: false");
        expect(message).toContain("port is set by runtime mlflow: remove it");
        expect(message).toContain("health is set by runtime mlflow: remove it");
        expect(message).toContain('env "MLSERVER_MODEL_URI" is set by runtime mlflow; remove it');
        expect(message).not.toContain("GUNICORN_CMD_ARGS");
    });

    it("leave the startup timeout to the team (a large model loads slowly)", () => {
        expect(errorOf(onRuntime(RUNTIMES.triton, { health: { startupTimeoutSeconds: 900 } }))).toBeUndefined();
    });
});

const in_ = (run: StackRun, kind: string, name: string) => {
    const found = run.k8sOfKind(kind, "ml-fraud").filter((o) => o.metadata.name === name);
    expect(found, `${kind}/${name}`).toHaveLength(1);
    return found[0] as any;
};

describe.each(Object.entries(RUNTIMES))("the %s runtime in prod", (kind, runtime) => {
    let run: StackRun;
    let service: ModelService;
    beforeAll(async () => {
        run = await runProgram(() => {
            service = new ModelService("fraud-scorer", onRuntime(runtime));
            return { note: service.operatingNote };
        });
    });
    const pod = () => in_(run, "Deployment", "fraud-scorer").spec.template.spec;
    const server = () => pod().containers[0];

    it("renders valid objects that pass prod's policies", async () => {
        const objects = run.k8s().map((o) => o.object);
        expect(await validateObjects(objects)).toEqual([]);
        const findings = (
            await runPacks(PACKS, run.resources, (pack) => readPackConfig("prod", pack), contextForStack("prod", { "mlops:labelDomain": "acme.io" }, NOW))
        ).findings;
        expect(findings.filter((f) => f.level === "mandatory").map((f) => `${f.policy}: ${f.message}`)).toEqual([]);
    });

    it("runs the runtime's image with the preset's command, ports and probes", () => {
        const c = server();
        expect(c.image).toBe(onRuntime(runtime).image && (onRuntime(runtime).image as { reference: string }).reference);
        const ports = Object.fromEntries(c.ports.map((p: any) => [p.name, p.containerPort]));
        const expected = {
            mlflow: { command: ["mlserver", "start", "/tmp"], http: 8080, metrics: 8082, ready: "/v2/models/fraud-scorer/ready", live: "/v2/health/live" },
            onnx: { command: ["tritonserver"], http: 8000, metrics: 8002, ready: "/v2/health/ready", live: "/v2/health/live" },
            triton: { command: ["tritonserver"], http: 8000, metrics: 8002, ready: "/v2/health/ready", live: "/v2/health/live" },
            torchserve: { command: ["torchserve"], http: 8080, metrics: 8082, ready: "/ping", live: "/ping" },
        }[kind]!;
        expect(c.command).toEqual(expected.command);
        expect(ports).toEqual({ http: expected.http, metrics: expected.metrics });
        if (kind === "torchserve") {
            // /ping answers before the model can serve: startup and readiness ask the management API (loopback).
            const check = torchserveReadinessCommand("fraud-scorer");
            expect(check.slice(0, 2)).toEqual(["python3", "-c"]);
            expect(check[2]).toContain('urllib.request.urlopen("http://127.0.0.1:8081/models/fraud-scorer", timeout=2)');
            expect(c.readinessProbe).toMatchObject({ exec: { command: check }, periodSeconds: 10, timeoutSeconds: 3 });
            expect(c.readinessProbe.httpGet).toBeUndefined();
            expect(c.startupProbe).toMatchObject({ exec: { command: check } });
            expect(c.startupProbe.httpGet).toBeUndefined();
            // The launcher (PID 1) ignores SIGTERM: after the drain, the preStop hook stops TorchServe itself.
            expect(c.lifecycle).toEqual({
                preStop: { exec: { command: ["/bin/sh", "-c", 'sleep "$1" && shift && exec "$@"', "sh", "10", "torchserve", "--stop"] } },
            });
        } else {
            expect(c.readinessProbe.httpGet).toEqual({ path: expected.ready, port: "http", scheme: "HTTP" });
            expect(c.startupProbe.httpGet.path).toBe(expected.ready);
            expect(c.lifecycle).toEqual({ preStop: { sleep: { seconds: 10 } } });
        }
        expect(c.livenessProbe.httpGet).toEqual({ path: expected.live, port: "http", scheme: "HTTP" });
        // The Service routes its named ports to them.
        const svc = in_(run, "Service", "fraud-scorer");
        expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([
            ["http", 80, "http"],
            ["metrics", expected.metrics, "metrics"],
        ]);
        // None of the custom contract's variables.
        const names = c.env.map((e: any) => e.name);
        for (const v of ["PORT", "METRICS_PORT", "PREDICTION_LOG_ENABLED", "MODEL_INPUT_SCHEMA_PATH"]) expect(names).not.toContain(v);
        expect(names).toEqual(expect.arrayContaining(["MODEL_URI", "MLOPS_TEAM", "MLOPS_SERVICE", "HOME", "TMPDIR"]));
    });

    it("passes the preset's arguments", () => {
        const c = server();
        if (kind === "mlflow") {
            const env = Object.fromEntries(c.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
            expect(env).toMatchObject({
                MLSERVER_HTTP_PORT: "8080",
                MLSERVER_METRICS_PORT: "8082",
                MLSERVER_METRICS_ENDPOINT: "/metrics",
                MLSERVER_PARALLEL_WORKERS: "0",
                MLSERVER_MODEL_NAME: "fraud-scorer",
                MLSERVER_MODEL_IMPLEMENTATION: "mlserver_mlflow.MLflowRuntime",
                MLSERVER_MODEL_URI: "models:/fraud-scorer/12",
                MLFLOW_TRACKING_URI: "http://mlflow.mlflow.svc.cluster.local",
            });
            expect(c.env.find((e: any) => e.name === "MLFLOW_TRACKING_PASSWORD").valueFrom.secretKeyRef).toEqual({
                name: "mlflow-credentials",
                key: "password",
                optional: true,
            });
            expect(c.args).toBeUndefined();
        } else if (kind === "torchserve") {
            expect(c.args).toEqual([
                "--start",
                "--foreground",
                "--ncs",
                "--disable-token-auth",
                "--ts-config=/etc/mlops/runtime/config.properties",
                "--model-store=/models/store",
                "--models=fraud-scorer=model.mar",
            ]);
            const config = in_(run, "ConfigMap", "fraud-scorer-runtime-config").data["config.properties"];
            expect(config).toContain("metrics_mode=prometheus\n");
            expect(config).toContain("management_address=http://127.0.0.1:8081\n");
            // cpuRequest 1: one worker.
            expect(config).toContain("default_workers_per_model=1\n");
            expect(c.volumeMounts).toContainEqual({ name: "runtime-config", mountPath: "/etc/mlops/runtime", readOnly: true });
            expect(pod().volumes).toContainEqual({ name: "runtime-config", configMap: { name: "fraud-scorer-runtime-config", defaultMode: 0o444 } });
            expect(in_(run, "Deployment", "fraud-scorer").spec.template.metadata.annotations["mlops.acme.io/runtime-config-sha256"]).toMatch(/^[a-f0-9]{64}$/);
        } else {
            expect(c.args).toEqual([
                "--model-repository=/models/repository",
                "--model-control-mode=none",
                "--strict-readiness=true",
                "--exit-on-error=true",
                "--allow-http=true",
                "--http-port=8000",
                "--allow-grpc=false",
                "--allow-metrics=true",
                "--metrics-port=8002",
            ]);
        }
    });

    it("downloads the artifact as the workload's service account, or loads it from the registry", () => {
        const p = pod();
        expect(p.serviceAccountName).toBe("workload");
        if (kind === "mlflow") {
            expect(p.initContainers).toBeUndefined();
            return;
        }
        expect(p.initContainers).toHaveLength(1);
        const init = p.initContainers[0];
        expect(init.image).toBe(FETCH);
        expect(init.command).toEqual(["aws"]);
        const uri = `s3://acme-mlops-prod-artifacts/models/fraud/${(runtime as { artifactPath: string }).artifactPath}`;
        expect(init.args).toEqual(
            {
                onnx: ["s3", "cp", "--only-show-errors", uri, "/models/repository/fraud-scorer/1/model.onnx"],
                triton: ["s3", "sync", "--only-show-errors", "--exact-timestamps", `${uri}/`, "/models/repository/"],
                torchserve: ["s3", "cp", "--only-show-errors", uri, "/models/store/model.mar"],
            }[kind],
        );
        expect(init.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        expect(init.volumeMounts).toEqual([
            { name: "model", mountPath: "/models" },
            { name: "tmp", mountPath: "/tmp" },
        ]);
        expect(server().volumeMounts).toContainEqual({ name: "model", mountPath: "/models", readOnly: true });
        const size = kind === "torchserve" ? "8Gi" : "4Gi";
        expect(p.volumes).toContainEqual({ name: "model", emptyDir: { sizeLimit: size } });
        // Every container's ephemeral-storage limit covers both disk-backed volumes (tmp 2Gi and the model).
        const scratch = quantityValue("2Gi") + quantityValue(size);
        for (const c of [init, server()]) expect(quantityValue(c.resources.limits["ephemeral-storage"])).toBeGreaterThan(scratch);
        expect(init.resources.requests).toMatchObject({ cpu: "100m", memory: "256Mi" });
    });

    it("scrapes the runtime's metrics with the model labels of the pod, and records them under the contract's names", () => {
        const monitor = in_(run, "ServiceMonitor", "fraud-scorer");
        expect(monitor.spec.endpoints).toEqual([
            {
                port: "metrics",
                path: "/metrics",
                interval: "30s",
                scrapeTimeout: "10s",
                relabelings: [
                    { sourceLabels: ["__meta_kubernetes_pod_label_mlops_acme_io_model"], targetLabel: "model", action: "replace" },
                    { sourceLabels: ["__meta_kubernetes_pod_label_mlops_acme_io_model_version"], targetLabel: "version", action: "replace" },
                    { sourceLabels: ["__meta_kubernetes_pod_label_mlops_acme_io_team"], targetLabel: "team", action: "replace" },
                ],
            },
        ]);
        // The pod carries the labels the relabelings read.
        const labels = in_(run, "Deployment", "fraud-scorer").spec.template.metadata.labels;
        expect(labels).toMatchObject({ "mlops.acme.io/model": "fraud-scorer", "mlops.acme.io/model-version": "12", "mlops.acme.io/team": "fraud" });
        expect(podLabelMeta("mlops.acme.io/model-version")).toBe("__meta_kubernetes_pod_label_mlops_acme_io_model_version");

        const rule = in_(run, "PrometheusRule", "fraud-scorer-metrics-adapter");
        expect(rule.spec.groups).toHaveLength(1);
        expect(rule.spec.groups[0].name).toBe("mlops-metrics-adapter-fraud-scorer");
        const rules = rule.spec.groups[0].rules;
        const contract = new Set(
            Object.values(METRICS)
                .filter((m) => m.source === "model-server")
                .flatMap((m) => seriesNames(m)),
        );
        for (const r of rules) {
            expect(contract.has(r.record), r.record).toBe(true);
            // Only this service's series.
            expect(r.expr).toContain('{namespace="ml-fraud", service="fraud-scorer"');
        }
        const natives = { mlflow: MLSERVER_METRICS, onnx: TRITON_METRICS, triton: TRITON_METRICS, torchserve: TORCHSERVE_METRICS }[kind]!;
        expect(nativeMetricsOf(rules)).toEqual([...new Set(Object.values(natives))].sort());
        const recorded = new Set(rules.map((r: any) => r.record));
        expect(recorded.has(CONTRACT_SERIES.requests)).toBe(true);
        expect(recorded.has(CONTRACT_SERIES.durationBucket)).toBe(kind === "mlflow");
    });

    it("says in its operating note which runtime serves and where predictions go", () => {
        expect(service.operatingNote).toContain(`| Runtime | ${kind}: `);
        const path = {
            mlflow: "/invocations",
            onnx: "/v2/models/fraud-scorer/infer",
            triton: "/v2/models/fraud-scorer/infer",
            torchserve: "/predictions/fraud-scorer",
        }[kind]!;
        expect(service.operatingNote).toContain(`(\`POST ${path}\`)`);
    });
});

describe("the custom runtime", () => {
    it("renders no adapter, no relabelings and no init container: the server exposes the contract itself", async () => {
        const run = await runProgram(() => new ModelService("fraud-scorer", prodArgs({ runtime: { kind: "custom" } })));
        expect(run.k8sOfKind("PrometheusRule", "ml-fraud").map((o) => o.metadata.name)).toEqual(["fraud-scorer-alerts"]);
        const monitor = in_(run, "ServiceMonitor", "fraud-scorer");
        expect(monitor.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }]);
        const pod = in_(run, "Deployment", "fraud-scorer").spec.template.spec;
        expect(pod.initContainers).toBeUndefined();
        expect(pod.containers[0].command).toBeUndefined();
        expect(pod.containers[0].ports.map((p: any) => p.containerPort)).toEqual([8080, 9090]);
    });
});

describe("the torchserve runtime's stop without a drain", () => {
    it("runs torchserve --stop as the preStop hook, with no sleep before it", async () => {
        const run = await runProgram(() => new ModelService("fraud-scorer", onRuntime(RUNTIMES.torchserve, { drainSeconds: 0 })));
        const c = in_(run, "Deployment", "fraud-scorer").spec.template.spec.containers[0];
        expect(c.lifecycle).toEqual({ preStop: { exec: { command: ["torchserve", "--stop"] } } });
        // Other runtimes without a drain have no hook.
        const mlflow = await runProgram(() => new ModelService("fraud-scorer", onRuntime(RUNTIMES.mlflow, { drainSeconds: 0 })));
        expect(in_(mlflow, "Deployment", "fraud-scorer").spec.template.spec.containers[0].lifecycle).toBeUndefined();
    });
});

describe("the platform's fetch image as readPlatform passes it (a stack output)", () => {
    const onOutput = (modelFetchImage: pulumi.Output<string | undefined>, approvals = onRuntime(RUNTIMES.triton).platform.approvals) =>
        onRuntime(RUNTIMES.triton, { platform: { ...onRuntime(RUNTIMES.triton).platform, modelFetchImage, approvals } });

    it("runs the download init container with it, approved with the version in prod", async () => {
        const run = await runProgram(() => new ModelService("fraud-scorer", onOutput(pulumi.output(FETCH))));
        const pod = in_(run, "Deployment", "fraud-scorer").spec.template.spec;
        expect(pod.initContainers.map((c: any) => [c.name, c.image])).toEqual([["model-download", FETCH]]);
        expect(pod.containers[0].image).toBe(image("tritonserver:24.08-py3").reference);
    });

    it("in prod, registers nothing when compliance has not approved its digest with the version", async () => {
        const error = await runProgram(
            () => new ModelService("fraud-scorer", onOutput(pulumi.output(FETCH), [{ ...APPROVAL_12, imageDigests: [`sha256:${"c".repeat(64)}`] }])),
        ).catch((e) => e);
        expect(String(error.message)).toContain(`sha256:${"b".repeat(64)}`);
        expect(error.resources.filter((r: any) => r.type.startsWith("kubernetes:"))).toEqual([]);
    });

    it("refuses a downloading runtime on a platform without one, naming the service and the platform's setting", async () => {
        const args = onRuntime(RUNTIMES.onnx, {
            platform: { ...platformRefs("dev"), modelFetchImage: pulumi.output<string | undefined>(undefined) },
            image: image("tritonserver:24.08-py3"),
        });
        const error = await runProgram(() => new ModelService("fraud-scorer", args)).catch((e) => e);
        expect(String(error.message)).toContain(
            'ModelService "fraud-scorer": runtime onnx downloads its model with the AWS CLI, but the platform stack has no modelFetchImage output: the platform team sets mlops:serving.modelFetchImage',
        );
        // A runtime that downloads nothing does not need it.
        await runProgram(() => new ModelService("fraud-scorer", { ...args, runtime: RUNTIMES.mlflow }));
    });
});

describe("the runtimes suite's locks (e2e/setup)", () => {
    it("pin every package to one version with sha256 hashes (pip --require-hashes installs them)", async () => {
        const fs = await import("fs");
        const path = await import("path");
        for (const lock of ["runtimes.requirements.lock", "runtimes-triton.requirements.lock", "runtimes-torchserve.requirements.lock"]) {
            const text = fs.readFileSync(path.join(__dirname, "..", "e2e", "setup", lock), "utf8");
            const logical = text
                .replace(/\\\n\s*/g, " ")
                .split("\n")
                .map((l) => l.replace(/\s+#.*$/, "").trim())
                .filter((l) => l && !l.startsWith("#"));
            expect(logical.length, lock).toBeGreaterThan(0);
            for (const line of logical) expect(line, lock).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?==\S+(\s+--hash=sha256:[0-9a-f]{64})+$/);
        }
    });
});
