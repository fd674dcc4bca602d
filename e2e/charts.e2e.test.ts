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
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHARTS } from "../components/platform/monitoringStack";
import { chartDir, chartsReady, HELM_VERSION, helmBinary } from "../engine/charts";
import { checkValues } from "../engine/chartValues";
import { chartOrigin, RELEASE_TYPE } from "../engine/helm";
import { kubernetesObjects } from "../engine/kubernetes";
import { discoverPolicyPacks, type Plan, planStack } from "../engine/plan";
import { findPolicyConfig } from "../engine/policyConfig";
import { recordStack } from "../engine/stack";
import { reveal } from "../engine/values";
import { ROOT, STACKS, vitestLoader } from "../test/harness";
import { type ApiServer, type KubeObject, startApiServer } from "./lib/apiserver";
import { type ApplyResult, applyAll, dryRunTemplatePods, emulateControllers, refOf } from "./lib/apply";

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
        expect(checkValues(kps, { grafana: { admin: { existingSecretName: "grafana-admin" } } })).toEqual([
            "grafana.admin.existingSecretName is not a value of the chart",
        ]);
        expect(checkValues(chartDir(CHARTS.pushgateway), { serviceMonitor: { honourLabels: true } })).toEqual([
            "serviceMonitor.honourLabels is not a value of the chart",
        ]);
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
        const config = JSON.parse(fs.readFileSync(findPolicyConfig(pack, stack)!, "utf8")) as Record<
            string,
            { chartExceptions?: { resource: string }[] } | string
        >;
        return Object.entries(config).flatMap(([policy, v]) =>
            typeof v === "object" ? (v.chartExceptions ?? []).map((e) => ({ policy, resource: e.resource })) : [],
        );
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
        for (const t of [
            "kubernetes:monitoring.coreos.com/v1:Prometheus",
            "kubernetes:monitoring.coreos.com/v1:Alertmanager",
            "kubernetes:apps/v1:DaemonSet",
            "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        ]) {
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
        const findings = bare
            .policy!.violations.filter((v) => chartUrns.has(v.urn))
            .map((v) => ({ policy: v.policyName, resource: v.urn.split("::").slice(3).join("::"), level: v.enforcementLevel }));
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

describe("the rendered charts on a real kube-apiserver", () => {
    let api: ApiServer | undefined;
    let objects: KubeObject[];
    let namespace: KubeObject;
    const fmt = (rs: readonly ApplyResult[]) => rs.filter((r) => r.error).map((r) => `${r.ref}: ${r.error}`);

    beforeAll(async () => {
        // The CRDs come from the chart itself, not the fixture's.
        api = await startApiServer({ prometheusOperatorCrds: false });
        const plan = await planStack({ root: ROOT, stack: "prod", load: vitestLoader, policyPacks: [], policyTimeoutMs: 60_000, charts: true });
        const chartUrns = new Set(plan.chartResources.map((r) => r.urn));
        const all = kubernetesObjects(plan.resources);
        objects = all.filter((o) => chartUrns.has(o.resource.urn)).map((o) => o.object as KubeObject);
        namespace = all.find((o) => o.object.kind === "Namespace" && o.object.metadata.name === "monitoring")!.object as KubeObject;
    });
    afterAll(async () => {
        await api?.stop();
    });

    it("applies every object server-side: the monitoring namespace as the platform labels it, the charts' CRDs, then the rest", async () => {
        const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
        expect(crds.length).toBe(10);
        expect(fmt(await applyAll(api!, [namespace, ...crds]))).toEqual([]);
        const wait = await api!.kubectl(["wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"]);
        expect(wait.code, wait.stderr).toBe(0);
        const late = (o: KubeObject) => ["APIService", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"].includes(o.kind);
        const rest = objects.filter((o) => o.kind !== "CustomResourceDefinition");
        await emulateControllers(api!, [namespace, ...rest]);
        const results = [
            ...(await applyAll(
                api!,
                rest.filter((o) => !late(o)),
            )),
            ...(await applyAll(api!, rest.filter(late))),
        ];
        expect(results).toHaveLength(rest.length);
        expect(fmt(results)).toEqual([]);
        // Unknown fields would come back as warnings (field validation Warn): there are none.
        expect(results.flatMap((r) => r.warnings.filter((w) => /unknown field|duplicate field/.test(w)).map((w) => `${r.ref}: ${w}`))).toEqual([]);
        for (const o of objects) {
            const got = await api!.request("GET", await api!.objectPath(o));
            expect(got.status, refOf(o)).toBe(200);
        }
    });

    it("Pod Security in the monitoring namespace admits the pods of every chart workload, node-exporter's included", async () => {
        const results = await dryRunTemplatePods(api!, objects);
        expect(results.length).toBeGreaterThan(5);
        expect(results.filter((r) => r.error).map((r) => `${r.workload}: ${r.error}`)).toEqual([]);
        // The level matters: node-exporter's pod (host network, PID, paths) is refused where enforce is restricted.
        const nodeExporter = objects.find((w) => w.kind === "DaemonSet" && /node-exporter/.test(w.metadata.name!))!;
        const ns = {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "pss-restricted", labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
        };
        expect((await api!.apply(ns)).status).toBeLessThan(300);
        const spec = { ...(nodeExporter as any).spec.template.spec, serviceAccountName: "default" };
        await emulateControllers(api!, [ns]);
        const r = await api!.create(
            { apiVersion: "v1", kind: "Pod", metadata: { name: "node-exporter", namespace: "pss-restricted" }, spec },
            { dryRun: true },
        );
        expect(r.status).toBe(403);
        expect(String(r.body?.message)).toMatch(/violates PodSecurity "restricted:/);
    });
});
