/**
 * Helm and the chart sources the plan renders the platform's Helm releases with, all from the Go module
 * proxy (no chart repository, no GitHub): Helm is built from `helm.sh/helm/v3`, and each chart
 * repository the platform installs from is read from the Go module that holds its sources, at a pinned
 * version. `scripts/build-charts.sh` builds and assembles them into a cache (default
 * `~/.cache/mlops-charts`, or `$MLOPS_CHARTS_CACHE`); this module says what is pinned and where it lands.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The Helm release the plan renders with (built from the module `helm.sh/helm/v3` at this version). */
export const HELM_VERSION = "v3.22.0";

/**
 * The Kubernetes version charts are rendered for (`helm template --kube-version`): the release the
 * end-to-end tier's API server runs (e2e/lib/paths.ts), so what the plan renders is what that tier applies.
 */
export const RENDER_KUBE_VERSION = "v1.32.13";

/**
 * API versions the platform's cluster serves beyond those Helm knows by itself (`helm template
 * --api-versions`; Helm's own set is client-go's, which lacks the aggregator's): apiregistration.k8s.io/v1
 * (without it prometheus-adapter renders no APIService), the Prometheus operator's CRDs
 * (kube-prometheus-stack installs them) and the aggregated metrics APIs.
 */
export const RENDER_API_VERSIONS = [
    "apiregistration.k8s.io/v1",
    "monitoring.coreos.com/v1",
    "monitoring.coreos.com/v1alpha1",
    "metrics.k8s.io/v1beta1",
    "custom.metrics.k8s.io/v1beta1",
] as const;

/** Where a chart repository's sources are served as a Go module. */
export interface ChartSource {
    /** Go module path. */
    readonly module: string;
    /** Module version (a tag or the pseudo-version of the commit the proxy serves). */
    readonly version: string;
    /** Directory in the module that holds one directory per chart. */
    readonly dir: string;
}

/**
 * The chart repositories the platform installs from (by the URL Helm knows them by) and the Go module
 * version holding their sources. What the proxy serves decides the chart versions: see docs/monitoring.md.
 */
export const CHART_SOURCES: Readonly<Record<string, ChartSource>> = {
    // Commit 2026-08-28: kube-prometheus-stack 88.6.1, prometheus-pushgateway 3.8.0, prometheus-adapter 5.3.0,
    // kube-state-metrics 8.4.1, prometheus-node-exporter 4.56.1, prometheus-windows-exporter 0.12.8.
    "https://prometheus-community.github.io/helm-charts": {
        module: "github.com/prometheus-community/helm-charts",
        version: "v0.0.0-20260828105119-ed5d7d9b5933",
        dir: "charts",
    },
    // Commit 2026-08-29: grafana 13.0.1 (the only commit the proxy serves).
    "https://grafana-community.github.io/helm-charts": {
        module: "github.com/grafana-community/helm-charts",
        version: "v0.0.0-20260829030558-dbf9f4fb5fa1",
        dir: "charts",
    },
    // Release v0.9.0 of metrics-server: chart 3.13.1 (v0.8.0 holds 3.12.2).
    "https://kubernetes-sigs.github.io/metrics-server/": { module: "sigs.k8s.io/metrics-server", version: "v0.9.0", dir: "charts" },
};

/**
 * A dependency whose asked version the served sources do not hold, and the served version assembled in
 * its place (the parent's Chart.yaml in the cache is changed to ask for it, so its `condition` still applies).
 */
export interface DependencySubstitute {
    readonly chart: string;
    readonly dependency: string;
    readonly asks: string;
    readonly uses: string;
}

/** Every substitution, each documented in docs/monitoring.md. */
export const DEPENDENCY_SUBSTITUTES: readonly DependencySubstitute[] = [
    { chart: "kube-prometheus-stack", dependency: "grafana", asks: "12.11.2", uses: "13.0.1" },
];

/** A chart the platform installs: name, version and the repository its Release names. */
export interface PinnedChart {
    readonly chart: string;
    readonly version: string;
    readonly repo: string;
}

/** The cache directory (`$MLOPS_CHARTS_CACHE`, default `~/.cache/mlops-charts`). */
export function chartsCache(env: NodeJS.ProcessEnv = process.env): string {
    return env.MLOPS_CHARTS_CACHE || path.join(os.homedir(), ".cache", "mlops-charts");
}

/** The Helm binary in the cache. */
export function helmBinary(cache = chartsCache()): string {
    return path.join(cache, `helm-${HELM_VERSION}`, "bin", "helm");
}

/** The assembled chart (dependencies in its charts/) in the cache. */
export function chartDir(chart: Pick<PinnedChart, "chart" | "version">, cache = chartsCache()): string {
    return path.join(cache, "charts", `${chart.chart}-${chart.version}`);
}

/** File the builder writes into an assembled chart last: what it was assembled from. */
export const ASSEMBLED_STAMP = ".mlops-assembled.json";

/** What an assembled chart's stamp holds: the chart and the source it came from. */
export function assembledStamp(chart: PinnedChart): string {
    const source = CHART_SOURCES[chart.repo];
    return JSON.stringify({ chart: chart.chart, version: chart.version, source, substitutes: DEPENDENCY_SUBSTITUTES });
}

/** Whether Helm and every given chart are in the cache, assembled from the current sources. */
export function chartsReady(charts: readonly PinnedChart[], cache = chartsCache()): boolean {
    if (!fs.existsSync(helmBinary(cache))) return false;
    return charts.every((c) => {
        try {
            return fs.readFileSync(path.join(chartDir(c, cache), ASSEMBLED_STAMP), "utf8") === assembledStamp(c);
        } catch {
            return false;
        }
    });
}

/**
 * Whether a served chart version satisfies a dependency's version constraint as the charts here write
 * them: an exact version, or one with `*`/`x` wildcards (`0.12.*`). Anything else is not judged here.
 */
export function versionSatisfies(constraint: string, version: string): boolean {
    const c = constraint.trim().replace(/^v/, "").replace(/^=\s*/, "");
    const v = version.trim().replace(/^v/, "");
    if (!/^[0-9x*]+(\.[0-9x*]+){0,2}$/i.test(c)) throw new Error(`version constraint "${constraint}" is neither exact nor a wildcard`);
    const cs = c.split(".");
    const vs = v.split(/[.+-]/);
    return cs.every((part, i) => part === "*" || part.toLowerCase() === "x" || part === vs[i]);
}

/** The version to assemble for a dependency: the asked one, or its documented substitute. */
export function dependencyVersion(
    chart: string,
    dependency: string,
    asks: string,
    served: string,
): { ok: true; substituted: boolean } | { ok: false; message: string } {
    if (versionSatisfies(asks, served)) return { ok: true, substituted: false };
    const sub = DEPENDENCY_SUBSTITUTES.find((s) => s.chart === chart && s.dependency === dependency);
    if (sub && sub.asks === asks && sub.uses === served) return { ok: true, substituted: true };
    return {
        ok: false,
        message:
            `${chart} asks for ${dependency} ${asks}, the served sources hold ${served}` +
            (sub
                ? ` (DEPENDENCY_SUBSTITUTES expects ${sub.asks} -> ${sub.uses}: update it)`
                : `: pin other sources or add a documented substitute to DEPENDENCY_SUBSTITUTES`),
    };
}

/**
 * Makes sure Helm and the charts are in the cache: when they are not, runs scripts/build-charts.sh
 * (Go builds Helm and fetches the chart sources: a few minutes, once), its progress on stderr.
 */
export function ensureCharts(charts: readonly PinnedChart[], log: (line: string) => void, cache = chartsCache()): void {
    if (chartsReady(charts, cache)) return;
    log(
        `charts: Helm ${HELM_VERSION} or the charts are not in ${cache} yet: building them from the Go module proxy (first run only, a few minutes; --no-charts skips rendering)`,
    );
    const r = spawnSync("bash", [path.resolve(__dirname, "..", "scripts", "build-charts.sh")], {
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, MLOPS_CHARTS_CACHE: cache },
    });
    if (r.status !== 0 || !chartsReady(charts, cache)) {
        throw new ChartsUnavailableError(
            `scripts/build-charts.sh did not provide Helm and the charts in ${cache} (exit ${r.status ?? r.signal}); see its output above, or plan with --no-charts`,
        );
    }
}

/** Helm or the charts could not be built. */
export class ChartsUnavailableError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ChartsUnavailableError";
    }
}
