/**
 * The platform's own pods on a real node (e2e/lib/node.ts, with the cluster DNS of clusterDns.ts): the
 * dev stack's MLflow with its in-cluster PostgreSQL StatefulSet, the example team's ModelService and a run
 * of the drift check's CronJob, as the plans render them (engine/plan.ts planStack), with only the image
 * references rewritten to images built on this machine (platformImages.ts). What the suite adds around
 * them is what a cloud cluster gives: a PersistentVolume for the database's claim (a local volume, as a
 * default storage class would provision one), the S3 endpoint and static credentials for boto3 (what the
 * EKS pod identity webhook injects as IRSA, here moto's, in a Secret), and a Pushgateway Service.
 *
 * Proven: every pod Ready under its rendered security context; MLflow's init container on a fresh volume
 * and the server answering through its Service; the model server loading a version registered in that
 * MLflow and answering through its Service; the drift check's run pushing its signals; a rollout of a new
 * model version keeping every replica available (the PDB's floor never crossed); pods breaking what the
 * namespaces enforce refused. Opt-in (E2E_NODE=1, as CI sets it) and gated on the machine as e2e/node.e2e.test.ts is.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../engine/plan";
import { installPrometheusOperatorCrds, type KubeObject } from "./lib/apiserver";
import { applyAll, type ApplyResult, refOf } from "./lib/apply";
import { driftVenv } from "./lib/driftCheck";
import { installGatewayApiCrds } from "./lib/gatewayApi";
import { diff, type HostSnapshot } from "./lib/hostState";
import { TRAIN } from "./lib/modelServer";
import { LocalNode, NODE_SETUP_TIMEOUT_MS, nodeSupport, waitFor } from "./lib/node";
import type { BuiltImage } from "./lib/nodeImages";
import { driftCheckImage, type ImageMap, mlflowImage, modelServerImage, postgresImage, pushgatewayImage, withLocalImages } from "./lib/platformImages";
import { venvBin, venvEnv } from "./lib/python";
import { S3Emulator } from "./lib/s3Emulator";
import { planExampleTeam, planOutputs, planPlatform } from "./lib/stackPlans";

function gate(): string | undefined {
    if (process.env.E2E_NODE !== "1") return "E2E_NODE is not 1 (the real-node suites are opt-in: E2E_NODE=1 npm run test:e2e)";
    const support = nodeSupport();
    if (!support.ok) return `this machine cannot run a node: ${support.reasons.join("; ")}`;
    if (!fs.existsSync("/usr/bin/prometheus-pushgateway")) return "Debian's prometheus-pushgateway is not installed (e2e/setup/install.sh installs it)";
    return undefined;
}

const skipReason = gate();
if (skipReason) console.warn(`[platformNode.e2e] SKIPPED: ${skipReason}`);

const ROOT = path.resolve(__dirname, "..");
const LOGS_PY = path.join(ROOT, "e2e", "lib", "prediction_logs.py");
const MODEL = "fraud-scorer";
const plain = (p: Plan): KubeObject[] => p.objects.map((o) => JSON.parse(JSON.stringify(o.object)) as KubeObject);
/** Each step waits for pods on a shared 2-core machine: minutes, not the tier's default five. */
const STEP_TIMEOUT = 900_000;
const isReady = (p: any) => p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") === true;

describe.skipIf(skipReason !== undefined)(
    skipReason ? `the platform's pods on a real node (SKIPPED: ${skipReason})` : "the platform's pods on a real node",
    () => {
        let node: LocalNode;
        let before: HostSnapshot;
        let s3: S3Emulator;
        let platform: Plan;
        let team: Plan;
        let images: Record<"mlflow" | "modelServer" | "driftCheck" | "postgres" | "pushgateway", BuiltImage>;
        let imageMap: ImageMap;
        let outputs: Record<string, any>;
        let teamNs: string;
        let modelVersion: number;
        let tmp: string;
        let stopped: string[] | undefined;

        const kubectlJson = (args: string[]) => node.kubectlJson(args);
        const pods = (ns: string, selector: string): any[] => kubectlJson(["get", "pods", "-n", ns, "-l", selector]).items;
        const explain = (ns: string) => () => {
            const lines = kubectlJson(["get", "pods", "-n", ns]).items.map(
                (p: any) =>
                    `${p.metadata.name}: ${p.status.phase} ${JSON.stringify(p.status.containerStatuses?.map((c: any) => c.state))} ${JSON.stringify(p.status.initContainerStatuses?.map((c: any) => c.state))}`,
            );
            const events = node.kubectl(["get", "events", "-n", ns, "--sort-by=.lastTimestamp"]).split("\n").slice(-15);
            return [...lines, ...events, node.log("kubelet")].join("\n");
        };
        async function waitReady(ns: string, selector: string, count: number, timeoutMs = 300_000): Promise<any[]> {
            return waitFor(
                `${count} Ready pod(s) ${selector} in ${ns}`,
                timeoutMs,
                () => {
                    const ready = pods(ns, selector).filter((p) => isReady(p) && !p.metadata.deletionTimestamp);
                    return ready.length >= count ? ready : undefined;
                },
                explain(ns),
            );
        }
        const clusterIP = (ns: string, name: string): string => kubectlJson(["get", "service", name, "-n", ns]).spec.clusterIP;

        /** What the EKS pod identity webhook adds for IRSA, here moto's endpoint and static credentials (a Secret). */
        function withAws(o: KubeObject): KubeObject {
            const spec = (o as any).spec?.template?.spec ?? (o as any).spec?.jobTemplate?.spec?.template?.spec;
            for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
                c.env = [
                    ...(c.env ?? []),
                    { name: "AWS_ENDPOINT_URL", value: s3.endpoint },
                    { name: "MLFLOW_S3_ENDPOINT_URL", value: s3.endpoint },
                    { name: "AWS_REGION", value: s3.region },
                    { name: "AWS_DEFAULT_REGION", value: s3.region },
                    { name: "AWS_EC2_METADATA_DISABLED", value: "true" },
                    { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "e2e-irsa", key: "access-key-id" } } },
                    { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "e2e-irsa", key: "secret-access-key" } } },
                ];
            }
            return o;
        }
        const awsUsers = new Set(["Deployment/mlflow/mlflow", "CronJob/mlflow/mlflow-gc"]);
        function forNode(objects: KubeObject[]): KubeObject[] {
            return objects.map((o) => {
                const local = withLocalImages(o, imageMap);
                const ref = refOf(local);
                return awsUsers.has(ref) || (local.metadata.namespace === teamNs && ["Deployment", "CronJob"].includes(local.kind)) ? withAws(local) : local;
            });
        }
        function report(title: string, results: ApplyResult[]): void {
            console.log(
                [
                    `=== ${title}: ${results.length} objects`,
                    ...results.filter((r) => r.error || r.warnings.length).map((r) => `  ${r.ref}: ${r.error ?? ""} ${r.warnings.join("; ")}`),
                ].join("\n"),
            );
        }
        /** A Python script as an MLflow client (the mlflow venv on this machine) of the server behind its Service. */
        function mlflowClient(script: string, input: string): string {
            const r = spawnSync(venvBin("mlflow", "python"), ["-c", script], {
                input,
                encoding: "utf8",
                cwd: tmp,
                timeout: 300_000,
                env: venvEnv("mlflow", { MLFLOW_TRACKING_URI: `http://${clusterIP(outputs.mlflowNamespace, "mlflow")}`, HOME: tmp, ...s3.clientEnv() }),
            });
            if (r.status !== 0) {
                let server: string;
                try {
                    server = node.kubectl(["logs", "-n", outputs.mlflowNamespace, "deployment/mlflow", "--tail=120"]);
                } catch (e) {
                    server = String(e);
                }
                throw new Error(`MLflow client failed (${r.status}):\n${r.stderr.slice(-3000)}\n--- MLflow server log:\n${server.slice(-12000)}`);
            }
            return r.stdout;
        }

        beforeAll(async () => {
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-platform-node-"));
            images = {
                mlflow: mlflowImage(),
                modelServer: modelServerImage(),
                driftCheck: driftCheckImage(),
                postgres: postgresImage(),
                pushgateway: pushgatewayImage(),
            };
            imageMap = [
                { match: /\/acme\/mlops\/mlflow@/, image: images.mlflow },
                { match: /\/acme\/mlops\/drift-check@/, image: images.driftCheck },
                { match: /\/ml-fraud\/fraud-scorer@/, image: images.modelServer },
                { match: /^docker\.io\/library\/postgres:/, image: images.postgres },
            ];
            platform = await planPlatform("dev");
            outputs = planOutputs(platform);
            team = await planExampleTeam("dev", platform);
            teamNs = String(plain(team).find((o) => o.kind === "Deployment")!.metadata.namespace);
            modelVersion = Number(/models:\/fraud-scorer\/(\d+)/.exec(JSON.stringify(plain(team)))![1]);

            node = await LocalNode.start({ clusterDns: true });
            before = node.machineBefore;
            for (const i of Object.values(images)) node.importImage(i.archive);
            await installPrometheusOperatorCrds(node.api!, ["servicemonitors", "prometheusrules"]);
            // The team's HTTPRoute (its model's route through the platform's gateway): stored, not programmed (no gateway controller here).
            await installGatewayApiCrds(node.api!);
            s3 = await S3Emulator.start("eu-west-1", node.nodeIP);
        }, NODE_SETUP_TIMEOUT_MS);

        afterAll(async () => {
            if (node && stopped === undefined) {
                const left = await node.stop();
                if (left.length > 0) console.error(`[platformNode.e2e] teardown left: ${left.join("; ")}`);
            }
            await s3?.proc.stop(5000);
            if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        });

        it(
            "applies the dev platform's objects (images rewritten), and MLflow's PostgreSQL and server become Ready on a fresh volume",
            async () => {
                const objects = forNode(plain(platform));
                // A local PersistentVolume for the StatefulSet's claim (a cloud cluster's default class provisions one).
                const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === "mlflow-postgres") as any;
                const claim = sts.spec.volumeClaimTemplates[0];
                // The StatefulSet controller names pod 0's claim <template>-<statefulset>-0.
                const claimName = `${claim.metadata.name}-${sts.metadata.name}-0`;
                const volumeDir = node.localVolume("e2e-mlflow-postgres-data", claim.spec.resources.requests.storage, {
                    namespace: sts.metadata.namespace,
                    name: claimName,
                });
                expect(fs.readdirSync(volumeDir)).toEqual([]);
                // The artifact bucket the platform's S3 resources make in AWS, made in moto.
                const dest = /--artifacts-destination\s+s3:\/\/([^/]+)\//.exec(
                    JSON.stringify(objects.find((o) => refOf(o) === "Deployment/mlflow/mlflow")).replace(/","/g, " "),
                );
                const bucket = dest![1];
                const py = spawnSync(
                    venvBin("s3-emulator", "python"),
                    ["-c", `import boto3; boto3.client("s3").create_bucket(Bucket="${bucket}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})`],
                    { env: venvEnv("s3-emulator", s3.clientEnv()), encoding: "utf8" },
                );
                expect(py.status, py.stderr).toBe(0);
                const namespaces = objects.filter((o) => o.kind === "Namespace");
                report("namespaces", await applyAll(node.api!, namespaces));
                for (const ns of ["mlflow", teamNs]) {
                    await waitFor(
                        `the default service account of ${ns}`,
                        60_000,
                        () => kubectlJson(["get", "serviceaccount", "default", "-n", ns]).metadata?.name === "default",
                    );
                    node.kubectl([
                        "create",
                        "secret",
                        "generic",
                        "e2e-irsa",
                        "-n",
                        ns,
                        "--from-literal=access-key-id=AKIATESTTESTTESTTEST",
                        "--from-literal=secret-access-key=test-secret-key",
                    ]);
                }
                const results = await applyAll(
                    node.api!,
                    objects.filter((o) => o.kind !== "Namespace"),
                );
                report("platform/dev on the node", results);
                expect(results.filter((r) => r.error).map((r) => `${r.ref}: ${r.error}`)).toEqual([]);

                const [pg] = await waitReady("mlflow", "app.kubernetes.io/name=postgres", 1);
                const pvc = kubectlJson(["get", "pvc", claimName, "-n", "mlflow"]);
                expect([pvc.status.phase, pvc.spec.volumeName]).toEqual(["Bound", "e2e-mlflow-postgres-data"]);
                // The database files on the volume belong to the pod's user; the group is the pod's fsGroup.
                const st = fs.statSync(path.join(volumeDir, "pgdata"));
                expect([st.uid, st.gid & 0xffff]).toEqual([999, 999]);
                expect(fs.existsSync(path.join(volumeDir, "pgdata", "PG_VERSION"))).toBe(true);
                const exec = (ns: string, pod: string, container: string, script: string) =>
                    node.kubectl(["exec", "-n", ns, pod.valueOf(), "-c", container, "--", "/bin/sh", "-c", script]).trim();
                expect(exec("mlflow", pg.metadata.name, "postgres", "id -u; touch /etc/x 2>&1 || true")).toMatch(/^999\n.*Read-only file system/s);

                const [server] = await waitReady("mlflow", "app.kubernetes.io/name=mlflow", 1, 420_000);
                const init = server.status.initContainerStatuses;
                expect(init.map((c: any) => [c.name, c.state.terminated?.exitCode])).toEqual([["db-upgrade", 0]]);
                const initLog = node.kubectl(["logs", "-n", "mlflow", server.metadata.name, "-c", "db-upgrade"]);
                expect(initLog).toContain("empty database: creating the base tables");
                expect(exec("mlflow", server.metadata.name, "mlflow", "id -u; id -g; grep '^CapEff:' /proc/self/status; touch /etc/x 2>&1 || true")).toMatch(
                    /^10001\n10001\nCapEff:\s+0000000000000000\n.*Read-only file system/s,
                );
                // Through the Service: kube-proxy's ClusterIP from this machine, and the cluster DNS name from a pod.
                const ip = clusterIP("mlflow", "mlflow");
                const health = await waitFor(
                    "MLflow's /health on its ClusterIP",
                    60_000,
                    async () => (await fetch(`http://${ip}/health`, { signal: AbortSignal.timeout(3000) })).ok,
                );
                expect(health).toBe(true);
                expect(await node.dns!.lookup("mlflow.mlflow.svc.cluster.local")).toEqual([ip]);
                expect(await node.dns!.lookup("mlflow-postgres.mlflow.svc.cluster.local")).toEqual([pg.status.podIP]);
            },
            STEP_TIMEOUT,
        );

        it(
            "registers the team's model in that MLflow (artifacts through the server into S3), and the ModelService serves it through its Service",
            async () => {
                const out = mlflowClient(TRAIN, JSON.stringify({ experiment: "fraud-fraud-scorer", model: MODEL, versions: modelVersion, alias: "champion" }));
                expect(JSON.parse(out.trim().split("\n").pop()!).version).toBe(String(modelVersion));
                const objects = forNode(plain(team));
                const results = await applyAll(node.api!, objects);
                report(`team-fraud/dev on the node`, results);
                expect(results.filter((r) => r.error).map((r) => `${r.ref}: ${r.error}`)).toEqual([]);
                const [pod] = await waitReady(teamNs, `app.kubernetes.io/instance=${MODEL}`, 1, 420_000);
                expect(pod.metadata.labels["mlops.acme.io/model-version"]).toBe(String(modelVersion));
                const ip = clusterIP(teamNs, MODEL);
                const instances = [
                    { amount: 2500, currency: "EUR", merchant_category: "7995", country: "US", card_present: false, hour_of_day: 3 },
                    { amount: 12.5, currency: "EUR", merchant_category: "5411", country: "DE", card_present: true, hour_of_day: 14 },
                ];
                const r = await fetch(`http://${ip}/invocations`, {
                    method: "POST",
                    headers: { "Content-Type": "application/json" },
                    body: JSON.stringify({ instances }),
                });
                const body = (await r.json()) as any;
                expect(r.status, JSON.stringify(body)).toBe(200);
                const predictions = body.predictions as number[];
                expect(predictions).toHaveLength(2);
                expect(predictions[0]).toBeGreaterThan(predictions[1]);
            },
            STEP_TIMEOUT,
        );

        /** Transactions like the training data's (examples/team-fraud/schemas), a fifth of them fraud-like. */
        function transactions(n: number, seed: number): unknown[] {
            let x = seed;
            const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
            const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
            return Array.from({ length: n }, () => {
                const fraud = rnd() < 0.2;
                return {
                    amount: Math.round((fraud ? 400 + rnd() * 2600 : 1 + rnd() * 299) * 100) / 100,
                    currency: pick(["EUR", "GBP", "USD", "CHF", "SEK"]),
                    merchant_category: pick(["5411", "5812", "5999", "7995"]),
                    country: pick(["DE", "FR", "GB", "US"]),
                    card_present: fraud ? rnd() < 0.2 : rnd() < 0.9,
                    hour_of_day: fraud ? Math.floor(rnd() * 6) : 8 + Math.floor(rnd() * 14),
                };
            });
        }

        it(
            "runs the drift check's CronJob as a Job: it reads the served version's prediction log and pushes its signals to the Pushgateway",
            async () => {
                // Enough requests through the Service for the server's prediction log to flush (500 records) to S3.
                const ip = clusterIP(teamNs, MODEL);
                for (let i = 0; i < 3; i++) {
                    const r = await fetch(`http://${ip}/invocations`, {
                        method: "POST",
                        headers: { "Content-Type": "application/json" },
                        body: JSON.stringify({ instances: transactions(200, 11 + i) }),
                    });
                    expect(r.status).toBe(200);
                }
                const cronJob = plain(platform).find(
                    (o) => o.kind === "CronJob" && o.metadata.namespace === teamNs && /^drift-check-/.test(String(o.metadata.name)),
                ) as any;
                const env = Object.fromEntries(
                    cronJob.spec.jobTemplate.spec.template.spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]),
                );
                const s3py = (script: string, ...args: string[]) => {
                    const r = spawnSync(venvBin("s3-emulator", "python"), ["-c", script, ...args], {
                        env: venvEnv("s3-emulator", s3.clientEnv()),
                        encoding: "utf8",
                    });
                    if (r.status !== 0) throw new Error(r.stderr);
                    return r.stdout.trim();
                };
                const [, bucket, logPrefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(env.MLOPS_PREDICTION_LOG_URI)!;
                const listLogs = `import boto3, sys; print(sum(1 for o in boto3.client("s3").list_objects_v2(Bucket=sys.argv[1], Prefix=sys.argv[2]).get("Contents", [])))`;
                await waitFor("a prediction log object in S3", 60_000, () => Number(s3py(listLogs, bucket, logPrefix)) > 0);
                // The reference profile of the served version, made by the drift check's own `profile` command.
                const py = path.join(driftVenv(), "bin", "python");
                const driftEnv = { ...process.env, PYTHONPATH: path.join(ROOT, "images", "drift-check") };
                for (const args of [
                    [LOGS_PY, "training", "--count", "2000", "--output", path.join(tmp, "training.jsonl")],
                    ["-m", "drift_check", "profile", "--input", path.join(tmp, "training.jsonl"), "--output", path.join(tmp, "profile.json")],
                ]) {
                    const r = spawnSync(py, args, { env: driftEnv, encoding: "utf8", cwd: tmp });
                    expect(r.status, r.stderr).toBe(0);
                }
                const refKey = `${new URL(env.MLOPS_REFERENCE_URI_PREFIX).pathname.slice(1)}${modelVersion}/reference/profile.json`;
                s3py(
                    `import boto3, sys; boto3.client("s3").upload_file(sys.argv[1], sys.argv[2], sys.argv[3])`,
                    path.join(tmp, "profile.json"),
                    bucket,
                    refKey,
                );

                // The Pushgateway the monitoring stack's chart runs (Service pushgateway:9091), here Debian's binary.
                const pgw = new URL(env.MLOPS_PUSHGATEWAY_URL);
                const [svcName, svcNs] = pgw.hostname.split(".");
                const labels = { "app.kubernetes.io/name": "prometheus-pushgateway", "app.kubernetes.io/instance": svcName };
                const restricted = {
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"] },
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    runAsUser: 65534,
                    runAsGroup: 65534,
                    seccompProfile: { type: "RuntimeDefault" },
                };
                node.kubectl(
                    ["apply", "-f", "-"],
                    JSON.stringify({
                        apiVersion: "v1",
                        kind: "List",
                        items: [
                            {
                                apiVersion: "apps/v1",
                                kind: "Deployment",
                                metadata: { name: svcName, namespace: svcNs, labels },
                                spec: {
                                    selector: { matchLabels: labels },
                                    template: {
                                        metadata: { labels },
                                        spec: {
                                            automountServiceAccountToken: false,
                                            securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
                                            containers: [
                                                {
                                                    name: "pushgateway",
                                                    image: images.pushgateway.ref,
                                                    imagePullPolicy: "Never",
                                                    args: [`--web.listen-address=:${pgw.port}`],
                                                    ports: [{ name: "metrics", containerPort: Number(pgw.port) }],
                                                    securityContext: restricted,
                                                    readinessProbe: { httpGet: { path: "/-/ready", port: "metrics" }, periodSeconds: 2 },
                                                    resources: {
                                                        requests: { cpu: "10m", memory: "32Mi", "ephemeral-storage": "16Mi" },
                                                        limits: { cpu: "200m", memory: "128Mi", "ephemeral-storage": "64Mi" },
                                                    },
                                                },
                                            ],
                                        },
                                    },
                                },
                            },
                            {
                                apiVersion: "v1",
                                kind: "Service",
                                metadata: { name: svcName, namespace: svcNs, labels },
                                spec: { selector: labels, ports: [{ name: "metrics", port: Number(pgw.port), targetPort: "metrics" }] },
                            },
                        ],
                    }),
                );
                await waitReady(svcNs, "app.kubernetes.io/name=prometheus-pushgateway", 1, 120_000);

                node.kubectl(["create", "job", "drift-e2e", "-n", teamNs, `--from=cronjob/${cronJob.metadata.name}`]);
                const job = await waitFor(
                    "the drift-check Job to finish",
                    420_000,
                    () => {
                        const j = kubectlJson(["get", "job", "drift-e2e", "-n", teamNs]);
                        return j.status?.succeeded || j.status?.failed ? j : undefined;
                    },
                    explain(teamNs),
                );
                const jobLog = node.kubectl(["logs", "-n", teamNs, "job/drift-e2e"]);
                console.log(`=== drift-check Job log\n${jobLog}`);
                expect(job.status.succeeded, jobLog).toBe(1);
                const jobPod = kubectlJson(["get", "pods", "-n", teamNs, "-l", "job-name=drift-e2e"]).items[0];
                expect(jobPod.status.containerStatuses[0].state.terminated.exitCode).toBe(0);
                const metrics = await (await fetch(`http://${clusterIP(svcNs, svcName)}:${pgw.port}/metrics`)).text();
                const pushed = metrics.split("\n").filter((l) => l.startsWith(`${env.MLOPS_DRIFT_METRIC}{`) && l.includes(`job="${env.MLOPS_PUSH_JOB}"`));
                console.log(`=== pushed drift scores\n${pushed.join("\n")}`);
                expect(pushed.length).toBeGreaterThan(0);
                expect(pushed.every((l) => l.includes(`version="${modelVersion}"`))).toBe(true);
            },
            STEP_TIMEOUT,
        );

        it(
            "rolls out a new model version (replanned with models:/fraud-scorer/<n+1>) without ever dropping below the PodDisruptionBudget's floor",
            async () => {
                const next = modelVersion + 1;
                mlflowClient(TRAIN, JSON.stringify({ experiment: "fraud-fraud-scorer", model: MODEL, versions: 1, alias: "champion" }));
                // Two replicas (the HPA's maximum), so the budget (maxUnavailable 1) leaves a floor of one.
                node.kubectl(["scale", "deployment", MODEL, "-n", teamNs, "--replicas=2"]);
                await waitReady(teamNs, `app.kubernetes.io/instance=${MODEL}`, 2, 300_000);
                const configFile = parseYaml(fs.readFileSync(path.join(ROOT, "examples/team-fraud/Pulumi.dev.yaml"), "utf8")).config["team-fraud:scorer"];
                const nextTeam = await planExampleTeam("dev", platform, {
                    "team-fraud:scorer": JSON.stringify({ ...configFile, modelUri: `models:/${MODEL}/${next}`, previousVersion: modelVersion }),
                });
                const pdb = plain(nextTeam).find((o) => o.kind === "PodDisruptionBudget") as any;
                const floor = 2 - Number(pdb.spec.maxUnavailable);
                const samples: number[] = [];
                const results = await applyAll(node.api!, forNode(plain(nextTeam)));
                expect(results.filter((r) => r.error).map((r) => `${r.ref}: ${r.error}`)).toEqual([]);
                const done = await waitFor(
                    `the rollout to version ${next}`,
                    600_000,
                    () => {
                        const all = pods(teamNs, `app.kubernetes.io/instance=${MODEL}`);
                        samples.push(all.filter((p) => isReady(p) && !p.metadata.deletionTimestamp).length);
                        const d = kubectlJson(["get", "deployment", MODEL, "-n", teamNs]);
                        const fresh = all.filter((p) => p.metadata.labels["mlops.acme.io/model-version"] === String(next) && isReady(p));
                        return d.status.updatedReplicas === 2 && d.status.availableReplicas === 2 && fresh.length === 2 && all.length === 2 ? fresh : undefined;
                    },
                    explain(teamNs),
                );
                console.log(`=== Ready model-server pods sampled during the rollout: ${samples.join(" ")}`);
                expect(done).toHaveLength(2);
                expect(Math.min(...samples)).toBeGreaterThanOrEqual(floor);
                // The Deployment's own strategy (maxSurge 1, maxUnavailable 0) keeps both replicas Ready throughout.
                expect(Math.min(...samples)).toBeGreaterThanOrEqual(2);
                const r = await fetch(`http://${clusterIP(teamNs, MODEL)}/invocations`, {
                    method: "POST",
                    headers: { "Content-Type": "application/json" },
                    body: JSON.stringify({ instances: transactions(1, 99) }),
                });
                expect(((await r.json()) as any).version).toBe(String(next));
            },
            STEP_TIMEOUT,
        );

        it("refuses pods that break what the namespaces enforce: privileged in the team's (baseline), root in MLflow's (restricted)", () => {
            const pod = (ns: string, sc: Record<string, unknown>) =>
                JSON.stringify({
                    apiVersion: "v1",
                    kind: "Pod",
                    metadata: { name: "intruder", namespace: ns },
                    spec: {
                        automountServiceAccountToken: false,
                        containers: [
                            {
                                name: "c",
                                image: images.modelServer.ref,
                                securityContext: sc,
                                resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "10m", memory: "16Mi" } },
                            },
                        ],
                    },
                });
            expect(() => node.kubectl(["apply", "-f", "-"], pod(teamNs, { privileged: true }))).toThrow(/violates PodSecurity "baseline:latest": privileged/);
            expect(() =>
                node.kubectl(
                    ["apply", "-f", "-"],
                    pod("mlflow", {
                        runAsUser: 0,
                        runAsNonRoot: false,
                        allowPrivilegeEscalation: false,
                        capabilities: { drop: ["ALL"] },
                        seccompProfile: { type: "RuntimeDefault" },
                    }),
                ),
            ).toThrow(/violates PodSecurity "restricted:latest".*runAsNonRoot != true/s);
        });

        it(
            "tears down and leaves the machine as it found it",
            async () => {
                stopped = await node.stop();
                expect(stopped).toEqual([]);
                expect(diff(before)).toEqual([]);
                expect(fs.existsSync(node.root)).toBe(false);
            },
            STEP_TIMEOUT,
        );
    },
);
