/**
 * The objects of the platform's Helm releases, rendered: every `kubernetes:helm.sh/v3:Release` of a
 * recording goes through `helm template` with its release name, namespace and values, for the cluster's
 * Kubernetes and API versions, and each object that comes out becomes a resource of the plan, a child
 * of its Release, typed as @pulumi/kubernetes types that kind (so the schema check, the manifests and the
 * policy packs treat it as what it is). Its name says where it came from: `<release>:<namespace>/<name>`
 * (cluster-scoped: `<release>:<name>`).
 *
 * Works on recorded resources, after the program ran: however the program was run, this sees its result.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { chartDir, chartsCache, helmBinary, type PinnedChart, RENDER_API_VERSIONS, RENDER_KUBE_VERSION } from "./charts";
import { CLUSTER_SCOPED_KINDS, type KubernetesObject } from "./kubernetes";
import type { RecordedResource } from "./recorder";
import { isSecret, reveal, SECRET_SIG, SIG_KEY, UNKNOWN } from "./values";

/** Type token of a Helm release. */
export const RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** What stands for a value unknown during preview while the chart renders (a valid DNS label). */
export const UNKNOWN_PLACEHOLDER = "unknown-during-preview-04da6b54";

/** One Release of a recording, as `helm template` needs it. */
export interface ReleaseSpec {
    /** The Release resource. */
    readonly resource: RecordedResource;
    /** Helm release name. */
    readonly name: string;
    readonly namespace: string;
    readonly chart: PinnedChart;
    /** Values, secrets revealed and unknowns replaced by {@link UNKNOWN_PLACEHOLDER}. */
    readonly values: Record<string, unknown>;
    /** Secret strings inside the values (marked secret again wherever they show up in the output). */
    readonly secrets: readonly string[];
}

/** Thrown when a Release cannot be rendered (its inputs, Helm, or the chart). */
export class ChartRenderError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ChartRenderError";
    }
}

function secretStrings(v: unknown, out: string[] = []): string[] {
    if (isSecret(v)) {
        const inner = reveal(v.value);
        const walk = (x: unknown) => {
            if (typeof x === "string" && x.length > 0) out.push(x);
            else if (Array.isArray(x)) x.forEach(walk);
            else if (x && typeof x === "object") Object.values(x).forEach(walk);
        };
        walk(inner);
    } else if (Array.isArray(v)) v.forEach((e) => secretStrings(e, out));
    else if (v && typeof v === "object") Object.values(v).forEach((e) => secretStrings(e, out));
    return out;
}

function replaceUnknowns(v: unknown): unknown {
    if (v === UNKNOWN) return UNKNOWN_PLACEHOLDER;
    if (Array.isArray(v)) return v.map(replaceUnknowns);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, replaceUnknowns(e)]));
    return v;
}

/** The Releases of a recording, in order, with what rendering each needs; every problem in one error. */
export function releaseSpecs(resources: readonly RecordedResource[]): ReleaseSpec[] {
    const problems: string[] = [];
    const specs: ReleaseSpec[] = [];
    for (const r of resources) {
        if (r.type !== RELEASE_TYPE || !r.custom) continue;
        const inputs = r.inputs as Record<string, unknown>;
        const plain = reveal<Record<string, any>>(inputs);
        const missing = ["name", "chart", "version", "namespace"].filter((k) => typeof plain[k] !== "string" || plain[k] === UNKNOWN || plain[k] === "");
        const repo = plain.repositoryOpts?.repo;
        if (typeof repo !== "string") missing.push("repositoryOpts.repo");
        if (missing.length > 0) {
            problems.push(`Release ${r.name}: ${missing.join(", ")} must be set to known strings to render it`);
            continue;
        }
        specs.push({
            resource: r,
            name: plain.name,
            namespace: plain.namespace,
            chart: { chart: plain.chart, version: plain.version, repo },
            values: replaceUnknowns(reveal(inputs.values ?? {})) as Record<string, unknown>,
            secrets: [...new Set(secretStrings(inputs.values))],
        });
    }
    if (problems.length > 0) throw new ChartRenderError(problems.join("; "));
    return specs;
}

/** `helm template` arguments for a release (values from a file: they may hold secrets, never argv). */
export function helmTemplateArgs(spec: Pick<ReleaseSpec, "name" | "namespace">, chartPath: string, valuesFile: string): string[] {
    return [
        "template",
        spec.name,
        chartPath,
        "--namespace",
        spec.namespace,
        "--values",
        valuesFile,
        "--kube-version",
        RENDER_KUBE_VERSION,
        ...RENDER_API_VERSIONS.flatMap((v) => ["--api-versions", v]),
        // As `helm install` (and so the Release resource) installs them.
        "--include-crds",
        // Chart tests are not installed.
        "--skip-tests",
    ];
}

/** An object of `helm template` output and the template it came from (`# Source:`). */
export interface TemplateObject {
    readonly source: string;
    readonly object: KubernetesObject;
}

/**
 * Parses `helm template` output: YAML documents separated by `---`, each after a `# Source: <path>`
 * comment. Empty documents are dropped; a `List` is expanded into its items; a document that is not an
 * object with apiVersion, kind and metadata.name is an error naming its source.
 */
export function parseTemplateOutput(text: string): TemplateObject[] {
    const out: TemplateObject[] = [];
    for (const doc of text.split(/^---[ \t]*$/m)) {
        const source = /^# Source: (.+)$/m.exec(doc)?.[1]?.trim() ?? "";
        let value: unknown;
        try {
            value = yaml.load(doc);
        } catch (err) {
            throw new ChartRenderError(`cannot parse the output of ${source || "a template"}: ${(err as Error).message}`);
        }
        if (value === null || value === undefined) continue;
        const o = value as KubernetesObject & { items?: unknown[] };
        const objects = o.kind === "List" && Array.isArray(o.items) ? (o.items as KubernetesObject[]) : [o];
        for (const item of objects) {
            if (
                !item ||
                typeof item !== "object" ||
                typeof item.apiVersion !== "string" ||
                typeof item.kind !== "string" ||
                typeof item.metadata?.name !== "string"
            ) {
                throw new ChartRenderError(
                    `${source || "a template"} rendered something that is not a Kubernetes object with apiVersion, kind and metadata.name`,
                );
            }
            out.push({ source, object: item });
        }
    }
    return out;
}

/** The @pulumi/kubernetes type token of a kind: `v1` Pods are `kubernetes:core/v1:Pod`. */
export function kubernetesType(apiVersion: string, kind: string): string {
    return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

/** The name of a chart object's resource: `<release>:<namespace>/<name>`, or `<release>:<name>` when cluster-scoped. */
export function chartObjectName(release: string, o: KubernetesObject): string {
    return `${release}:${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

/** The Helm release a resource was rendered from, if it is a chart object (its parent is a Release). */
export interface ChartOrigin {
    /** Helm release name. */
    readonly release: string;
    /** URN of the Release resource. */
    readonly releaseUrn: string;
    /** Template it came from (`# Source:`). */
    readonly source: string;
}

/** Chart objects' origins (not an input: the packs see the object alone). */
const origins = new WeakMap<RecordedResource, ChartOrigin>();

/** Where a resource came from, when it is a rendered chart object. */
export function chartOrigin(r: RecordedResource): ChartOrigin | undefined {
    return origins.get(r);
}

/** `v` with every string that contains one of `secrets` marked secret, and the unknown placeholder made unknown again. */
function remark(v: unknown, secrets: readonly string[]): unknown {
    if (typeof v === "string") {
        if (v.includes(UNKNOWN_PLACEHOLDER)) return UNKNOWN;
        return secrets.some((s) => v.includes(s)) ? { [SIG_KEY]: SECRET_SIG, value: v } : v;
    }
    if (Array.isArray(v)) return v.map((e) => remark(e, secrets));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, remark(e, secrets)]));
    return v;
}

/**
 * The plan's resources for a release's rendered objects: each a custom resource parented to the Release
 * (its URN's type chain names the Release), typed by its kind, with the object as its inputs (namespaced
 * kinds without a namespace get the release's, as `helm install` puts them there).
 */
export function chartResources(spec: ReleaseSpec, rendered: readonly TemplateObject[]): RecordedResource[] {
    const release = spec.resource;
    const [stackPart, project, qualifiedType] = release.urn.split("::");
    const seen = new Set<string>();
    return rendered.map(({ source, object }) => {
        const o: KubernetesObject = { ...object, metadata: { ...object.metadata } };
        if (!CLUSTER_SCOPED_KINDS.has(o.kind) && !o.metadata.namespace) o.metadata.namespace = spec.namespace;
        const type = kubernetesType(o.apiVersion, o.kind);
        const name = chartObjectName(spec.name, o);
        const urn = `${stackPart}::${project}::${qualifiedType}$${type}::${name}`;
        if (seen.has(urn)) throw new ChartRenderError(`release ${spec.name} renders ${o.kind} ${name.slice(spec.name.length + 1)} twice`);
        seen.add(urn);
        const inputs = remark(o, spec.secrets) as Record<string, unknown>;
        const r: RecordedResource = {
            urn,
            type,
            name,
            custom: true,
            id: o.metadata.name,
            parent: release.urn,
            provider: release.provider,
            providers: {},
            inputs,
            // The state a stack policy sees: what was applied (as the mocks answer for the platform's own).
            outputs: inputs,
            dependencies: [release.urn],
            propertyDependencies: {},
            options: { ...release.options, aliases: [], importId: undefined },
        };
        origins.set(r, { release: spec.name, releaseUrn: release.urn, source });
        return r;
    });
}

/** Runs `helm` with arguments; returns stdout. Replaceable in tests. */
export type HelmRunner = (args: string[]) => string;

/** The Helm of the charts cache. */
export function cachedHelm(cache = chartsCache()): HelmRunner {
    const helm = helmBinary(cache);
    return (args) => {
        const r = spawnSync(helm, args, {
            encoding: "utf8",
            maxBuffer: 256 << 20,
            env: {
                ...process.env,
                HELM_CACHE_HOME: path.join(cache, "helm-home", "cache"),
                HELM_CONFIG_HOME: path.join(cache, "helm-home", "config"),
                HELM_DATA_HOME: path.join(cache, "helm-home", "data"),
            },
        });
        if (r.error) throw new ChartRenderError(`cannot run ${helm}: ${r.error.message}`);
        if (r.status !== 0) throw new ChartRenderError(`helm ${args.slice(0, 3).join(" ")} failed: ${r.stderr.trim()}`);
        return r.stdout;
    };
}

export interface RenderOptions {
    /** Runs helm; default the cache's. */
    readonly helm?: HelmRunner;
    /** Where an assembled chart is; default the cache's. */
    readonly chartPath?: (chart: PinnedChart) => string;
    /** Called with the charts about to be rendered, before the first (e.g. to build the cache). */
    readonly prepare?: (charts: readonly PinnedChart[]) => void;
}

/** Renders every Release of a recording; returns the chart objects as resources, release by release. */
export function renderReleases(resources: readonly RecordedResource[], opts: RenderOptions = {}): RecordedResource[] {
    const helm = opts.helm ?? cachedHelm();
    const chartPath = opts.chartPath ?? ((c: PinnedChart) => chartDir(c));
    const specs = releaseSpecs(resources);
    if (specs.length === 0) return [];
    opts.prepare?.(specs.map((s) => s.chart));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-helm-"));
    try {
        return specs.flatMap((spec, i) => {
            const where = chartPath(spec.chart);
            if (!fs.existsSync(path.join(where, "Chart.yaml"))) {
                throw new ChartRenderError(
                    `chart ${spec.chart.chart} ${spec.chart.version} of release ${spec.name} is not in ${where} (run scripts/build-charts.sh)`,
                );
            }
            const valuesFile = path.join(dir, `values-${i}.json`);
            fs.writeFileSync(valuesFile, JSON.stringify(spec.values), { mode: 0o600 });
            try {
                return chartResources(spec, parseTemplateOutput(helm(helmTemplateArgs(spec, where, valuesFile))));
            } catch (err) {
                if (err instanceof ChartRenderError)
                    throw new ChartRenderError(`release ${spec.name} (${spec.chart.chart} ${spec.chart.version}): ${err.message}`);
                throw err;
            } finally {
                fs.rmSync(valuesFile, { force: true });
            }
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
