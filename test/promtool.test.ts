/**
 * The real Prometheus tools on what the stacks deploy:
 * - `promtool check rules` on every rule file of every stack,
 * - `promtool test rules` on test/promtool/*.test.yaml (every alert fires on an unhealthy synthetic series
 *   and not on a healthy one), and a broken rule makes them fail,
 * - `amtool check-config` on every stack's Alertmanager configuration and `amtool config routes test` for
 *   the team routes.
 * Skipped, with a warning, where promtool or amtool is not installed; .ci/run installs both.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePlatformConfig, teamsIn } from "../stacks/config";
import { adapterQuery, METRICS, requestsPerSecondAdapterRule } from "../components/shared/metricsContract";
import { portableYaml } from "../components/shared/yaml";
import { configNamespace } from "../engine/project";
import { alertmanagerConfigOf, hasCommand, monitoringFilesOf, ruleFilesOf, run, writeFiles } from "../scripts/render-rules";
import { ROOT, runStack, type StackRun, STACKS } from "./harness";
import { fixtureRuleFiles } from "./promtool/fixture";

const hasPromtool = hasCommand("promtool");
const hasAmtool = hasCommand("amtool");
if (!hasPromtool) console.warn("promtool not installed: skipping the promtool checks (apt-get install prometheus)");
if (!hasAmtool) console.warn("amtool not installed: skipping the amtool checks (apt-get install prometheus-alertmanager)");

const PROMTOOL_TESTS = path.join(ROOT, "test", "promtool");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-promtool-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Copies the promtool unit tests next to a rendering of the fixture rules; returns the test files. */
function prepareUnitTests(dir: string, transform: (content: string) => string = (c) => c): string[] {
    writeFiles(
        dir,
        fixtureRuleFiles().map((f) => ({ ...f, content: transform(f.content) })),
    );
    return fs
        .readdirSync(PROMTOOL_TESTS)
        .filter((f) => f.endsWith(".test.yaml"))
        .map((f) => {
            fs.copyFileSync(path.join(PROMTOOL_TESTS, f), path.join(dir, f));
            return path.join(dir, f);
        });
}

describe.skipIf(!hasPromtool)("promtool test rules", () => {
    it("every alert fires for its unhealthy series and not for the healthy ones", () => {
        const dir = path.join(tmp, "unit");
        const files = prepareUnitTests(dir);
        expect(files.length).toBeGreaterThanOrEqual(4);
        const r = run("promtool", ["test", "rules", ...files.map((f) => path.basename(f))], dir);
        expect(r.output).not.toContain("FAILED");
        expect(r.status, r.output).toBe(0);
        expect(r.output.match(/SUCCESS/g)?.length).toBe(files.length);
    });

    it("fail when a rule is broken (a metric-name typo silences an alert)", () => {
        const dir = path.join(tmp, "broken");
        prepareUnitTests(dir, (c) => c.replaceAll("mlops_model_requests_total", "mlops_model_request_total"));
        const r = run("promtool", ["test", "rules", "model-serving.test.yaml"], dir);
        expect(r.status).not.toBe(0);
        expect(r.output).toContain("alertname: ModelErrorRatioHigh");
    });
});

describe.skipIf(!hasPromtool)("the runtime presets' metrics adapters", () => {
    it.each([
        ["MLServer", "rest_server_requests_total", "rest_server_request_total", 'service=\\"scorer-mlflow\\"'],
        ["Triton", "nv_inference_request_success", "nv_inference_requests_success", 'service=\\"scorer-triton\\"'],
        ["TorchServe", "ts_inference_requests_total", "ts_inference_request_total", 'service=\\"scorer-ts\\"'],
    ])("fail when the %s adapter reads a native name the runtime does not expose", (_runtime, name, typo, service) => {
        const dir = path.join(tmp, `adapter-${name}`);
        prepareUnitTests(dir, (c) => c.replaceAll(name, typo));
        const r = run("promtool", ["test", "rules", "runtime-adapters.test.yaml"], dir);
        expect(r.status).not.toBe(0);
        expect(r.output).toContain(service);
    });
});

describe.skipIf(!hasPromtool)("prometheus-adapter's query", () => {
    it("is valid PromQL once the adapter fills in its template, and a broken one is not", () => {
        const dir = path.join(tmp, "adapter");
        const rule = requestsPerSecondAdapterRule();
        // What the adapter asks Prometheus for an HPA of two pods in ml-fraud.
        const expr = adapterQuery(rule, METRICS.requests.name, 'namespace="ml-fraud",pod=~"scorer-a|scorer-b"', "pod");
        expect(expr).toBe('sum(rate(mlops_model_requests_total{namespace="ml-fraud",pod=~"scorer-a|scorer-b"}[2m])) by (pod)');
        const check = (e: string) => {
            writeFiles(dir, [
                { path: "adapter.yaml", content: portableYaml({ groups: [{ name: "adapter", rules: [{ record: "adapter:query", expr: e }] }] }) },
            ]);
            return run("promtool", ["check", "rules", path.join(dir, "adapter.yaml")]);
        };
        const ok = check(expr);
        expect(ok.status, ok.output).toBe(0);
        expect(check(expr.replace("[2m]", "[2 m]")).status).not.toBe(0);
    });
});

describe.each(STACKS)("%s stack with the Prometheus tools", (stack) => {
    let runResult: StackRun;
    let dir: string;
    beforeAll(async () => {
        runResult = await runStack(stack);
        dir = path.join(tmp, stack);
        writeFiles(dir, monitoringFilesOf(runResult.resources));
    });
    const cfg = () => parsePlatformConfig(configNamespace(runResult.recording.stackConfig.config, "mlops"), stack);

    it.skipIf(!hasPromtool)("promtool check rules accepts every rule file", () => {
        const files = ruleFilesOf(runResult.resources).map((f) => path.join(dir, f.path));
        // One per team of the environment, and the platform's.
        expect(files.map((f) => path.basename(f)).sort()).toEqual(
            [...teamsIn(cfg()).map((t) => `mlops-model-alerts-${t.name}.yaml`), "mlops-platform-alerts.yaml"].sort(),
        );
        const r = run("promtool", ["check", "rules", ...files]);
        expect(r.status, r.output).toBe(0);
        for (const f of files) expect(r.output).toContain(`Checking ${f}`);
    });

    it.skipIf(!hasAmtool)("amtool check-config accepts the Alertmanager configuration", () => {
        const r = run("amtool", ["check-config", path.join(dir, "alertmanager.yaml")]);
        expect(r.status, r.output).toBe(0);
        expect(r.output).toContain("SUCCESS");
    });

    it.skipIf(!hasAmtool)("amtool routes each team's alerts to its receiver and the rest to the platform owner", () => {
        const config = path.join(dir, "alertmanager.yaml");
        const route = (...labels: string[]) => {
            const r = run("amtool", ["config", "routes", "test", `--config.file=${config}`, ...labels]);
            expect(r.status, r.output).toBe(0);
            return r.output
                .split("\n")
                .filter((l) => l && !l.startsWith("Warning"))[0]
                .trim();
        };
        const c = cfg();
        for (const team of teamsIn(c)) {
            expect(route(`team=${team.name}`, "severity=warning")).toBe(team.name);
            expect(route(`team=${team.name}`, "severity=critical")).toBe(team.alerts.pagerduty ? `${team.name}-critical` : team.name);
        }
        // Teams that do not exist in this environment have no route.
        for (const team of c.teams.filter((t) => !t.environments.includes(c.environment))) {
            expect(route(`team=${team.name}`, "severity=warning")).toBe(c.owner);
        }
        expect(route(`team=${c.owner}`, "alertname=MLflowDown", "severity=critical")).toBe(
            c.monitoring.platformAlerts.pagerduty ? `${c.owner}-critical` : c.owner,
        );
        expect(route("alertname=KubeNodeNotReady", "severity=warning")).toBe(c.owner);
        expect(route("alertname=Watchdog", "severity=none")).toBe("null");
    });

    it("the configuration holds no secret: receivers read their credentials from mounted files", () => {
        const text = JSON.stringify(alertmanagerConfigOf(runResult.resources));
        expect(text).not.toMatch(/hooks\.slack\.com|"api_url"|"routing_key"|"service_key"/);
        expect(text).toContain("/etc/alertmanager/secrets/alertmanager-receivers/");
    });
});
