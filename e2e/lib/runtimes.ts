/**
 * Helpers of the serving-runtimes suite (e2e/runtimes.e2e.test.ts): its venv, a ModelService rendered
 * under the unit tests' mocks (what the preset hands Kubernetes), and the Prometheus text format.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ModelService, type ModelServiceArgs } from "../../components/team/modelService";
import { runProgram } from "../../test/harness";
import { E2E_CACHE } from "./paths";

export const ROOT = path.resolve(__dirname, "..", "..");

/** The venv e2e/setup/runtimes-venv.sh made for the current locks. */
export function runtimesVenv(): string {
    const locks = ["runtimes.requirements.lock", "runtimes-triton.requirements.lock"].map((f) => fs.readFileSync(path.join(ROOT, "e2e", "setup", f)));
    const hash = execFileSync("sha256sum", { input: Buffer.concat(locks) })
        .toString()
        .slice(0, 12);
    const venv = path.join(E2E_CACHE, `venv-runtimes-${hash}`);
    if (!fs.existsSync(path.join(venv, ".complete"))) throw new Error(`${venv} is missing: run bash e2e/setup/runtimes-venv.sh (npm run test:e2e does)`);
    return venv;
}

/**
 * TorchServe's venv (e2e/setup/runtimes-torchserve-venv.sh): TorchServe from its lock, on Debian's
 * python3 with Debian's torch.
 */
export function torchserveVenv(): string {
    const lock = fs.readFileSync(path.join(ROOT, "e2e", "setup", "runtimes-torchserve.requirements.lock"));
    const hash = execFileSync("sha256sum", { input: lock }).toString().slice(0, 12);
    const venv = path.join(E2E_CACHE, `venv-torchserve-${hash}`);
    if (!fs.existsSync(path.join(venv, ".complete")))
        throw new Error(`${venv} is missing: run bash e2e/setup/runtimes-torchserve-venv.sh (npm run test:e2e does)`);
    return venv;
}

/** What the server container and the adapter of a rendered ModelService are. */
export interface RenderedService {
    container: any;
    initContainers: any[];
    /** The adapter's recording rules. */
    rules: { record: string; expr: string; labels?: Record<string, string> }[];
    /** The pod's labels (what the ServiceMonitor's relabelings read). */
    podLabels: Record<string, string>;
    /** The pod's service account. */
    serviceAccountName: string;
    /** The files of the runtime's ConfigMap (`<service>-runtime-config`), if it has one. */
    configFiles: Record<string, string>;
}

/** Renders one ModelService under the mocks and returns its server container and adapter rules. */
export async function renderService(args: ModelServiceArgs): Promise<RenderedService> {
    const run = await runProgram(() => new ModelService("svc", args));
    const objects = run.k8s().map((o) => o.object as any);
    const deployment = objects.find((o) => o.kind === "Deployment");
    const adapter = objects.find((o) => o.kind === "PrometheusRule" && o.metadata.name.endsWith("-metrics-adapter"));
    const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-runtime-config"));
    return {
        container: deployment.spec.template.spec.containers[0],
        initContainers: deployment.spec.template.spec.initContainers ?? [],
        rules: adapter?.spec.groups[0].rules ?? [],
        podLabels: deployment.spec.template.metadata.labels,
        serviceAccountName: deployment.spec.template.spec.serviceAccountName,
        configFiles: config?.data ?? {},
    };
}

/** One sample of the Prometheus text format. */
export interface Sample {
    name: string;
    labels: Record<string, string>;
    value: number;
}

/** The samples of a /metrics page (comments skipped). */
export function parseExposition(text: string): Sample[] {
    const samples: Sample[] = [];
    for (const line of text.split("\n")) {
        if (!line || line.startsWith("#")) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
        if (!m) throw new Error(`not a sample line: ${line}`);
        const labels: Record<string, string> = {};
        for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, "$1");
        samples.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return samples;
}

/** A series selector of a sample, for a promtool input series. */
export function seriesOf(s: Sample): string {
    return `${s.name}{${Object.entries(s.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}}`;
}
