/**
 * The alert rule builders: every rule carries severity, team and a runbook that exists and says what to
 * do; model rules only ever look at their team's namespace; thresholds come from the SLOs; every alert
 * has a promtool unit test that makes it fire.
 */
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { BATCH_ALERTS, batchRuleGroups } from "../components/team/batchInference";
import { parseCron } from "../components/team/cron";
import { metricNamesIn } from "../components/shared/metricsContract";
import { fullSlo, SERVICE_ALERTS, serviceRuleGroups } from "../components/team/modelService";
import { routeRuleGroups } from "../components/team/modelRoute";
import {
    ALERT_NAMES,
    ALERTS,
    type AlertDefinition,
    type AlertName,
    alertingRules,
    formatPercent,
    formatSeconds,
    modelAlertGroups,
    type ModelSlo,
    platformAlertGroups,
    ROLLOUT_ALERTS,
    runbookPath,
    sloParameters,
    TEAM_ALERTS,
    validateModelAlertArgs,
} from "../components/shared/alertRules";
import { withAlertTable } from "../scripts/alert-docs";
import { ROOT } from "./harness";
import { MODEL_FIXTURE, PLATFORM_FIXTURE, RUNBOOK_BASE_URL } from "./promtool/fixture";

const SLO: ModelSlo = { ...MODEL_FIXTURE.slo };
const allRules = () => alertingRules([...modelAlertGroups({ ...MODEL_FIXTURE, slo: SLO }), ...platformAlertGroups(PLATFORM_FIXTURE)]);

/** The label matchers of every vector selector in an expression. */
function selectors(expr: string): string[] {
    return [...expr.replace(/"(?:[^"\\]|\\.)*"/g, (s) => s.replace(/[{}]/g, "")).matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
}

describe("every alert", () => {
    const rules = allRules();

    it("the builders produce each catalogued alert exactly once", () => {
        expect(rules.map((r) => r.alert).sort()).toEqual(Object.keys(ALERTS).sort());
    });

    it.each(rules.map((r) => [r.alert, r] as const))("%s has severity, team, summary, description and runbook_url", (name, r) => {
        const alert = ALERTS[name as AlertName];
        expect(r.labels).toEqual({ severity: alert.severity, team: name === "MLflowDown" ? PLATFORM_FIXTURE.owner : MODEL_FIXTURE.team });
        expect(["critical", "warning"]).toContain(r.labels.severity);
        expect(r.annotations.summary.length).toBeGreaterThan(10);
        expect(r.annotations.description.length).toBeGreaterThan(r.annotations.summary.length);
        expect(r.annotations.runbook_url).toBe(`${RUNBOOK_BASE_URL}/${alert.runbook}.md`);
        expect(r.for).toMatch(/^\d+[smh]$/);
    });

    it.each(Object.keys(ALERTS))("%s has a runbook in docs/runbooks that says what to check and do", (name) => {
        const file = path.join(ROOT, runbookPath(name as AlertName));
        expect(fs.existsSync(file), file).toBe(true);
        const text = fs.readFileSync(file, "utf8");
        expect(text.split("\n")[0]).toBe(`# ${name}`);
        expect(text).toContain(`| Severity | ${ALERTS[name as AlertName].severity}`);
        for (const section of ["## What it means", "## Check", "## Act", "## Afterwards"]) expect(text, section).toContain(section);
        expect(text).toContain("(../postmortem-template.md)");
    });

    it("every runbook belongs to an alert, and the post-mortem template exists", () => {
        const files = fs.readdirSync(path.join(ROOT, "docs", "runbooks")).sort();
        expect(files).toEqual(
            Object.values(ALERTS)
                .map((a) => `${a.runbook}.md`)
                .sort(),
        );
        const template = fs.readFileSync(path.join(ROOT, "docs", "postmortem-template.md"), "utf8");
        for (const section of ["## Timeline", "## Root cause", "## Action items"]) expect(template).toContain(section);
    });

    it("has a promtool unit test in which it fires", () => {
        const dir = path.join(ROOT, "test", "promtool");
        const firing = new Set<string>();
        const quiet = new Set<string>();
        for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".test.yaml"))) {
            const doc = YAML.parse(fs.readFileSync(path.join(dir, f), "utf8"));
            for (const t of doc.tests) {
                for (const a of t.alert_rule_test ?? []) {
                    const exp = a.exp_alerts ?? [];
                    (exp.length > 0 ? firing : quiet).add(a.alertname);
                    // An expected alert names its team and severity: it is the one routed.
                    for (const e of exp) expect(e.exp_labels).toMatchObject({ severity: ALERTS[a.alertname as AlertName].severity, team: expect.any(String) });
                }
            }
        }
        expect([...firing].sort()).toEqual(Object.keys(ALERTS).sort());
        expect(quiet.size).toBeGreaterThan(5);
    });
});

describe("the registry", () => {
    const doc = (file: string) => fs.readFileSync(path.join(ROOT, "docs", file), "utf8");
    /** The row of a markdown table that starts with `| <alert>` (or names it in its first cell). */
    const rowOf = (text: string, alert: string) =>
        text.split("\n").find(
            (l) =>
                l.startsWith("|") &&
                l
                    .split("|")[1]
                    .split(",")
                    .map((c) => c.trim())
                    .includes(alert),
        );

    it("reads an SLO parameter only where the threshold is that parameter", () => {
        expect(sloParameters(ALERT_NAMES).sort()).toEqual(Object.keys(SLO).sort());
        for (const name of ALERT_NAMES) {
            const def: AlertDefinition = ALERTS[name];
            if (!def.slo) continue;
            const rule = alertingRules(modelAlertGroups({ ...MODEL_FIXTURE, slo: { ...SLO, [def.slo]: 0.123 } })).find((r) => r.alert === name)!;
            expect(rule.expr, name).toContain("> 0.123");
        }
    });

    it("a workload's rules are the team-wide rules with their selectors narrowed, nothing else", () => {
        const slo = fullSlo({ latencyP95Seconds: SLO.latencyP95Seconds, errorRatio: SLO.errorRatio });
        const team = Object.fromEntries(alertingRules(modelAlertGroups({ ...MODEL_FIXTURE, slo })).map((r) => [r.alert, r]));
        const service = alertingRules(
            serviceRuleGroups({ team: "fraud", serviceName: "fraud-scorer", modelName: "fraud-scorer", slo, runbookBaseUrl: RUNBOOK_BASE_URL }),
        );
        const batch = alertingRules(
            batchRuleGroups({ team: "fraud", jobName: "fraud-nightly", schedule: parseCron("0 2 * * *"), timeZone: "UTC", runbookBaseUrl: RUNBOOK_BASE_URL }),
        );
        const route = alertingRules(
            routeRuleGroups({ team: "fraud", stable: "fraud-scorer", candidates: [{ service: "fraud-scorer-canary", slo }], runbookBaseUrl: RUNBOOK_BASE_URL }),
        );
        expect(service.map((r) => r.alert).sort()).toEqual([...SERVICE_ALERTS].sort());
        expect(batch.map((r) => r.alert)).toEqual([...BATCH_ALERTS]);
        expect(route.map((r) => r.alert)).toEqual([...ROLLOUT_ALERTS]);
        // A route's rules read the series of its stable and candidate services only.
        for (const r of route)
            expect(
                r.expr.match(/\{[^}]*\}/g)!.every((m) => m.includes('service=~"fraud-scorer|fraud-scorer-canary"')),
                r.alert,
            ).toBe(true);
        const unscoped = (expr: string) => expr.replace(/, (service|deployment|model|job|job_name|pod)=~?"[^"]*"/g, "");
        for (const r of [...service, ...route, ...batch.filter((b) => b.alert !== "BatchJobStale")]) {
            expect(unscoped(r.expr), r.alert).toBe(team[r.alert].expr);
            expect({ ...r, expr: "" }, r.alert).toEqual({ ...team[r.alert], expr: "" });
        }
        // A job's staleness reads its schedule instead of the interval it pushes.
        const stale = batch.find((r) => r.alert === "BatchJobStale")!;
        expect(stale.expr).toBe(
            'time() - max by (namespace, job) (mlops_batch_job_last_success_timestamp_seconds{namespace="ml-fraud", job="fraud-nightly"}) > 129600',
        );
        expect(stale.labels).toEqual(team.BatchJobStale.labels);
    });

    it("every alert of a team's namespace is team-wide, and every workload alert is one of them", () => {
        expect([...TEAM_ALERTS].sort()).toEqual(ALERT_NAMES.filter((a) => a !== "MLflowDown").sort());
        for (const a of [...SERVICE_ALERTS, ...BATCH_ALERTS, ...ROLLOUT_ALERTS]) expect(TEAM_ALERTS).toContain(a);
        expect(ROLLOUT_ALERTS).toEqual(["ModelCandidateErrorRatioAboveStable", "ModelCandidateLatencyAboveStable"]);
    });

    it("docs/metrics-contract.md lists every alert with the metrics its expression reads and its runbook (generated, current)", () => {
        const text = doc("metrics-contract.md");
        expect(text === withAlertTable(text), "docs/metrics-contract.md is out of date: run npm run alert:docs").toBe(true);
        const rules = Object.fromEntries(allRules().map((r) => [r.alert, r]));
        for (const name of ALERT_NAMES) {
            const row = rowOf(text, name);
            expect(row, name).toBeDefined();
            expect(row).toContain(`| ${ALERTS[name].severity} |`);
            expect(row).toContain(`(runbooks/${ALERTS[name].runbook}.md)`);
            for (const metric of metricNamesIn(rules[name].expr)) {
                if (metric.startsWith("mlops_")) expect(row, `${name} reads ${metric}`).toContain(`\`${metric.replace(/_(bucket|count|sum)$/, "")}\``);
                else expect(row, `${name} reads ${metric}`).toMatch(metric === "up" ? /`up`/ : /kube-state-metrics/);
            }
        }
    });

    it("docs/team-guide.md lists the alerts of a service and a job with their severity and runbook", () => {
        const text = doc("team-guide.md");
        for (const name of [...SERVICE_ALERTS, ...BATCH_ALERTS]) {
            const row = rowOf(text, name);
            expect(row, name).toBeDefined();
            expect(row!.split("|")[2].trim(), name).toBe(ALERTS[name].severity);
            expect(row).toContain(`(runbooks/${ALERTS[name].runbook}.md)`);
            const slo = (ALERTS[name] as AlertDefinition).slo;
            if (slo) expect(row, name).toContain(`slo.${slo}`);
        }
    });
});

describe("model rules", () => {
    it("select only the team's namespace, for any team (property)", () => {
        const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
        fc.assert(
            fc.property(name, name, (team, ns) => {
                for (const r of alertingRules(modelAlertGroups({ team, namespace: ns, slo: SLO, runbookBaseUrl: RUNBOOK_BASE_URL }))) {
                    const sels = selectors(r.expr);
                    expect(sels.length, r.alert).toBeGreaterThan(0);
                    for (const s of sels) expect(s, `${r.alert}: ${r.expr}`).toContain(`namespace="${ns}"`);
                    expect(r.labels.team).toBe(team);
                }
            }),
            { numRuns: 50 },
        );
    });

    it("put the team's SLOs in the thresholds and the descriptions (property)", () => {
        const ratio = fc.double({ min: 0.001, max: 0.99, noNaN: true }).map((v) => Number(v.toFixed(3)));
        fc.assert(
            fc.property(
                fc.double({ min: 0.01, max: 30, noNaN: true }).map((v) => Number(v.toFixed(3))),
                ratio,
                ratio,
                ratio,
                ratio,
                (lat, err, val, drift, shift) => {
                    const slo: ModelSlo = {
                        latencyP95Seconds: lat,
                        errorRatio: err,
                        inputValidationFailureRatio: val,
                        driftScore: drift,
                        predictionShift: shift,
                    };
                    const byName = Object.fromEntries(alertingRules(modelAlertGroups({ ...MODEL_FIXTURE, slo })).map((r) => [r.alert, r]));
                    expect(byName.ModelLatencyP95High.expr).toMatch(new RegExp(` > ${lat}$`));
                    expect(byName.ModelLatencyP95High.annotations.description).toContain(formatSeconds(lat));
                    expect(byName.ModelErrorRatioHigh.expr).toMatch(new RegExp(` > ${err}$`));
                    expect(byName.ModelErrorRatioHigh.annotations.description).toContain(formatPercent(err));
                    expect(byName.ModelInputValidationFailuresHigh.expr).toMatch(new RegExp(` > ${val}$`));
                    expect(byName.ModelFeatureDriftHigh.expr).toMatch(new RegExp(` > ${drift}$`));
                    expect(byName.ModelPredictionClassShift.expr).toContain(`> ${shift} and on (namespace, model)`);
                    expect(byName.ModelPredictionValueShift.expr).toContain(`> ${shift} and on (namespace, model)`);
                },
            ),
            { numRuns: 50 },
        );
    });

    it("evaluate the week-long distribution comparison in its own, slower group", () => {
        const groups = modelAlertGroups({ ...MODEL_FIXTURE, slo: SLO });
        expect(groups.map((g) => [g.name, g.interval])).toEqual([
            ["mlops-model-serving-fraud", undefined],
            ["mlops-model-rollout-fraud", undefined],
            ["mlops-model-quality-fraud", "5m"],
            ["mlops-batch-fraud", undefined],
        ]);
        for (const r of groups[2].rules.filter((r) => r.alert.includes("Shift"))) expect(r.expr).toContain("[7d] offset 1h");
    });

    it("reject arguments with a message that says what is allowed", () => {
        const ok = { ...MODEL_FIXTURE, slo: SLO };
        expect(() => validateModelAlertArgs(ok)).not.toThrow();
        expect(() => validateModelAlertArgs({ ...ok, team: "Fraud Team" })).toThrow(/team "Fraud Team" must be a lower-case name/);
        expect(() => validateModelAlertArgs({ ...ok, slo: { ...SLO, errorRatio: 1.5 } })).toThrow(
            /slo.errorRatio must be a number above 0 and at most 1, got 1.5/,
        );
        expect(() => validateModelAlertArgs({ ...ok, slo: { ...SLO, latencyP95Seconds: 0 } })).toThrow(/slo.latencyP95Seconds/);
        expect(() => validateModelAlertArgs({ ...ok, runbookBaseUrl: "docs/runbooks" })).toThrow(/runbookBaseUrl "docs\/runbooks" must be an http\(s\) URL/);
    });
});

describe("platform rules", () => {
    it("MLflowDown fires on failed scrapes and on a missing target of the configured service", () => {
        const [rule] = alertingRules(platformAlertGroups({ ...PLATFORM_FIXTURE, mlflowNamespace: "tracking", mlflowService: "mlflow-server" }));
        expect(rule.expr).toBe(
            'sum by (namespace, service) (up{namespace="tracking", service="mlflow-server"}) == 0 or absent(up{namespace="tracking", service="mlflow-server"})',
        );
        expect(rule.labels).toEqual({ severity: "critical", team: "ml-platform" });
    });
});

describe("formatting", () => {
    it.each([
        [0.3, "300ms"],
        [0.025, "25ms"],
        [1, "1s"],
        [2.5, "2.5s"],
    ])("formatSeconds(%s) = %s", (v, s) => expect(formatSeconds(v)).toBe(s));
    it.each([
        [0.01, "1%"],
        [0.015, "1.5%"],
        [0.2, "20%"],
    ])("formatPercent(%s) = %s", (v, s) => expect(formatPercent(v)).toBe(s));
});
