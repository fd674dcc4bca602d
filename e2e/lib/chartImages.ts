/**
 * The images of the platform's charts for the real node, built on this machine (no registry is reachable)
 * from what Debian bookworm packages and what the Go module proxy serves, and the rewrite that points the
 * chart-rendered objects at them (e2e/chartsNode.e2e.test.ts):
 * - Debian's programs (dynamically linked: on the Debian base layer of nodeImages.ts): Alertmanager
 *   (`prometheus-alertmanager`, with the package's default templates, which Debian's build reads from
 *   disk), node-exporter (`prometheus-node-exporter`, taken from the package apt downloads, not installed
 *   on this machine), the Pushgateway (platformImages.ts's image of `prometheus-pushgateway`);
 * - programs built from Go modules by e2e/setup/chart-binaries.sh (static: one layer with the program,
 *   /etc/passwd and /tmp, as upstream's distroless and busybox images carry): the Prometheus operator and
 *   its config reloader, kube-state-metrics, prometheus-adapter, metrics-server, and Prometheus (Debian
 *   bookworm's is built without Kubernetes service discovery).
 * Each image has upstream's entrypoint and user (nobody, 65534); the pods' security contexts set the rest.
 * Every archive is cached under $E2E_CACHE/node-images by a hash of its program and layout.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { buildBaseLayer, type BuiltImage, hashOf, LOCAL_REGISTRY } from "./nodeImages";
import { tarLayer, writeOciArchive } from "./ociImage";
import { E2E_CACHE } from "./paths";
import { cachedArchive, pushgatewayImage } from "./platformImages";

/** What e2e/setup/chart-binaries.sh builds (it takes the same versions): directory name -> Go module release. */
export const CHART_BUILDS = {
    "prometheus-operator": "v0.93.1",
    "kube-state-metrics": "v2.20.0",
    "prometheus-adapter": "v0.12.0",
    "metrics-server": "v0.8.0",
    // Prometheus 3.14.0.
    prometheus: "v0.314.0",
} as const;

/** Where chart-binaries.sh puts each release's programs. */
export const CHART_BINARIES = path.join(E2E_CACHE, "chart-binaries");

/** A program built by chart-binaries.sh (throws, naming the script, when it is not built). */
export function chartBinary(build: keyof typeof CHART_BUILDS, program: string): string {
    const dir = path.join(CHART_BINARIES, `${build}-${CHART_BUILDS[build]}`);
    if (!fs.existsSync(path.join(dir, ".complete"))) throw new Error(`${build} ${CHART_BUILDS[build]} is not built (bash e2e/setup/chart-binaries.sh)`);
    return path.join(dir, program);
}

/** Which of the chart programs are built (for the suite's gate). */
export function missingChartBinaries(): string[] {
    return Object.entries(CHART_BUILDS)
        .filter(([name, version]) => !fs.existsSync(path.join(CHART_BINARIES, `${name}-${version}`, ".complete")))
        .map(([name, version]) => `${name} ${version}`);
}

/** A Debian program: its file and the package's version. */
export interface DebianProgram {
    readonly file: string;
    /** Where the package's files lie: / when installed, else the directory it was unpacked in. */
    readonly root: string;
    /** The Debian version (e.g. 2.42.0+ds-5+deb12u1). */
    readonly debianVersion: string;
    /** The upstream version the Debian version carries, as upstream tags it (v2.42.0). */
    readonly upstream: string;
}

const upstreamOf = (debianVersion: string) => `v${/^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(debianVersion)![1]}`;

/** Where packages this machine does not install are downloaded and unpacked (node-exporter). */
export const DEBIAN_PACKAGES = path.join(E2E_CACHE, "debian-packages");

/**
 * A program of a Debian package: from the installed package (prometheus, prometheus-alertmanager and
 * prometheus-pushgateway are installed by .ci/run and e2e/setup/install.sh), otherwise from the package
 * `apt-get download` fetches, unpacked under DEBIAN_PACKAGES (nothing is installed on the machine).
 */
export function debianProgram(pkg: string, file: string): DebianProgram {
    const installed = spawnSync("dpkg-query", ["-W", "-f", "${Status} ${Version}", pkg], { encoding: "utf8" });
    const m = /^install ok installed (\S+)$/.exec(installed.stdout ?? "");
    if (m && fs.existsSync(file)) return { file, root: "/", debianVersion: m[1], upstream: upstreamOf(m[1]) };
    fs.mkdirSync(DEBIAN_PACKAGES, { recursive: true });
    const unpacked = fs.readdirSync(DEBIAN_PACKAGES).find((d) => d.startsWith(`${pkg}_`) && fs.existsSync(path.join(DEBIAN_PACKAGES, d, ".complete")));
    if (unpacked) {
        const version = unpacked.slice(pkg.length + 1);
        const root = path.join(DEBIAN_PACKAGES, unpacked);
        return { file: path.join(root, file), root, debianVersion: version, upstream: upstreamOf(version) };
    }
    const work = fs.mkdtempSync(path.join(DEBIAN_PACKAGES, `.${pkg}-`));
    try {
        const download = () => spawnSync("apt-get", ["download", pkg], { cwd: work, encoding: "utf8" });
        let r = download();
        // apt's lists may not be there yet on a fresh machine.
        if (r.status !== 0) {
            execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"] });
            r = download();
        }
        if (r.status !== 0) throw new Error(`apt-get download ${pkg}: ${r.stderr}`);
        const deb = path.join(
            work,
            fs.readdirSync(work).find((f) => f.endsWith(".deb"))!,
        );
        const version = execFileSync("dpkg-deb", ["-f", deb, "Version"], { encoding: "utf8" }).trim();
        const dir = path.join(DEBIAN_PACKAGES, `${pkg}_${version}`);
        fs.rmSync(dir, { recursive: true, force: true });
        execFileSync("dpkg-deb", ["-x", deb, dir]);
        fs.writeFileSync(path.join(dir, ".complete"), "");
        return { file: path.join(dir, file), root: dir, debianVersion: version, upstream: upstreamOf(version) };
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** Debian's Alertmanager and node-exporter, and the Pushgateway's program (platformImages.ts makes its image). */
export const debianPrograms = () => ({
    alertmanager: debianProgram("prometheus-alertmanager", "/usr/bin/prometheus-alertmanager"),
    nodeExporter: debianProgram("prometheus-node-exporter", "/usr/bin/prometheus-node-exporter"),
    pushgateway: debianProgram("prometheus-pushgateway", "/usr/bin/prometheus-pushgateway"),
});

/** How one program becomes an image. */
interface ProgramImage {
    readonly name: string;
    readonly program: string;
    /** Where the program lies in the image (upstream's path). */
    readonly dest: string;
    readonly entrypoint: string[];
    /** Other files of the image: destination -> file on this machine. */
    readonly files?: Record<string, string>;
    /** Directories the image has (upstream's working directories), owned by nobody. */
    readonly dirs?: string[];
    readonly workingDir?: string;
    /** On the Debian base layer (a dynamically linked Debian program) or alone (a static Go build). */
    readonly onBase: boolean;
}

const NOBODY = 65534;

function programImage(spec: ProgramImage): BuiltImage {
    const base = spec.onBase ? buildBaseLayer() : undefined;
    const files = Object.entries(spec.files ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const key = hashOf(
        base ? path.basename(base) : "static",
        fs.readFileSync(spec.program),
        spec.dest,
        JSON.stringify([spec.entrypoint, spec.dirs, spec.workingDir]),
        ...files.flatMap(([dest, src]) => [dest, fs.readFileSync(src)]),
    );
    return cachedArchive(spec.name, key, (out, work) => {
        const layer = path.join(work, "layer");
        fs.mkdirSync(path.join(layer, path.dirname(spec.dest).slice(1)), { recursive: true });
        fs.copyFileSync(spec.program, path.join(layer, spec.dest.slice(1)));
        fs.chmodSync(path.join(layer, spec.dest.slice(1)), 0o755);
        if (!base) {
            // What a distroless static image gives a program: users, groups and a writable /tmp.
            fs.mkdirSync(path.join(layer, "etc"));
            fs.writeFileSync(
                path.join(layer, "etc/passwd"),
                `root:x:0:0:root:/root:/sbin/nologin\nnobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/sbin/nologin\n`,
            );
            fs.writeFileSync(path.join(layer, "etc/group"), `root:x:0:\nnobody:x:${NOBODY}:\n`);
            fs.mkdirSync(path.join(layer, "tmp"));
            fs.chmodSync(path.join(layer, "tmp"), 0o1777);
        }
        for (const [dest, src] of files) {
            fs.mkdirSync(path.join(layer, path.dirname(dest).slice(1)), { recursive: true });
            fs.copyFileSync(src, path.join(layer, dest.slice(1)));
            fs.chmodSync(path.join(layer, dest.slice(1)), 0o644);
        }
        for (const d of spec.dirs ?? []) {
            fs.mkdirSync(path.join(layer, d.slice(1)), { recursive: true });
            fs.chownSync(path.join(layer, d.slice(1)), NOBODY, NOBODY);
        }
        tarLayer(layer, path.join(work, "layer.tar"));
        writeOciArchive({
            ref: `${LOCAL_REGISTRY}/${spec.name}:${key}`,
            layers: [...(base ? [base] : []), path.join(work, "layer.tar")],
            out,
            config: { entrypoint: spec.entrypoint, user: `${NOBODY}:${NOBODY}`, workingDir: spec.workingDir },
        });
    });
}

/** The charts' images on this machine. */
export interface ChartImages {
    readonly operator: BuiltImage;
    readonly configReloader: BuiltImage;
    readonly kubeStateMetrics: BuiltImage;
    readonly adapter: BuiltImage;
    readonly metricsServer: BuiltImage;
    readonly prometheus: BuiltImage;
    readonly alertmanager: BuiltImage;
    readonly nodeExporter: BuiltImage;
    readonly pushgateway: BuiltImage;
}

/** Builds (or finds cached) every chart image; the Go programs must have been built (chart-binaries.sh). */
export function chartImages(): ChartImages {
    const deb = debianPrograms();
    const go = (build: keyof typeof CHART_BUILDS, program: string, dest: string, entrypoint = [dest]) =>
        programImage({ name: program, program: chartBinary(build, program), dest, entrypoint, onBase: false });
    return {
        operator: go("prometheus-operator", "operator", "/bin/operator"),
        configReloader: go("prometheus-operator", "prometheus-config-reloader", "/bin/prometheus-config-reloader"),
        // Upstream's entrypoint carries the ports too.
        kubeStateMetrics: go("kube-state-metrics", "kube-state-metrics", "/kube-state-metrics", [
            "/kube-state-metrics",
            "--port=8080",
            "--telemetry-port=8081",
        ]),
        adapter: go("prometheus-adapter", "adapter", "/adapter"),
        metricsServer: go("metrics-server", "metrics-server", "/metrics-server"),
        prometheus: programImage({
            name: "prometheus",
            program: chartBinary("prometheus", "prometheus"),
            dest: "/bin/prometheus",
            entrypoint: ["/bin/prometheus"],
            dirs: ["/prometheus", "/etc/prometheus"],
            workingDir: "/prometheus",
            onBase: false,
        }),
        alertmanager: programImage({
            name: "alertmanager",
            program: deb.alertmanager.file,
            dest: "/bin/alertmanager",
            entrypoint: ["/bin/alertmanager"],
            // Debian's Alertmanager reads its default templates from the package's files, not from the binary.
            files: Object.fromEntries(
                ["default.tmpl", "email.tmpl"].map((f) => [
                    `/usr/share/prometheus/alertmanager/${f}`,
                    path.join(deb.alertmanager.root, "usr/share/prometheus/alertmanager", f),
                ]),
            ),
            dirs: ["/alertmanager", "/etc/alertmanager"],
            workingDir: "/alertmanager",
            onBase: true,
        }),
        nodeExporter: programImage({
            name: "node-exporter",
            program: deb.nodeExporter.file,
            dest: "/bin/node_exporter",
            entrypoint: ["/bin/node_exporter"],
            onBase: true,
        }),
        pushgateway: pushgatewayImage(),
    };
}

/** The repositories of the rendered references each local image replaces. */
export function chartImageMap(images: ChartImages): ReadonlyArray<{ readonly repository: string; readonly image: BuiltImage }> {
    return [
        { repository: "quay.io/prometheus-operator/prometheus-operator", image: images.operator },
        { repository: "quay.io/prometheus-operator/prometheus-config-reloader", image: images.configReloader },
        { repository: "quay.io/prometheus/prometheus", image: images.prometheus },
        { repository: "quay.io/prometheus/alertmanager", image: images.alertmanager },
        { repository: "quay.io/prometheus/node-exporter", image: images.nodeExporter },
        { repository: "quay.io/prometheus/pushgateway", image: images.pushgateway },
        { repository: "registry.k8s.io/kube-state-metrics/kube-state-metrics", image: images.kubeStateMetrics },
        { repository: "registry.k8s.io/metrics-server/metrics-server", image: images.metricsServer },
        { repository: "registry.k8s.io/prometheus-adapter/prometheus-adapter", image: images.adapter },
    ];
}

/** Every image reference (`registry/repository:tag`) a rendered object names, in any string of it (container images, CR `image` fields, arguments). */
export function imageReferences(obj: unknown): string[] {
    const found = new Set<string>();
    const re = /\b((?:quay\.io|registry\.k8s\.io|docker\.io|ghcr\.io)\/[a-z0-9._/-]+:[\w.-]+)/g;
    JSON.stringify(obj).replace(re, (m) => {
        found.add(m);
        return m;
    });
    return [...found];
}

/**
 * The same object with every reference of a mapped repository, wherever it appears (a container's image,
 * a custom resource's `image`, an argument naming an image), replaced by the local image's reference.
 */
export function withChartImages<T>(obj: T, map: ReturnType<typeof chartImageMap>): T {
    let text = JSON.stringify(obj);
    for (const { repository, image } of map) {
        text = text.replace(new RegExp(`${repository.replace(/[.]/g, "\\.")}:[\\w.-]+`, "g"), image.ref);
    }
    return JSON.parse(text) as T;
}
