/**
 * The alert rules and the Alertmanager configuration under the real Prometheus tools (Debian
 * `prometheus` for promtool, `prometheus-alertmanager` for amtool; e2e/setup/install.sh installs both):
 * - `promtool check rules` on every rule file of every stack,
 * - `promtool test rules` on test/promtool/*.test.yaml (every alert fires on an unhealthy synthetic series
 *   and not on a healthy one), and a broken rule makes them fail; the runtime presets' metrics adapters
 *   and prometheus-adapter's query likewise,
 * - the rules a BatchInference and a ModelService render fire for that job or service only,
 * - `amtool check-config` on every stack's Alertmanager configuration and `amtool config routes test` for
 *   the team routes.
 * These ran in `npm test` while the tools were installed and were skipped where they were not; they test
 * real software, so they are here, where the tools are always installed.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePlatformConfig, teamsIn } from "../stacks/config";
import { ruleFileYaml } from "../components/shared/alertRules";
import { adapterQuery, METRICS, requestsPerSecondAdapterRule } from "../components/shared/metricsContract";
import { portableYaml } from "../components/shared/yaml";
import { batchRuleGroups } from "../components/team/batchInference";
import { parseCron } from "../components/team/cron";
import { fullSlo, serviceRuleGroups } from "../components/team/modelService";
import { configNamespace } from "../engine/project";
import { monitoringFilesOf, ruleFilesOf, run, writeFiles } from "../scripts/render-rules";
import { ROOT, runStack, type StackRun, STACKS } from "../test/harness";
import { prodArgs, RUNBOOKS } from "../test/modelServiceFixtures";
import { fixtureRuleFiles } from "../test/promtool/fixture";

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

describe("promtool test rules", () => {
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

describe("the runtime presets' metrics adapters", () => {
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

describe("prometheus-adapter's query", () => {
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

    it("promtool check rules accepts every rule file", () => {
        const files = ruleFilesOf(runResult.resources).map((f) => path.join(dir, f.path));
        // One per team of the environment, and the platform's.
        expect(files.map((f) => path.basename(f)).sort()).toEqual(
            [...teamsIn(cfg()).map((t) => `mlops-model-alerts-${t.name}.yaml`), "mlops-platform-alerts.yaml"].sort(),
        );
        const r = run("promtool", ["check", "rules", ...files]);
        expect(r.status, r.output).toBe(0);
        for (const f of files) expect(r.output).toContain(`Checking ${f}`);
    });

    it("amtool check-config accepts the Alertmanager configuration", () => {
        const r = run("amtool", ["check-config", path.join(dir, "alertmanager.yaml")]);
        expect(r.status, r.output).toBe(0);
        expect(r.output).toContain("SUCCESS");
    });

    it("amtool routes each team's alerts to its receiver and the rest to the platform owner", () => {
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
});

// ---------------------------------------------------------------------------------------------
// A BatchInference's rules under promtool.
// ---------------------------------------------------------------------------------------------

describe("BatchInference rules under promtool", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "batch-rules-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const groups = batchRuleGroups({
        team: "fraud",
        jobName: "fraud-nightly-scoring",
        schedule: parseCron("30 2 * * *"),
        timeZone: "Europe/Berlin",
        runbookBaseUrl: RUNBOOKS,
    });
    const success = (job: string) => `mlops_batch_job_last_success_timestamp_seconds{namespace="ml-fraud",job="${job}",team="fraud",model="fraud-scorer"}`;
    const tests = `
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  # The job last succeeded at time 0; a daily job is stale after 36 h. Another job of the namespace is not this rule's business.
  - interval: 1m
    input_series:
      - { series: '${success("fraud-nightly-scoring")}', values: '0x2400' }
      - { series: '${success("other-job")}', values: '0x2400' }
      - { series: 'kube_job_failed{namespace="ml-fraud",job_name="fraud-nightly-scoring-29100960",condition="true"}', values: '1x10' }
      - { series: 'kube_job_failed{namespace="ml-fraud",job_name="other-job-29100960",condition="true"}', values: '1x10' }
    alert_rule_test:
      - eval_time: 35h
        alertname: BatchJobStale
        exp_alerts: []
      - eval_time: 37h
        alertname: BatchJobStale
        exp_alerts:
          - exp_labels: { severity: warning, team: fraud, namespace: ml-fraud, job: fraud-nightly-scoring }
            exp_annotations:
              summary: "Batch job fraud-nightly-scoring has not succeeded within its interval"
              description: 'Batch job fraud-nightly-scoring in ml-fraud last succeeded 1d 13h 0m 0s ago. Its schedule "30 2 * * *" (Europe/Berlin) leaves at most 1d between runs, so it is stale after 1d 12h (1.5 times that).'
              runbook_url: "${RUNBOOKS}/batch-job-stale.md"
      - eval_time: 5m
        alertname: BatchJobFailed
        exp_alerts:
          - exp_labels: { severity: warning, team: fraud, namespace: ml-fraud, job_name: fraud-nightly-scoring-29100960 }
            exp_annotations:
              summary: "Job fraud-nightly-scoring-29100960 failed"
              description: "Job fraud-nightly-scoring-29100960 in ml-fraud failed: its pods exhausted their retries or its deadline passed."
              runbook_url: "${RUNBOOKS}/batch-job-failed.md"
`;

    it("check, and fire for this job only: failed runs at once, staleness after the window", () => {
        fs.writeFileSync(path.join(dir, "rules.yaml"), ruleFileYaml(groups));
        fs.writeFileSync(path.join(dir, "batch.test.yaml"), tests);
        const check = spawnSync("promtool", ["check", "rules", "rules.yaml"], { cwd: dir, encoding: "utf8" });
        expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
        const test = spawnSync("promtool", ["test", "rules", "batch.test.yaml"], { cwd: dir, encoding: "utf8" });
        expect(test.status, `${test.stdout}${test.stderr}`).toBe(0);
    });
});

// ---------------------------------------------------------------------------------------------
// The alert rules under promtool: they fire for this service, not for another in the namespace.
// ---------------------------------------------------------------------------------------------

describe("ModelService rules under promtool", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-service-rules-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const groups = serviceRuleGroups({
        team: "fraud",
        serviceName: "fraud-scorer",
        modelName: "fraud-scorer",
        slo: fullSlo(prodArgs().slo),
        runbookBaseUrl: RUNBOOKS,
    });
    const series = (service: string, version: string, status: string) =>
        `mlops_model_requests_total{namespace="ml-fraud",service="${service}",model="fraud-scorer",version="${version}",team="fraud",status="${status}"}`;
    const tests = `
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - { series: '${series("fraud-scorer", "12", "200")}', values: '0+60x30' }
      - { series: '${series("fraud-scorer", "12", "500")}', values: '0+60x30' }
      # A challenger of the same model in the same namespace fails too: its own service's rule, not this one, reports it.
      - { series: '${series("fraud-scorer-challenger", "13", "200")}', values: '0+60x30' }
      - { series: '${series("fraud-scorer-challenger", "13", "500")}', values: '0+60x30' }
      - { series: 'kube_deployment_status_replicas_available{namespace="ml-fraud",deployment="fraud-scorer-challenger"}', values: '0x30' }
      - { series: 'kube_deployment_spec_replicas{namespace="ml-fraud",deployment="fraud-scorer-challenger"}', values: '2x30' }
      - { series: 'kube_deployment_status_replicas_available{namespace="ml-fraud",deployment="fraud-scorer"}', values: '3x30' }
      - { series: 'kube_deployment_spec_replicas{namespace="ml-fraud",deployment="fraud-scorer"}', values: '3x30' }
    alert_rule_test:
      - eval_time: 20m
        alertname: ModelErrorRatioHigh
        exp_alerts:
          - exp_labels: { severity: critical, team: fraud, namespace: ml-fraud, model: fraud-scorer, version: "12" }
            exp_annotations:
              summary: "fraud-scorer 12 answers too many requests with errors"
              description: "50% of the requests to model fraud-scorer version 12 in ml-fraud failed with a 5xx status over 5 minutes (SLO: at most 0.5%)."
              runbook_url: "${RUNBOOKS}/model-error-ratio-high.md"
      - eval_time: 20m
        alertname: ModelServiceDown
        exp_alerts: []
`;

    it("check and fire for this service only", () => {
        fs.writeFileSync(path.join(dir, "rules.yaml"), ruleFileYaml(groups));
        fs.writeFileSync(path.join(dir, "service.test.yaml"), tests);
        const check = spawnSync("promtool", ["check", "rules", "rules.yaml"], { cwd: dir, encoding: "utf8" });
        expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
        const test = spawnSync("promtool", ["test", "rules", "service.test.yaml"], { cwd: dir, encoding: "utf8" });
        expect(test.status, `${test.stdout}${test.stderr}`).toBe(0);
    });
});
