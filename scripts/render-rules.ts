/**
 * Renders what the monitoring stack of each stack deploys into files the Prometheus tools read, and
 * checks them when the tools are installed:
 *
 *   npx tsx scripts/render-rules.ts [out-dir] [stack...]
 *
 * writes `<out-dir>/<stack>/rules/<PrometheusRule>.yaml` (one rule file per PrometheusRule object) and
 * `<out-dir>/<stack>/alertmanager.yaml` (the Alertmanager configuration from the Helm values), then runs
 * `promtool check rules` and `amtool check-config` on them. The default out-dir is `$TMPDIR/mlops-monitoring`.
 * The end-to-end suite e2e/alertRules.e2e.test.ts uses the same functions on the harness's recordings.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ruleFileYaml, type RuleGroup } from "../components/shared/alertRules";
import { portableYaml } from "../components/shared/yaml";
import { RELEASES } from "../components/platform/monitoringStack";
import { kubernetesObjects } from "../engine/kubernetes";
import { listStacks } from "../engine/project";
import type { RecordedResource } from "../engine/recorder";
import { recordStack } from "../engine/stack";
import { reveal } from "../engine/values";

/** One rendered file. */
export interface RenderedFile {
    /** Path relative to the stack's output directory. */
    readonly path: string;
    readonly content: string;
}

/** The rule file of every PrometheusRule object of a recording, by object name. */
export function ruleFilesOf(resources: readonly RecordedResource[]): RenderedFile[] {
    return kubernetesObjects(resources)
        .map((o) => o.object)
        .filter((o) => o.kind === "PrometheusRule")
        .map((o) => ({ path: `rules/${o.metadata.name}.yaml`, content: ruleFileYaml((o.spec as { groups: RuleGroup[] }).groups) }));
}

/** The Alertmanager configuration of the kube-prometheus-stack release of a recording. */
export function alertmanagerConfigOf(resources: readonly RecordedResource[]): Record<string, unknown> {
    const release = resources.find(
        (r) => r.type === "kubernetes:helm.sh/v3:Release" && reveal<{ name?: unknown }>(r.inputs).name === RELEASES.kubePrometheusStack,
    );
    if (!release) throw new Error(`no Helm release named ${RELEASES.kubePrometheusStack} in the recording`);
    const config = reveal<{ values?: { alertmanager?: { config?: Record<string, unknown> } } }>(release.inputs).values?.alertmanager?.config;
    if (!config) throw new Error("the kube-prometheus-stack release sets no alertmanager.config");
    return config;
}

/** Every file of a recording: rule files and alertmanager.yaml. */
export function monitoringFilesOf(resources: readonly RecordedResource[]): RenderedFile[] {
    return [...ruleFilesOf(resources), { path: "alertmanager.yaml", content: portableYaml(alertmanagerConfigOf(resources)) }];
}

/** Writes files under `dir`; returns their absolute paths. */
export function writeFiles(dir: string, files: readonly RenderedFile[]): string[] {
    return files.map((f) => {
        const file = path.join(dir, f.path);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, f.content);
        return file;
    });
}

/** Is a command on the PATH? */
export function hasCommand(command: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).status === 0;
}

/** Runs a tool; returns its exit status and combined output. */
export function run(command: string, args: readonly string[], cwd?: string): { status: number; output: string } {
    const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: 120_000 });
    return { status: r.status ?? 1, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

async function main(): Promise<number> {
    const root = path.resolve(__dirname, "..");
    const [outArg, ...stackArgs] = process.argv.slice(2);
    const out = path.resolve(outArg ?? path.join(os.tmpdir(), "mlops-monitoring"));
    const stacks = stackArgs.length > 0 ? stackArgs : listStacks(root);
    let failed = false;
    for (const stack of stacks) {
        const recording = await recordStack({ root, stack });
        const dir = path.join(out, stack);
        fs.rmSync(dir, { recursive: true, force: true });
        const files = writeFiles(dir, monitoringFilesOf(recording.resources));
        console.log(`${stack}: ${files.length} files in ${path.relative(process.cwd(), dir)}`);
        const rules = files.filter((f) => f.includes(`${path.sep}rules${path.sep}`));
        const checks: [string, string[]][] = [
            ["promtool", ["check", "rules", ...rules]],
            ["amtool", ["check-config", path.join(dir, "alertmanager.yaml")]],
        ];
        for (const [tool, args] of checks) {
            if (!hasCommand(tool)) {
                console.warn(`  ${tool} not installed: skipped (apt-get install prometheus prometheus-alertmanager)`);
                continue;
            }
            const r = run(tool, args);
            console.log(`  ${tool} ${args[0]}: ${r.status === 0 ? "ok" : "FAILED"}`);
            if (r.status !== 0) {
                console.log(r.output);
                failed = true;
            }
        }
    }
    return failed ? 1 : 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err) => {
            console.error(err instanceof Error ? err.message : err);
            process.exit(2);
        },
    );
}
