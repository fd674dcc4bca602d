/**
 * The Helm charts the platform installs, rendered by the real Helm from the pinned sources (the charts
 * cache, built by scripts/build-charts.sh from the Go module proxy) and checked like the platform's own
 * objects:
 * - the values the platform sets exist in each pinned chart (a renamed value fails);
 * - the plans of dev, test and prod render every release, their objects are valid against the schemas
 *   and pass the policy packs, with exactly the accepted chart exceptions of policy/config (none stale,
 *   none missing);
 * - every rendered object is applied with server-side apply to a real kube-apiserver (CRDs from the
 *   chart itself first), and the pods of every workload are admitted by Pod Security in the namespace
 *   the platform labels (server-side dry run of each pod template).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHARTS } from "../components/monitoringStack";
import { chartDir, chartsReady, HELM_VERSION, helmBinary } from "../engine/charts";
import { checkValues } from "../engine/chartValues";
import { chartOrigin, RELEASE_TYPE } from "../engine/helm";
import { CLUSTER_SCOPED_KINDS, type KubernetesObject, kubernetesObjects } from "../engine/kubernetes";
import { discoverPolicyPacks, type Plan, planStack } from "../engine/plan";
import { findPolicyConfig } from "../engine/policyConfig";
import { recordStack } from "../engine/stack";
import { reveal } from "../engine/values";
import { ROOT, STACKS, vitestLoader } from "../test/harness";
import { kubeBinary } from "./lib/paths";

const PINNED = Object.values(CHARTS);

beforeAll(() => {
    // install.sh built them; a direct run of this file builds them here (cached, locked).
    execFileSync("bash", [path.join(ROOT, "scripts", "build-charts.sh")], { stdio: "inherit" });
    expect(chartsReady(PINNED)).toBe(true);
});

describe("Helm and the charts, from the Go module proxy", () => {
    it("Helm is the pinned release", () => {
        expect(execFileSync(helmBinary(), ["version", "--short"], { encoding: "utf8" })).toMatch(new RegExp(`^${HELM_VERSION.replace(/\./g, "\\.")}\\b`));
    });

    it("kube-prometheus-stack carries its dependencies from the same sources, Grafana at the served version its condition still sees", () => {
        const kps = chartDir(CHARTS.kubePrometheusStack);
        const version = (dir: string) => /^version:\s*(\S+)/m.exec(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8"))![1];
        expect(version(path.join(kps, "charts", "kube-state-metrics"))).toBe("8.4.1");
        expect(version(path.join(kps, "charts", "prometheus-node-exporter"))).toBe("4.56.1");
        expect(version(path.join(kps, "charts", "grafana"))).toBe("13.0.1");
        expect(fs.existsSync(path.join(kps, "charts", "crds", "crds", "crd-prometheuses.yaml"))).toBe(true);
        expect(fs.readFileSync(path.join(kps, "Chart.yaml"), "utf8")).toMatch(/- name: grafana\n\s+version: "?13\.0\.1"?\n/);
    });
});

describe("the values the platform sets exist in the pinned charts", () => {
    it.each(STACKS.map((s) => [s]))("%s: every value of every release", async (stack) => {
        const rec = await recordStack({ root: ROOT, stack, load: vitestLoader });
        const releases = rec.resources.filter((r) => r.type === RELEASE_TYPE);
        expect(releases.length).toBeGreaterThanOrEqual(3);
        for (const r of releases) {
            const inputs = reveal<{ chart: string; version: string; values: unknown; name: string }>(r.inputs);
            expect(checkValues(chartDir(inputs), inputs.values), `${stack} ${inputs.name}`).toEqual([]);
        }
    });

    it("a renamed value fails", () => {
        const kps = chartDir(CHARTS.kubePrometheusStack);
        expect(checkValues(kps, { grafana: { admin: { existingSecret: "grafana-admin" } } })).toEqual([]);
        expect(checkValues(kps, { grafana: { admin: { existingSecretName: "grafana-admin" } } })).toEqual(["grafana.admin.existingSecretName is not a value of the chart"]);
        expect(checkValues(chartDir(CHARTS.pushgateway), { serviceMonitor: { honourLabels: true } })).toEqual(["serviceMonitor.honourLabels is not a value of the chart"]);
    });
});

/** The policy config files of the packs for a stack, with every chart exception taken out (into `dir`). */
function withoutExceptions(stack: string, dir: string): { dir: string; configFile: string }[] {
    return discoverPolicyPacks(ROOT).map((pack) => {
        const file = findPolicyConfig(pack, stack)!;
        const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
        for (const v of Object.values(config)) if (v && typeof v === "object") delete (v as Record<string, unknown>).chartExceptions;
        const out = path.join(dir, `${stack}-${path.basename(pack)}.json`);
        fs.writeFileSync(out, JSON.stringify(config));
        return { dir: pack, configFile: out };
    });
}

/** `(policy, resource)` of every chart exception in a stack's config files. */
function configuredExceptions(stack: string): { policy: string; resource: string }[] {
    return discoverPolicyPacks(ROOT).flatMap((pack) => {
        const config = JSON.parse(fs.readFileSync(findPolicyConfig(pack, stack)!, "utf8")) as Record<string, { chartExceptions?: { resource: string }[] } | string>;
        return Object.entries(config).flatMap(([policy, v]) => (typeof v === "object" ? (v.chartExceptions ?? []).map((e) => ({ policy, resource: e.resource })) : []));
    });
}

const matches = (pattern: string, name: string) => (pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern);

/** Findings on chart objects with the exceptions taken out, by stack (filled by the plans below). */
const chartFindings = new Map<string, { policy: string; resource: string; level: string }[]>();

describe.each(STACKS.map((s) => [s]))("the plan of %s with its charts rendered", (stack) => {
    let plan: Plan;
    let bare: Plan;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "charts-e2e-"));
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
    beforeAll(async () => {
        const packs = discoverPolicyPacks(ROOT).map((dir) => ({ dir, configFile: findPolicyConfig(dir, stack) }));
        plan = await planStack({ root: ROOT, stack, load: vitestLoader, policyPacks: packs, policyTimeoutMs: 120_000, charts: true });
        bare = await planStack({ root: ROOT, stack, load: vitestLoader, policyPacks: withoutExceptions(stack, tmp), policyTimeoutMs: 120_000, charts: true });
    });

    it("renders every release into objects of the plan, children of their Release", () => {
        const releases = plan.resources.filter((r) => r.type === RELEASE_TYPE);
        for (const r of releases) {
            const children = plan.chartResources.filter((c) => c.parent === r.urn);
            expect(children.length, r.name).toBeGreaterThan(0);
            for (const c of children) expect(chartOrigin(c)?.releaseUrn).toBe(r.urn);
        }
        const kinds = new Set(plan.chartResources.map((r) => r.type));
        for (const t of ["kubernetes:monitoring.coreos.com/v1:Prometheus", "kubernetes:monitoring.coreos.com/v1:Alertmanager", "kubernetes:apps/v1:DaemonSet", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"]) {
            expect(kinds, t).toContain(t);
        }
    });

    it("every chart object is valid against the schemas, and the plan passes", () => {
        expect(plan.schemaErrors).toEqual([]);
        expect(plan.policy!.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
        expect(plan.exitCode).toBe(0);
    });

    it("every mandatory chart finding is covered by an exception", () => {
        const chartUrns = new Set(bare.chartResources.map((r) => r.urn));
        const findings = bare.policy!.violations.filter((v) => chartUrns.has(v.urn)).map((v) => ({ policy: v.policyName, resource: v.urn.split("::").slice(3).join("::"), level: v.enforcementLevel }));
        chartFindings.set(stack, findings);
        const exceptions = configuredExceptions(stack);
        const uncovered = findings.filter((f) => f.level === "mandatory" && !exceptions.some((e) => e.policy === f.policy && matches(e.resource, f.resource)));
        expect(uncovered).toEqual([]);
    });
});

describe("the chart exceptions", () => {
    it("each matches a finding in some stack (none is stale)", () => {
        expect([...chartFindings.keys()].sort()).toEqual([...STACKS].sort());
        const all = [...chartFindings.values()].flat();
        const stale = STACKS.flatMap((s) => configuredExceptions(s)).filter((e) => !all.some((f) => f.policy === e.policy && matches(e.resource, f.resource)));
        expect(stale, "exceptions that match no finding: delete them").toEqual([]);
    });
});

// --- The real API server ------------------------------------------------------------------------------

/** What the e2e tier's API server helper (e2e/lib/apiserver.ts) gives: a running server and its admin kubeconfig. */
interface ApiServer {
    readonly kubeconfig: string;
    stop(): Promise<void>;
}

const APISERVER_MODULE = "./lib/apiserver";

describe("the rendered charts on a real kube-apiserver", () => {
    let server: ApiServer | undefined;
    let objects: KubernetesObject[];
    let namespace: KubernetesObject;
    const kubectl = (args: string[], input?: string) => {
        const r = spawnSync(kubeBinary("kubectl"), ["--kubeconfig", server!.kubeconfig, ...args], { input, encoding: "utf8", maxBuffer: 256 << 20 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const apply = (docs: KubernetesObject[]) => kubectl(["apply", "--server-side", "--field-manager=helm", "--force-conflicts", "-f", "-"], docs.map((d) => JSON.stringify(d)).join("\n"));

    beforeAll(async () => {
        const mod = (await import(APISERVER_MODULE).catch((err) => {
            throw new Error(`e2e/lib/apiserver.ts (the tier's API server helper) is needed here: ${err.message}`);
        })) as { startApiServer: () => Promise<ApiServer> };
        server = await mod.startApiServer();
        const plan = await planStack({ root: ROOT, stack: "prod", load: vitestLoader, policyPacks: [], policyTimeoutMs: 60_000, charts: true });
        const chartUrns = new Set(plan.chartResources.map((r) => r.urn));
        objects = kubernetesObjects(plan.resources)
            .filter((o) => chartUrns.has(o.resource.urn))
            .map((o) => o.object);
        namespace = kubernetesObjects(plan.resources).find((o) => o.object.kind === "Namespace" && o.object.metadata.name === "monitoring")!.object;
    });
    afterAll(async () => {
        await server?.stop();
    });

    it("applies every object server-side: the monitoring namespace as the platform labels it, the charts' CRDs, then the rest", () => {
        let r = apply([namespace, ...objects.filter((o) => o.kind === "CustomResourceDefinition")]);
        expect(r.stderr).not.toMatch(/error/i);
        expect(r.status).toBe(0);
        r = kubectl(["wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"]);
        expect(r.status, r.stderr).toBe(0);
        const late = (o: KubernetesObject) => ["APIService", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"].includes(o.kind);
        const rest = objects.filter((o) => o.kind !== "CustomResourceDefinition");
        // Namespaces the charts write into besides monitoring (kube-system exists).
        r = apply(rest.filter((o) => !late(o)));
        expect(r.status, r.stderr).toBe(0);
        r = apply(rest.filter(late));
        expect(r.status, r.stderr).toBe(0);
        // Everything is there.
        for (const o of objects) {
            const ref = CLUSTER_SCOPED_KINDS.has(o.kind) ? [o.kind, o.metadata.name!] : [o.kind, o.metadata.name!, "-n", o.metadata.namespace!];
            const kind = o.apiVersion.includes("/") ? `${o.kind}.${o.apiVersion.split("/")[0]}` : o.kind;
            const got = kubectl(["get", kind, ...ref.slice(1), "-o", "name"]);
            expect(got.status, `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}: ${got.stderr}`).toBe(0);
        }
    });

    it("Pod Security in the monitoring namespace admits the pods of every chart workload, node-exporter's included", () => {
        const workloads = objects.filter((o) => ["Deployment", "DaemonSet", "StatefulSet", "Job"].includes(o.kind));
        expect(workloads.length).toBeGreaterThan(3);
        for (const w of workloads) {
            const template = (w as any).spec.template;
            const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: `pss-${w.metadata.name}`.slice(0, 63), namespace: w.metadata.namespace, labels: template.metadata?.labels }, spec: template.spec };
            const r = kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(pod));
            expect(r.status, `${w.kind} ${w.metadata.namespace}/${w.metadata.name}: ${r.stderr}`).toBe(0);
        }
        // The level matters: node-exporter's pod (host network, PID, paths) is refused where enforce is restricted.
        const nodeExporter = workloads.find((w) => w.kind === "DaemonSet" && /node-exporter/.test(w.metadata.name!))!;
        expect(kubectl(["create", "namespace", "pss-restricted"]).status).toBe(0);
        expect(kubectl(["label", "namespace", "pss-restricted", "pod-security.kubernetes.io/enforce=restricted"]).status).toBe(0);
        const spec = { ...(nodeExporter as any).spec.template.spec, serviceAccountName: "default" };
        const r = kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "node-exporter", namespace: "pss-restricted" }, spec }));
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/violates PodSecurity "restricted:/);
    });
});
