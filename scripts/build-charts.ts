/**
 * Builds Helm and assembles the platform's charts into the charts cache (engine/charts.ts), from the Go
 * module proxy only. Run it through scripts/build-charts.sh, which holds a lock so that concurrent runs
 * wait for one another. Idempotent: what is in the cache and current is skipped.
 *
 *   Helm:   `go install helm.sh/helm/v3/cmd/helm@<HELM_VERSION>` into <cache>/helm-<version>/bin
 *   Charts: for each chart of CHARTS, its directory from the module of its repository (CHART_SOURCES),
 *           with every dependency that names a repository copied into its charts/ from that repository's
 *           module (recursively); a version the sources do not hold fails, unless DEPENDENCY_SUBSTITUTES
 *           documents the substitute, which is then written into the copied Chart.yaml.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { CHARTS } from "../components/platform/monitoringStack";
import {
    ASSEMBLED_STAMP,
    assembledStamp,
    CHART_SOURCES,
    chartDir,
    chartsCache,
    dependencyVersion,
    HELM_VERSION,
    helmBinary,
    type PinnedChart,
} from "../engine/charts";

const goEnv = { ...process.env, GOFLAGS: "-buildvcs=false", GOTOOLCHAIN: "local", CGO_ENABLED: "0" };

function log(message: string): void {
    process.stderr.write(`charts: ${message}\n`);
}

function go(args: string[], extraEnv: Record<string, string> = {}): string {
    const r = spawnSync("go", args, { cwd: os.tmpdir(), env: { ...goEnv, ...extraEnv }, encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.error) throw new Error(`cannot run go (${r.error.message}): Go is needed to build Helm and fetch the chart sources`);
    if (r.status !== 0) throw new Error(`go ${args.join(" ")} failed:\n${r.stderr}`);
    return r.stdout;
}

const moduleDirs = new Map<string, string>();
/** The extracted module (from the module cache, downloaded from the proxy on first use). */
function moduleDir(module: string, version: string): string {
    const key = `${module}@${version}`;
    let dir = moduleDirs.get(key);
    if (!dir) {
        const info = JSON.parse(go(["mod", "download", "-json", key])) as { Dir?: string; Error?: string };
        if (!info.Dir) throw new Error(`go mod download ${key}: ${info.Error ?? "no directory"}`);
        dir = info.Dir;
        moduleDirs.set(key, dir);
    }
    return dir;
}

/** The directory of a chart in the sources of its repository. */
function sourceChart(repo: string, chart: string): string {
    const source = CHART_SOURCES[repo];
    if (!source) throw new Error(`no Go module source for chart repository ${repo} (add it to CHART_SOURCES in engine/charts.ts)`);
    const dir = path.join(moduleDir(source.module, source.version), source.dir, chart);
    if (!fs.existsSync(path.join(dir, "Chart.yaml"))) throw new Error(`${source.module}@${source.version} holds no chart ${chart} under ${source.dir}/`);
    return dir;
}

/** Module cache files are read-only: copies are made writable. */
function copyWritable(from: string, to: string): void {
    fs.cpSync(from, to, { recursive: true });
    const walk = (p: string) => {
        const st = fs.statSync(p);
        fs.chmodSync(p, st.mode | 0o200);
        if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    };
    walk(to);
}

interface Dependency {
    name: string;
    version: string;
    repository?: string;
    alias?: string;
}

/** Copies every dependency with a repository into `dir`/charts, recursively; applies documented substitutes. */
function assembleDependencies(dir: string): void {
    const chartFile = path.join(dir, "Chart.yaml");
    const doc = YAML.parseDocument(fs.readFileSync(chartFile, "utf8"));
    const name = String(doc.get("name"));
    const deps = ((doc.toJS() as { dependencies?: Dependency[] }).dependencies ?? []) as Dependency[];
    let changed = false;
    deps.forEach((dep, i) => {
        const target = path.join(dir, "charts", dep.name);
        if (!dep.repository) {
            if (!fs.existsSync(path.join(target, "Chart.yaml")))
                throw new Error(`${name}: dependency ${dep.name} names no repository and is not in its charts/`);
            return;
        }
        const from = sourceChart(dep.repository, dep.name);
        const served = String((YAML.parse(fs.readFileSync(path.join(from, "Chart.yaml"), "utf8")) as { version: unknown }).version);
        const verdict = dependencyVersion(name, dep.name, dep.version, served);
        if (!verdict.ok) throw new Error(verdict.message);
        fs.rmSync(target, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(target), { recursive: true });
        copyWritable(from, target);
        assembleDependencies(target);
        if (verdict.substituted) {
            log(`${name}: dependency ${dep.name} ${dep.version} is not served; using ${served} (documented substitute)`);
            doc.setIn(["dependencies", i, "version"], served);
            changed = true;
        }
    });
    if (changed) {
        fs.writeFileSync(chartFile, doc.toString());
        // The lock records the asked versions; Helm would refuse it against the changed Chart.yaml.
        fs.rmSync(path.join(dir, "Chart.lock"), { force: true });
    }
}

function buildHelm(cache: string): void {
    const bin = helmBinary(cache);
    if (fs.existsSync(bin)) return;
    log(`building Helm ${HELM_VERSION} from helm.sh/helm/v3 (first run only: a few CPU-minutes)`);
    go(["install", "-trimpath", "-ldflags", `-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
        GOBIN: path.dirname(bin),
    });
}

function assembleChart(chart: PinnedChart, cache: string): void {
    const out = chartDir(chart, cache);
    const stamp = path.join(out, ASSEMBLED_STAMP);
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === assembledStamp(chart)) return;
    const source = CHART_SOURCES[chart.repo];
    log(`assembling ${chart.chart} ${chart.version} from ${source?.module}@${source?.version}`);
    const from = sourceChart(chart.repo, chart.chart);
    const served = String((YAML.parse(fs.readFileSync(path.join(from, "Chart.yaml"), "utf8")) as { version: unknown }).version);
    if (served !== chart.version) {
        throw new Error(`${source.module}@${source.version} holds ${chart.chart} ${served}, CHARTS pins ${chart.version}: pin what the sources hold`);
    }
    const tmp = `${out}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(tmp), { recursive: true });
    copyWritable(from, tmp);
    assembleDependencies(tmp);
    fs.writeFileSync(path.join(tmp, ASSEMBLED_STAMP), assembledStamp(chart));
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(tmp, out);
}

function main(): void {
    const cache = chartsCache();
    fs.mkdirSync(cache, { recursive: true });
    buildHelm(cache);
    for (const chart of Object.values(CHARTS)) assembleChart(chart, cache);
    log(`Helm ${HELM_VERSION} and ${Object.keys(CHARTS).length} charts ready in ${cache}`);
}

try {
    main();
} catch (err) {
    process.stderr.write(`charts: ${(err as Error).message}\n`);
    process.exit(1);
}
