/**
 * The platform's charts on a real node (e2e/lib/node.ts with `addOns`: pods reach the API server, the
 * aggregation layer, kubelet's serving certificate from the cluster CA; the cluster DNS): the dev plan's
 * chart objects, rendered by Helm from the pinned charts (engine/charts.ts), applied to the node's API
 * server with only the image references rewritten to images built on this machine (chartImages.ts:
 * Debian's Alertmanager, node-exporter and Pushgateway; Prometheus, the operator and its config reloader,
 * kube-state-metrics, prometheus-adapter and metrics-server built from their Go modules). The Alertmanager
 * resource names its image's version too (`spec.version`): it is set with the image to the version of
 * Debian's program, so the operator generates a configuration that program reads.
 *
 * Proven: every started workload's pods Ready, their processes running as the chart's security context
 * says; the operator reconciling the Prometheus and Alertmanager resources into StatefulSets that become
 * Ready on their volumes; Prometheus discovering the chart's ServiceMonitors and scraping their targets,
 * a value pushed to the Pushgateway arriving through the Pushgateway's ServiceMonitor, the platform's
 * rules loaded; Alertmanager running the platform's routing; the operator's admission webhook refusing an
 * invalid rule; metrics-server and prometheus-adapter answering through the aggregation layer. Not
 * started, and why: NOT_STARTED. Gated on the machine as e2e/node.e2e.test.ts is; CI runs it (E2E_NODE=1).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHARTS } from "../components/platform/monitoringStack";
import { chartsReady } from "../engine/charts";
import { kubernetesObjects } from "../engine/kubernetes";
import { planStack } from "../engine/plan";
import { reveal } from "../engine/values";
import { ROOT, vitestLoader } from "../test/harness";
import type { KubeObject } from "./lib/apiserver";
import { applyAll, type ApplyResult, refOf } from "./lib/apply";
import {
    chartBinary,
    chartImageMap,
    type ChartImages,
    chartImages,
    debianPrograms,
    imageReferences,
    missingChartBinaries,
    withChartImages,
} from "./lib/chartImages";
import { diff, type HostSnapshot } from "./lib/hostState";
import { issueCertificate, LocalNode, makeCa, nodeSupport, waitFor } from "./lib/node";
import { PUSHGATEWAY_BINARY } from "./lib/platformImages";

/** Rendered image repositories whose workloads are not started here, and why (docs/e2e.md says the same). */
const NOT_STARTED: Record<string, string> = {
    "docker.io/grafana/grafana": "Grafana: no Debian bookworm package, and its Go module is AGPL-licensed, which the project does not build from",
    "quay.io/kiwigrid/k8s-sidecar": "Grafana's dashboard and datasource sidecars: they run only in Grafana's pod",
    "ghcr.io/jkroepke/kube-webhook-certgen": "the certgen Jobs' program: the Go module proxy does not serve its module; the suite does what the two Jobs do",
    "quay.io/thanos/thanos":
        "named only as the operator's default Thanos image (--thanos-default-base-image): no Thanos sidecar is configured, nothing runs it",
};
/** A workload one of whose containers runs an image of NOT_STARTED. */
const isNotStarted = (o: KubeObject) =>
    [...(podSpecOf(o)?.containers ?? []), ...(podSpecOf(o)?.initContainers ?? [])].some((c: any) =>
        Object.keys(NOT_STARTED).some((r) => String(c.image).startsWith(`${r}:`)),
    );

function podSpecOf(o: KubeObject): any {
    const spec = (o as any).spec;
    return ["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind) ? spec?.template?.spec : undefined;
}

function gate(): string | undefined {
    if (process.env.E2E_NODE !== "1") return "E2E_NODE is not 1 (the real-node suites are opt-in: E2E_NODE=1 npm run test:e2e)";
    const support = nodeSupport();
    if (!support.ok) return `this machine cannot run a node: ${support.reasons.join("; ")}`;
    if (!chartsReady(Object.values(CHARTS))) return "the charts are not in the charts cache (bash scripts/build-charts.sh)";
    const missing = missingChartBinaries();
    if (missing.length > 0) return `not built: ${missing.join(", ")} (bash e2e/setup/chart-binaries.sh)`;
    // Prometheus, Alertmanager and node-exporter come from the installed packages or from apt (chartImages.ts).
    if (!fs.existsSync(PUSHGATEWAY_BINARY)) return "Debian's prometheus-pushgateway is not installed (e2e/setup/install.sh installs it)";
    return undefined;
}

const skipReason = gate();
if (skipReason) console.warn(`[chartsNode.e2e] SKIPPED: ${skipReason}`);

const NS = "monitoring";
const STEP_TIMEOUT = 900_000;
const isReady = (p: any) => p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") === true;

describe.skipIf(skipReason !== undefined)(skipReason ? `the charts on a real node (SKIPPED: ${skipReason})` : "the charts on a real node", () => {
    let node: LocalNode;
    let before: HostSnapshot;
    let images: ChartImages;
    let rendered: KubeObject[];
    let platformMonitoring: KubeObject[];
    let applied: KubeObject[];
    let tmp: string;
    let stopped: string[] | undefined;

    const kubectlJson = (args: string[]) => node.kubectlJson(args);
    const rendered1 = (kind: string, name: string) => {
        const o = rendered.find((x) => x.kind === kind && x.metadata.name === name);
        if (!o) throw new Error(`the charts render no ${kind} ${name}`);
        return o as any;
    };
    const explain = (ns: string) => () => {
        const lines = kubectlJson(["get", "pods", "-n", ns]).items.map(
            (p: any) =>
                `${p.metadata.name}: ${p.status.phase} ${JSON.stringify(p.status.containerStatuses?.map((c: any) => [c.name, c.ready, c.state, c.lastState]))}`,
        );
        const events = node.kubectl(["get", "events", "-n", ns, "--sort-by=.lastTimestamp"]).split("\n").slice(-25);
        return [...lines, ...events, node.log("kubelet")].join("\n");
    };
    async function readyPods(ns: string, selector: string, timeoutMs = 300_000): Promise<any[]> {
        return waitFor(
            `Ready pods ${selector} in ${ns}`,
            timeoutMs,
            () => {
                const pods = kubectlJson(["get", "pods", "-n", ns, "-l", selector]).items.filter((p: any) => !p.metadata.deletionTimestamp);
                return pods.length > 0 && pods.every(isReady) ? pods : undefined;
            },
            explain(ns),
        );
    }
    const clusterIP = (ns: string, name: string): string => kubectlJson(["get", "service", name, "-n", ns]).spec.clusterIP;

    /** uid, gid and name of each process of a pod's containers (not its sandbox), read from /proc by the pod's cgroup. */
    function podProcesses(pod: any): { comm: string; uid: number; gid: number }[] {
        const tag = `pod${pod.metadata.uid}`;
        const out: { comm: string; uid: number; gid: number }[] = [];
        for (const e of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(e)) continue;
            try {
                if (!fs.readFileSync(`/proc/${e}/cgroup`, "utf8").includes(tag)) continue;
                const status = fs.readFileSync(`/proc/${e}/status`, "utf8");
                const comm = /^Name:\s+(\S+)/m.exec(status)![1];
                if (comm === "pause") continue;
                out.push({ comm, uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) });
            } catch {
                /* gone */
            }
        }
        return out;
    }
    /** The rendered workload's pods run as its pod security context says (every process), on the images built here. */
    function expectChartSecurityContext(pod: any, workload: any): void {
        const sc = workload.spec.template?.spec?.securityContext ?? workload.spec.securityContext;
        const procs = podProcesses(pod);
        expect(procs.length, `${pod.metadata.name}: processes`).toBeGreaterThan(0);
        for (const p of procs) expect([p.comm, p.uid, p.gid]).toEqual([p.comm, sc.runAsUser, sc.runAsGroup]);
        expect(pod.spec.securityContext).toMatchObject(sc);
    }
    async function promQuery(q: string): Promise<any[]> {
        const r = await fetch(`http://${clusterIP(NS, "kube-prometheus-stack-prometheus")}:9090/api/v1/query?query=${encodeURIComponent(q)}`);
        const body = (await r.json()) as any;
        if (body.status !== "success") throw new Error(`query ${q}: ${JSON.stringify(body)}`);
        return body.data.result;
    }
    function report(title: string, results: ApplyResult[]): void {
        console.log(
            [
                `=== ${title}: ${results.length} objects`,
                ...results.filter((r) => r.error || r.warnings.length).map((r) => `  ${r.ref}: ${r.error ?? ""} ${r.warnings.join("; ")}`),
            ].join("\n"),
        );
    }

    beforeAll(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-charts-node-"));
        images = chartImages();
        const plan = await planStack({ root: ROOT, stack: "dev", load: vitestLoader, policyPacks: [], policyTimeoutMs: 60_000, charts: true });
        const chartUrns = new Set(plan.chartResources.map((r) => r.urn));
        const all = kubernetesObjects(plan.resources).map((o) => ({ chart: chartUrns.has(o.resource.urn), object: reveal(o.object) as KubeObject }));
        rendered = all.filter((o) => o.chart).map((o) => o.object);
        // The platform's own objects the charts' pods read (the namespace as it labels it, the receivers' Secret,
        // Grafana's, the dashboards) and the rules it renders for Prometheus.
        platformMonitoring = all
            .filter((o) => !o.chart && ((o.object.kind === "Namespace" && o.object.metadata.name === NS) || o.object.metadata.namespace === NS))
            .map((o) => o.object);
        node = await LocalNode.start({ clusterDns: true, addOns: true });
        before = node.machineBefore;
        for (const i of Object.values(images)) node.importImage(i.archive);
        // The node lock waits up to 45 minutes for another real node on the machine (a developer's run beside CI's).
    }, 50 * 60_000);

    afterAll(async () => {
        if (node && stopped === undefined) {
            const left = await node.stop();
            if (left.length > 0) console.error(`[chartsNode.e2e] teardown left: ${left.join("; ")}`);
        }
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("runs the programs of the versions docs/e2e.md states", () => {
        // What each program says of itself (some print it on stderr).
        const version = (file: string, arg = "--version") => {
            const r = spawnSync(file, [arg], { encoding: "utf8" });
            return `${r.stdout}${r.stderr}`;
        };
        expect(version(chartBinary("prometheus-operator", "operator"))).toContain("prometheus-operator, version 0.93.1");
        expect(version(chartBinary("prometheus-operator", "prometheus-config-reloader"))).toContain("prometheus-config-reloader, version 0.93.1");
        expect(version(chartBinary("kube-state-metrics", "kube-state-metrics"), "version")).toContain("kube-state-metrics, version v2.20.0");
        expect(version(chartBinary("metrics-server", "metrics-server"))).toContain("v0.8.0");
        expect(version(chartBinary("prometheus", "prometheus"))).toContain("prometheus, version 3.14.0");
        const deb = debianPrograms();
        expect([deb.alertmanager.debianVersion, deb.nodeExporter.debianVersion, deb.pushgateway.debianVersion]).toEqual([
            "0.25.0-1+b4",
            "1.5.0-1+b6",
            "1.5.1-2+b5",
        ]);
        expect(version(deb.alertmanager.file)).toContain("alertmanager, version 0.25.0");
        expect(version(deb.nodeExporter.file)).toContain("node_exporter, version 1.5.0");
    });

    it(
        "applies the dev plan's chart objects with only image references rewritten; every rendered image is built here or named as not started",
        async () => {
            const map = chartImageMap(images);
            const refs = [...new Set(rendered.flatMap((o) => imageReferences(o)))].sort();
            const unknown = refs.filter(
                (ref) => !map.some((m) => ref.startsWith(`${m.repository}:`)) && !Object.keys(NOT_STARTED).some((r) => ref.startsWith(`${r}:`)),
            );
            expect(unknown).toEqual([]);
            const skipped = rendered.filter(isNotStarted).map(refOf).sort();
            expect(skipped).toEqual([
                "Deployment/monitoring/kube-prometheus-stack-grafana",
                "Job/monitoring/kube-prometheus-stack-admission-create",
                "Job/monitoring/kube-prometheus-stack-admission-patch",
            ]);
            // The image (and, for the two custom resources, the version the image runs) is all that changes.
            const versions: Record<string, string> = { Alertmanager: debianPrograms().alertmanager.upstream };
            applied = rendered
                .filter((o) => !isNotStarted(o))
                .map((o) => {
                    const local = withChartImages(o, map);
                    if (versions[o.kind]) (local as any).spec.version = versions[o.kind];
                    return local;
                });

            // What the certgen Jobs do: a CA and a serving certificate for the hosts the create Job names, in the
            // Secret it names (keys ca, cert, key), and the CA as caBundle of the webhooks the patch Job names.
            const create = rendered1("Job", "kube-prometheus-stack-admission-create").spec.template.spec.containers[0].args as string[];
            const patch = rendered1("Job", "kube-prometheus-stack-admission-patch").spec.template.spec.containers[0].args as string[];
            const arg = (args: string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))!.split("=")[1];
            const hosts = arg(create, "host").split(",");
            makeCa(tmp, "ca", "/CN=e2e-admission-ca");
            issueCertificate(
                tmp,
                "tls",
                `/CN=${hosts[0]}`,
                path.join(tmp, "ca"),
                `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}\nextendedKeyUsage=serverAuth`,
            );
            const b64 = (f: string) => fs.readFileSync(path.join(tmp, f)).toString("base64");
            const admissionSecret = {
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: arg(create, "secret-name"), namespace: arg(create, "namespace") },
                data: { ca: b64("ca.crt"), cert: b64("tls.crt"), key: b64("tls.key") },
            };
            const webhookName = arg(patch, "webhook-name");
            for (const o of applied) {
                if (["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"].includes(o.kind) && o.metadata.name === webhookName) {
                    for (const w of (o as any).webhooks) w.clientConfig.caBundle = b64("ca.crt");
                }
            }

            // Local volumes for the two StatefulSets' claims (a cloud cluster's default class provisions them).
            for (const kind of ["Prometheus", "Alertmanager"]) {
                const cr = applied.find((o) => o.kind === kind) as any;
                node.localVolume(`e2e-${kind.toLowerCase()}-data`, cr.spec.storage.volumeClaimTemplate.spec.resources.requests.storage);
            }

            const crds = applied.filter((o) => o.kind === "CustomResourceDefinition");
            const ns = platformMonitoring.filter((o) => o.kind === "Namespace");
            report("namespace and CRDs", await applyAll(node.api!, [...ns, ...crds]));
            node.kubectl(["wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"]);
            await waitFor(
                "the monitoring namespace's default service account",
                60_000,
                () => kubectlJson(["get", "serviceaccount", "default", "-n", NS]).metadata?.name === "default",
            );
            const late = (o: KubeObject) => ["APIService", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"].includes(o.kind);
            const rest = [
                ...applied.filter((o) => o.kind !== "CustomResourceDefinition"),
                ...platformMonitoring.filter((o) => o.kind !== "Namespace"),
                admissionSecret as KubeObject,
            ];
            const results = [
                ...(await applyAll(
                    node.api!,
                    rest.filter((o) => !late(o)),
                )),
                ...(await applyAll(node.api!, rest.filter(late))),
            ];
            report("the charts on the node", results);
            expect(results.filter((r) => r.error).map((r) => `${r.ref}: ${r.error}`)).toEqual([]);
        },
        STEP_TIMEOUT,
    );

    it(
        "the operator becomes Ready as the chart runs it and reconciles the Prometheus and Alertmanager resources into StatefulSets that become Ready on their volumes",
        async () => {
            const operator = rendered1("Deployment", "kube-prometheus-stack-operator");
            const [pod] = await readyPods(NS, "app=kube-prometheus-stack-operator", 300_000);
            expectChartSecurityContext(pod, operator);
            for (const [kind, sts] of [
                ["Prometheus", "prometheus-kube-prometheus-stack-prometheus"],
                ["Alertmanager", "alertmanager-kube-prometheus-stack-alertmanager"],
            ]) {
                const cr = applied.find((o) => o.kind === kind) as any;
                const set = await waitFor(
                    `the operator's StatefulSet ${sts} Ready`,
                    600_000,
                    () => {
                        const s = kubectlJson(["get", "statefulset", sts, "-n", NS]);
                        return s.status?.readyReplicas === cr.spec.replicas ? s : undefined;
                    },
                    explain(NS),
                );
                // The operator's controller owns it, and it runs the image the resource names, with the reloader beside it.
                expect(set.metadata.ownerReferences.map((r: any) => [r.kind, r.name])).toEqual([[kind, cr.metadata.name]]);
                const containers = set.spec.template.spec.containers.map((c: any) => c.image);
                expect(containers).toContain(cr.spec.image);
                expect(containers).toContain(images.configReloader.ref);
                const [p] = await readyPods(NS, `app.kubernetes.io/name=${kind.toLowerCase()}`, 60_000);
                const claim = p.spec.volumes.find((v: any) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
                expect(kubectlJson(["get", "pvc", claim, "-n", NS]).spec.volumeName).toBe(`e2e-${kind.toLowerCase()}-data`);
                const procs = podProcesses(p);
                expect(procs.length).toBeGreaterThan(1);
                for (const pr of procs)
                    expect([pr.comm, pr.uid, pr.gid]).toEqual([pr.comm, cr.spec.securityContext.runAsUser, cr.spec.securityContext.runAsGroup]);
            }
        },
        STEP_TIMEOUT,
    );

    it(
        "kube-state-metrics, node-exporter, the Pushgateway, metrics-server and prometheus-adapter become Ready as their charts run them",
        async () => {
            for (const [kind, name, ns, selector] of [
                ["Deployment", "kube-prometheus-stack-kube-state-metrics", NS, "app.kubernetes.io/name=kube-state-metrics"],
                ["DaemonSet", "kube-prometheus-stack-prometheus-node-exporter", NS, "app.kubernetes.io/name=prometheus-node-exporter"],
                ["Deployment", "pushgateway", NS, "app.kubernetes.io/name=prometheus-pushgateway"],
                ["Deployment", "metrics-server", "kube-system", "app.kubernetes.io/name=metrics-server"],
                ["Deployment", "prometheus-adapter", NS, "app.kubernetes.io/name=prometheus-adapter"],
            ]) {
                const [pod] = await readyPods(ns, selector, 300_000);
                expectChartSecurityContext(pod, rendered1(kind, name));
            }
        },
        STEP_TIMEOUT,
    );

    it(
        "Prometheus scrapes the chart's ServiceMonitor targets, and a value pushed to the Pushgateway arrives through its ServiceMonitor",
        async () => {
            const pgw = clusterIP(NS, "pushgateway");
            const push = await fetch(`http://${pgw}:9091/metrics/job/e2e-charts`, {
                method: "PUT",
                body: '# TYPE mlops_model_requests_total counter\nmlops_model_requests_total{namespace="ml-fraud",pod="fraud-scorer-e2e"} 42\n',
            });
            expect(push.status).toBe(200);
            const expected = [
                "serviceMonitor/monitoring/pushgateway/0",
                "serviceMonitor/monitoring/kube-prometheus-stack-kube-state-metrics/0",
                "serviceMonitor/monitoring/kube-prometheus-stack-prometheus-node-exporter/0",
                "serviceMonitor/monitoring/kube-prometheus-stack-operator/0",
                "serviceMonitor/monitoring/kube-prometheus-stack-prometheus/0",
                "serviceMonitor/monitoring/kube-prometheus-stack-alertmanager/0",
                "serviceMonitor/monitoring/kube-prometheus-stack-apiserver/0",
            ];
            const targets = await waitFor(
                "every expected scrape pool up",
                420_000,
                async () => {
                    const body = (await (await fetch(`http://${clusterIP(NS, "kube-prometheus-stack-prometheus")}:9090/api/v1/targets`)).json()) as any;
                    const active = body.data.activeTargets as any[];
                    return expected.every((pool) => active.some((t) => t.scrapePool === pool && t.health === "up")) ? active : undefined;
                },
                () => node.kubectl(["logs", "-n", NS, "prometheus-kube-prometheus-stack-prometheus-0", "-c", "prometheus", "--tail=40"]),
            );
            console.log(`=== scrape targets\n${targets.map((t) => `${t.scrapePool} ${t.health} ${t.lastError ?? ""}`).join("\n")}`);
            const pushed = await waitFor("the pushed value in Prometheus", 120_000, async () => {
                const r = await promQuery('mlops_model_requests_total{job="e2e-charts"}');
                return r.length > 0 ? r : undefined;
            });
            expect(pushed.map((s) => [s.metric.namespace, s.metric.pod, s.value[1]])).toEqual([["ml-fraud", "fraud-scorer-e2e", "42"]]);
            // What kube-state-metrics reports of the cluster: the operator's Deployment available.
            const ksm = await promQuery('kube_deployment_status_replicas_available{deployment="kube-prometheus-stack-operator"}');
            expect(ksm.map((s) => s.value[1])).toEqual(["1"]);
        },
        STEP_TIMEOUT,
    );

    it(
        "Prometheus loads the platform's rules, and Alertmanager runs the platform's routing",
        async () => {
            const groups = await waitFor("the platform's rule groups loaded", 300_000, async () => {
                const body = (await (await fetch(`http://${clusterIP(NS, "kube-prometheus-stack-prometheus")}:9090/api/v1/rules`)).json()) as any;
                const files = new Set<string>(body.data.groups.map((g: any) => String(g.file)));
                const want = platformMonitoring.filter((o) => o.kind === "PrometheusRule").map((o) => o.metadata.name!);
                return want.every((n) => [...files].some((f) => f.includes(`${NS}-${n}-`))) ? body.data.groups : undefined;
            });
            expect(groups.length).toBeGreaterThan(3);
            expect((await promQuery("prometheus_config_last_reload_successful")).map((s) => s.value[1])).toEqual(["1"]);
            const am = await (await fetch(`http://${clusterIP(NS, "kube-prometheus-stack-alertmanager")}:9093/api/v2/status`)).json();
            const config = String((am as any).config.original);
            for (const receiver of ["ml-platform", "fraud", "fraud-critical", "recsys"]) expect(config).toContain(`name: ${receiver}`);
            const ams = await waitFor("Prometheus's Alertmanager discovered", 120_000, async () => {
                const body = (await (await fetch(`http://${clusterIP(NS, "kube-prometheus-stack-prometheus")}:9090/api/v1/alertmanagers`)).json()) as any;
                return body.data.activeAlertmanagers.length > 0 ? body.data.activeAlertmanagers : undefined;
            });
            expect(ams[0].url).toMatch(/:9093\/api\/v2\/alerts$/);
        },
        STEP_TIMEOUT,
    );

    it("the operator's admission webhooks (the chart's configurations, the suite's certificate) mark a valid rule and refuse one that does not parse", async () => {
        const rule = (name: string, expr: string): KubeObject => ({
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name, namespace: NS },
            spec: { groups: [{ name: "e2e", rules: [{ alert: "E2e", expr }] }] },
        });
        expect((await node.api!.apply(rule("e2e-valid", "up == 0"))).status).toBe(201);
        // The mutating webhook's mark.
        expect(kubectlJson(["get", "prometheusrule", "e2e-valid", "-n", NS]).metadata.annotations?.["prometheus-operator-validated"]).toBe("true");
        const refused = await node.api!.apply(rule("e2e-invalid", "sum(rate("));
        console.log(`=== the validating webhook's answer: ${refused.status} ${JSON.stringify(refused.body)}`);
        expect([refused.status, refused.body.message]).toEqual([
            422,
            'admission webhook "prometheusrulevalidate.monitoring.coreos.com" denied the request: Rules are not valid',
        ]);
        expect(JSON.stringify(refused.body.details.causes)).toMatch(/could not parse expression.*unclosed left parenthesis/);
        expect(() => kubectlJson(["get", "prometheusrule", "e2e-invalid", "-n", NS])).toThrow(/NotFound|not found/);
    });

    it(
        "metrics-server serves the node's and pods' usage, and prometheus-adapter the platform's custom metric, through the aggregation layer",
        async () => {
            // Through the API server (the aggregation layer), as kubectl top and the HPA controller read them.
            const raw = async (p: string) => {
                const r = await node.api!.request("GET", p);
                return r.status === 200 ? r.body : undefined;
            };
            const nodeMetrics = await waitFor("metrics.k8s.io node metrics", 300_000, async () => {
                const m = await raw(`/apis/metrics.k8s.io/v1beta1/nodes/${node.nodeName}`);
                return m?.usage?.cpu ? m : undefined;
            });
            expect(nodeMetrics.usage.memory).toMatch(/\d+Ki$/);
            const podMetrics = await waitFor("metrics.k8s.io pod metrics", 180_000, async () => {
                const m = await raw(`/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods`);
                return m?.items?.length > 0 ? m.items : undefined;
            });
            expect(podMetrics.map((p: any) => p.metadata.name)).toContainEqual(expect.stringMatching(/^prometheus-kube-prometheus-stack-prometheus-0$/));
            const custom = await waitFor("custom.metrics.k8s.io lists the adapter's metric", 300_000, async () => {
                const m = await raw("/apis/custom.metrics.k8s.io/v1beta1");
                return m?.resources?.some((r: any) => r.name === "pods/mlops_model_requests_per_second") ? m.resources : undefined;
            });
            expect(custom.map((r: any) => r.name)).toContain("namespaces/mlops_model_requests_per_second");
        },
        STEP_TIMEOUT,
    );

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
});
