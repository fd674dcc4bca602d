/**
 * The rules the promtool unit tests (test/promtool/*.test.yaml) run against: the builders' output for a
 * fixed team and platform, one rule file per group under rules/. The tests feed synthetic series and
 * expect each alert to fire for the unhealthy one only.
 */
import { modelAlertGroups, platformAlertGroups, ruleFileYaml } from "../../components/alertRules";
import type { RenderedFile } from "../../scripts/render-rules";

export const RUNBOOK_BASE_URL = "https://github.com/acme/mlops-platform/blob/main/docs/runbooks";

export const MODEL_FIXTURE = {
    team: "fraud",
    namespace: "ml-fraud",
    slo: { latencyP95Seconds: 0.3, errorRatio: 0.01, inputValidationFailureRatio: 0.05, driftScore: 0.2, predictionShift: 0.2 },
    runbookBaseUrl: RUNBOOK_BASE_URL,
} as const;

export const PLATFORM_FIXTURE = { owner: "ml-platform", mlflowNamespace: "mlflow", mlflowService: "mlflow", runbookBaseUrl: RUNBOOK_BASE_URL } as const;

/** One rule file per group: rules/<group name>.yaml. */
export function fixtureRuleFiles(): RenderedFile[] {
    const groups = [...modelAlertGroups({ ...MODEL_FIXTURE, slo: { ...MODEL_FIXTURE.slo } }), ...platformAlertGroups(PLATFORM_FIXTURE)];
    return groups.map((g) => ({ path: `rules/${g.name}.yaml`, content: ruleFileYaml([g]) }));
}
