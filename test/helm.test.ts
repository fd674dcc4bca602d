/**
 * Rendering the Helm releases, the pure parts: which Releases are rendered and with what, how
 * `helm template` output is parsed and attributed to its release, and how the plan treats the objects
 * (tree, manifests, schemas, policy packs). Helm itself does not run here (npm test is hermetic): a
 * fixture stands for its output. The real rendering of the pinned charts is tested in e2e/charts.e2e.test.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { CHARTS } from "../components/platform/monitoringStack";
import {
    ASSEMBLED_STAMP,
    assembledStamp,
    CHART_SOURCES,
    chartDir,
    chartsReady,
    DEPENDENCY_SUBSTITUTES,
    dependencyVersion,
    HELM_VERSION,
    helmBinary,
    versionSatisfies,
} from "../engine/charts";
import {
    ChartRenderError,
    chartObjectName,
    chartOrigin,
    chartResources,
    helmTemplateArgs,
    kubernetesType,
    parseTemplateOutput,
    RELEASE_TYPE,
    releaseSpecs,
    renderReleases,
    UNKNOWN_PLACEHOLDER,
} from "../engine/helm";
import { kubernetesObjects, validateObjects } from "../engine/kubernetes";
import { planStack } from "../engine/plan";
import type { RecordedResource } from "../engine/recorder";
import { manifestFiles, renderTree } from "../engine/render";
import { isSecret, SECRET_SIG, SIG_KEY, UNKNOWN } from "../engine/values";
import { ROOT, vitestLoader } from "./harness";

const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

function release(name: string, inputs: Record<string, unknown>, parentType = "mlops:index:MonitoringStack"): RecordedResource {
    return {
        urn: `urn:pulumi:dev::mlops::${parentType}$${RELEASE_TYPE}::monitoring-${name}`,
        type: RELEASE_TYPE,
        name: `monitoring-${name}`,
        custom: true,
        parent: `urn:pulumi:dev::mlops::${parentType}::monitoring`,
        provider: "urn:pulumi:dev::mlops::pulumi:providers:kubernetes::k8s::id",
        providers: {},
        inputs,
        outputs: {},
        dependencies: [],
        propertyDependencies: {},
        options: {
            protect: true,
            retainOnDelete: true,
            deleteBeforeReplace: false,
            ignoreChanges: [],
            replaceOnChanges: [],
            additionalSecretOutputs: [],
            aliases: [],
        },
    } as RecordedResource;
}

const pgInputs = (values: unknown) => ({
    name: "pushgateway",
    chart: "prometheus-pushgateway",
    version: "3.8.0",
    repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
    namespace: "monitoring",
    values,
});

/** What `helm template` prints: documents after `---`, each with its `# Source:`. */
const OUTPUT = `---
# Source: prometheus-pushgateway/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: pushgateway
  namespace: monitoring
---
# Source: prometheus-pushgateway/templates/clusterrole.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: pushgateway
rules: []
---
# Source: prometheus-pushgateway/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pushgateway
  labels:
    app.kubernetes.io/name: prometheus-pushgateway
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: prometheus-pushgateway
  template:
    metadata:
      labels:
        app.kubernetes.io/name: prometheus-pushgateway
    spec:
      containers:
        - name: pushgateway
          image: quay.io/prometheus/pushgateway:v1.11.3
          env:
            - name: TOKEN
              value: "Bearer s3cr3t-token"
---
# Source: prometheus-pushgateway/templates/empty.yaml
---
# Source: prometheus-pushgateway/templates/list.yaml
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: from-a-list
    data:
      owner: ${UNKNOWN_PLACEHOLDER}
`;

describe("which releases are rendered, with what", () => {
    it("takes name, namespace, chart, version, repository and values from each Release; secrets revealed for Helm, remembered", () => {
        const r = release("pushgateway", pgInputs({ a: secret("s3cr3t-token"), b: [1, { c: UNKNOWN }], d: "plain" }));
        const [spec] = releaseSpecs([r]);
        expect(spec).toMatchObject({ name: "pushgateway", namespace: "monitoring", chart: CHARTS.pushgateway });
        expect(spec.values).toEqual({ a: "s3cr3t-token", b: [1, { c: UNKNOWN_PLACEHOLDER }], d: "plain" });
        expect(spec.secrets).toEqual(["s3cr3t-token"]);
    });

    it("a Release without the fields rendering needs is one error naming them all", () => {
        const bad = release("x", { name: "x", chart: "c", namespace: UNKNOWN, values: {} });
        expect(() => releaseSpecs([bad])).toThrow(
            new ChartRenderError("Release monitoring-x: version, namespace, repositoryOpts.repo must be set to known strings to render it"),
        );
    });

    it("helm template gets the release name, namespace, the values as a file, the cluster's versions, the CRDs, no tests", () => {
        const args = helmTemplateArgs({ name: "pushgateway", namespace: "monitoring" }, "/c/pg", "/t/values.json");
        expect(args.slice(0, 7)).toEqual(["template", "pushgateway", "/c/pg", "--namespace", "monitoring", "--values", "/t/values.json"]);
        expect(args).toEqual(expect.arrayContaining(["--kube-version", "v1.32.13", "--include-crds", "--skip-tests"]));
        expect(args.join(" ")).toContain("--api-versions monitoring.coreos.com/v1 ");
    });
});

describe("parsing and attribution", () => {
    it("parses every document with its template, expands Lists, drops empty documents", () => {
        const objects = parseTemplateOutput(OUTPUT);
        expect(objects.map((o) => `${o.object.kind}/${o.object.metadata.name} <- ${o.source}`)).toEqual([
            "ServiceAccount/pushgateway <- prometheus-pushgateway/templates/serviceaccount.yaml",
            "ClusterRole/pushgateway <- prometheus-pushgateway/templates/clusterrole.yaml",
            "Deployment/pushgateway <- prometheus-pushgateway/templates/deployment.yaml",
            "ConfigMap/from-a-list <- prometheus-pushgateway/templates/list.yaml",
        ]);
    });

    it("a document that is no Kubernetes object is an error naming its template", () => {
        expect(() => parseTemplateOutput("---\n# Source: c/templates/bad.yaml\nkind: Deployment\nmetadata: {name: x}\n")).toThrow(
            "c/templates/bad.yaml rendered something that is not a Kubernetes object",
        );
    });

    it("types objects as @pulumi/kubernetes does and names them by release, namespace and name", () => {
        expect(kubernetesType("v1", "Service")).toBe("kubernetes:core/v1:Service");
        expect(kubernetesType("apps/v1", "DaemonSet")).toBe("kubernetes:apps/v1:DaemonSet");
        expect(chartObjectName("pushgateway", { apiVersion: "v1", kind: "Service", metadata: { name: "pg", namespace: "monitoring" } })).toBe(
            "pushgateway:monitoring/pg",
        );
        expect(chartObjectName("pushgateway", { apiVersion: "v1", kind: "ClusterRole", metadata: { name: "pg" } })).toBe("pushgateway:pg");
    });

    it("each object is a child of its Release, in the release's namespace unless cluster-scoped, secrets and unknowns marked again", () => {
        const rel = release("pushgateway", pgInputs({ token: secret("s3cr3t-token") }));
        const [spec] = releaseSpecs([rel]);
        const rs = chartResources(spec, parseTemplateOutput(OUTPUT));
        expect(rs.map((r) => r.urn)).toEqual([
            `urn:pulumi:dev::mlops::mlops:index:MonitoringStack$${RELEASE_TYPE}$kubernetes:core/v1:ServiceAccount::pushgateway:monitoring/pushgateway`,
            `urn:pulumi:dev::mlops::mlops:index:MonitoringStack$${RELEASE_TYPE}$kubernetes:rbac.authorization.k8s.io/v1:ClusterRole::pushgateway:pushgateway`,
            `urn:pulumi:dev::mlops::mlops:index:MonitoringStack$${RELEASE_TYPE}$kubernetes:apps/v1:Deployment::pushgateway:monitoring/pushgateway`,
            `urn:pulumi:dev::mlops::mlops:index:MonitoringStack$${RELEASE_TYPE}$kubernetes:core/v1:ConfigMap::pushgateway:monitoring/from-a-list`,
        ]);
        for (const r of rs) {
            expect(r).toMatchObject({ parent: rel.urn, custom: true, dependencies: [rel.urn], provider: rel.provider, options: { protect: true } });
            expect(chartOrigin(r)).toMatchObject({ release: "pushgateway", releaseUrn: rel.urn });
        }
        // Helm leaves the namespace out of templates that omit it; `helm install` puts them in the release's.
        expect((rs[2].inputs.metadata as any).namespace).toBe("monitoring");
        expect((rs[1].inputs.metadata as any).namespace).toBeUndefined();
        const env = (rs[2].inputs as any).spec.template.spec.containers[0].env[0].value;
        expect(isSecret(env)).toBe(true);
        expect((rs[3].inputs as any).data.owner).toBe(UNKNOWN);
        // Manifests of the unrevealed objects mask it.
        const files = manifestFiles(kubernetesObjects(rs, false), [rel, ...rs]);
        expect(files.map((f) => f.content).join("")).not.toContain("s3cr3t");
    });

    it("an object rendered twice by one release is an error", () => {
        const [spec] = releaseSpecs([release("pushgateway", pgInputs({}))]);
        const twice = parseTemplateOutput(OUTPUT).slice(0, 1);
        expect(() => chartResources(spec, [...twice, ...twice])).toThrow("release pushgateway renders ServiceAccount monitoring/pushgateway twice");
    });
});

describe("renderReleases", () => {
    it("runs helm on the assembled chart with the values in a private file, removed afterwards", () => {
        const chart = fs.mkdtempSync(path.join(os.tmpdir(), "chart-"));
        fs.writeFileSync(path.join(chart, "Chart.yaml"), "name: prometheus-pushgateway\nversion: 3.8.0\n");
        const calls: { args: string[]; values: unknown; mode: number }[] = [];
        let prepared: unknown;
        const rs = renderReleases([release("pushgateway", pgInputs({ replicas: 2 }))], {
            chartPath: (c) => (c.chart === "prometheus-pushgateway" ? chart : "/nowhere"),
            prepare: (charts) => (prepared = charts),
            helm: (args) => {
                const file = args[args.indexOf("--values") + 1];
                calls.push({ args, values: JSON.parse(fs.readFileSync(file, "utf8")), mode: fs.statSync(file).mode & 0o777 });
                return OUTPUT;
            },
        });
        expect(prepared).toEqual([CHARTS.pushgateway]);
        expect(calls).toHaveLength(1);
        expect(calls[0].values).toEqual({ replicas: 2 });
        expect(calls[0].mode).toBe(0o600);
        expect(fs.existsSync(calls[0].args[calls[0].args.indexOf("--values") + 1])).toBe(false);
        expect(rs).toHaveLength(4);
        fs.rmSync(chart, { recursive: true });
    });

    it("a chart missing from the cache names the release and what to run", () => {
        expect(() => renderReleases([release("pushgateway", pgInputs({}))], { chartPath: () => "/nowhere", helm: () => "" })).toThrow(
            "chart prometheus-pushgateway 3.8.0 of release pushgateway is not in /nowhere (run scripts/build-charts.sh)",
        );
    });

    it("a helm failure names the release and chart", () => {
        const chart = fs.mkdtempSync(path.join(os.tmpdir(), "chart-"));
        fs.writeFileSync(path.join(chart, "Chart.yaml"), "name: x\n");
        expect(() =>
            renderReleases([release("pushgateway", pgInputs({}))], {
                chartPath: () => chart,
                helm: () => {
                    throw new ChartRenderError("helm template pushgateway failed: boom");
                },
            }),
        ).toThrow("release pushgateway (prometheus-pushgateway 3.8.0): helm template pushgateway failed: boom");
        fs.rmSync(chart, { recursive: true });
    });
});

describe("the chart sources", () => {
    it("every pinned chart's repository has a Go module source at a pinned version", () => {
        for (const c of Object.values(CHARTS)) {
            expect(CHART_SOURCES[c.repo], c.chart).toMatchObject({
                module: expect.any(String),
                version: expect.stringMatching(/^v\d+\.\d+\.\d+/),
                dir: "charts",
            });
        }
    });

    it("dependency versions: exact and wildcard constraints; a mismatch only with its documented substitute", () => {
        expect(versionSatisfies("8.4.1", "8.4.1")).toBe(true);
        expect(versionSatisfies("0.12.*", "0.12.8")).toBe(true);
        expect(versionSatisfies("0.12.*", "0.13.0")).toBe(false);
        expect(versionSatisfies("12.11.2", "13.0.1")).toBe(false);
        expect(() => versionSatisfies("^1.2.0", "1.3.0")).toThrow("neither exact nor a wildcard");
        expect(dependencyVersion("kube-prometheus-stack", "grafana", "12.11.2", "13.0.1")).toEqual({ ok: true, substituted: true });
        expect(dependencyVersion("kube-prometheus-stack", "grafana", "12.11.2", "13.0.2")).toEqual({
            ok: false,
            message: expect.stringContaining("DEPENDENCY_SUBSTITUTES expects 12.11.2 -> 13.0.1"),
        });
        expect(dependencyVersion("kube-prometheus-stack", "kube-state-metrics", "8.4.1", "8.4.2")).toEqual({
            ok: false,
            message: expect.stringContaining("pin other sources or add a documented substitute"),
        });
        expect(DEPENDENCY_SUBSTITUTES).toEqual([{ chart: "kube-prometheus-stack", dependency: "grafana", asks: "12.11.2", uses: "13.0.1" }]);
    });

    it("the cache is ready only with Helm and every chart stamped with its current source", () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "charts-cache-"));
        const charts = [CHARTS.pushgateway];
        expect(chartsReady(charts, cache)).toBe(false);
        fs.mkdirSync(path.dirname(helmBinary(cache)), { recursive: true });
        fs.writeFileSync(helmBinary(cache), "");
        expect(helmBinary(cache)).toContain(`helm-${HELM_VERSION}`);
        expect(chartsReady(charts, cache)).toBe(false);
        fs.mkdirSync(chartDir(CHARTS.pushgateway, cache), { recursive: true });
        fs.writeFileSync(path.join(chartDir(CHARTS.pushgateway, cache), ASSEMBLED_STAMP), "{}");
        expect(chartsReady(charts, cache)).toBe(false);
        fs.writeFileSync(path.join(chartDir(CHARTS.pushgateway, cache), ASSEMBLED_STAMP), assembledStamp(CHARTS.pushgateway));
        expect(chartsReady(charts, cache)).toBe(true);
        fs.rmSync(cache, { recursive: true });
    });
});

describe("the plan treats chart objects as its own", () => {
    it("renders the dev stack's releases: objects in the tree under their Release, validated, written as manifests by release", async () => {
        const chart = fs.mkdtempSync(path.join(os.tmpdir(), "chart-"));
        fs.writeFileSync(path.join(chart, "Chart.yaml"), "name: fixture\n");
        const rendered: string[] = [];
        // Each release renders the fixture objects, plus one invalid object the schema check must catch.
        const helm = (args: string[]) => {
            rendered.push(args[1]);
            return `${OUTPUT}---\n# Source: x/templates/bad.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: bad-${args[1]}\nspec:\n  ports: "not a list"\n`;
        };
        const plan = await planStack({
            policyPacks: [],
            policyTimeoutMs: 10_000,
            load: vitestLoader,
            root: ROOT,
            stack: "dev",
            charts: { helm, chartPath: () => chart },
        });
        fs.rmSync(chart, { recursive: true });
        const releases = plan.resources.filter((r) => r.type === RELEASE_TYPE);
        expect(rendered).toEqual(releases.map((r) => (r.inputs as any).name));
        expect(plan.chartResources).toHaveLength(releases.length * 5);
        expect(plan.resources.slice(-plan.chartResources.length)).toEqual(plan.chartResources);
        // In the tree, under the Release.
        const tree = renderTree(plan.resources);
        expect(tree).toMatch(
            /kubernetes:helm\.sh\/v3:Release {2}monitoring-pushgateway\n(.*\n){0,5}.*kubernetes:apps\/v1:Deployment {2}pushgateway:monitoring\/pushgateway/,
        );
        // Validated: the invalid Service of each release is reported.
        expect(plan.schemaErrors.filter((e) => e.object.startsWith("Service/monitoring/bad-")).length).toBeGreaterThanOrEqual(releases.length - 1);
        expect(plan.exitCode).toBe(4);
        // Manifests in a directory of their release.
        const files = manifestFiles(plan.objects, plan.resources);
        const dep = files.find((f) => f.path === "monitoring/monitoring/helm-pushgateway/deployment-pushgateway.yaml")!;
        expect(dep.content).toContain("# Rendered by Helm from prometheus-pushgateway/templates/deployment.yaml of release pushgateway");
    });

    it("every object of a real chart kind validates against its schema when well-formed", async () => {
        const objects = parseTemplateOutput(OUTPUT).map((o) => o.object);
        expect(await validateObjects(objects)).toEqual([]);
    });
});

describe("custom objects are validated against the CRDs among the objects", () => {
    const crd = {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "widgets.example.io" },
        spec: {
            group: "example.io",
            names: { kind: "Widget", plural: "widgets" },
            scope: "Namespaced",
            versions: [
                {
                    name: "v1",
                    served: true,
                    storage: true,
                    schema: {
                        openAPIV3Schema: {
                            type: "object",
                            properties: {
                                spec: {
                                    type: "object",
                                    properties: {
                                        size: { type: "integer" },
                                        // A Go (RE2) pattern with an inline flag, as the operator's CRDs have.
                                        month: { type: "string", pattern: "^((?i)january|february)$" },
                                    },
                                },
                            },
                        },
                    },
                },
            ],
        },
    };
    const widget = (spec: Record<string, unknown>) => ({ apiVersion: "example.io/v1", kind: "Widget", metadata: { name: "w", namespace: "n" }, spec });

    it("a valid object passes, a wrong type fails with its path, RE2 inline flags are honoured", async () => {
        expect(await validateObjects([crd, widget({ size: 3, month: "JANUARY" })])).toEqual([]);
        expect(await validateObjects([crd, widget({ size: "three", month: "june" })])).toEqual([
            { object: "Widget/n/w", path: "/spec/size", message: "must be integer" },
            { object: "Widget/n/w", path: "/spec/month", message: 'must match pattern "^((?i)january|february)$"' },
        ]);
    });

    it("without its CRD a custom kind has no schema", async () => {
        expect(await validateObjects([widget({ size: 3 })])).toEqual([{ object: "Widget/n/w", path: "", message: "no schema for example.io/v1 Widget" }]);
    });
});
