/**
 * The rules the promtool unit tests (test/promtool/*.test.yaml) run against: the builders' output for a
 * fixed team and platform, one rule file per group under rules/. The tests feed synthetic series and
 * expect each alert to fire for the unhealthy one only.
 */
import { modelAlertGroups, platformAlertGroups, ruleFileYaml } from "../../components/shared/alertRules";
import { mlserverRecordingRules, torchserveRecordingRules, tritonRecordingRules } from "../../components/team/runtimes";
import { portableYaml } from "../../components/shared/yaml";
import { routeRuleGroups } from "../../components/team/modelRoute";
import type { RenderedFile } from "../../scripts/render-rules";

export const RUNBOOK_BASE_URL = "https://github.com/acme/mlops-platform/blob/main/docs/runbooks";

export const MODEL_FIXTURE = {
    team: "fraud",
    namespace: "ml-fraud",
    slo: { latencyP95Seconds: 0.3, errorRatio: 0.01, inputValidationFailureRatio: 0.05, driftScore: 0.2, predictionShift: 0.2 },
    runbookBaseUrl: RUNBOOK_BASE_URL,
} as const;

export const PLATFORM_FIXTURE = { owner: "ml-platform", mlflowNamespace: "mlflow", mlflowService: "mlflow", runbookBaseUrl: RUNBOOK_BASE_URL } as const;

/** The services of the runtime adapters' tests (test/promtool/runtime-adapters.test.yaml), in ml-fraud. */
export const ADAPTER_FIXTURE = { mlflow: "scorer-mlflow", triton: "scorer-triton", torchserve: "scorer-ts" } as const;

/** The route of test/promtool/model-rollout.test.yaml: stable fraud-scorer with a canary, in ml-fraud. */
export const ROUTE_FIXTURE = { stable: "fraud-scorer", canary: "fraud-scorer-canary" } as const;

/**
 * One rule file per group: rules/<group name>.yaml; the runtime adapters' recording rules in
 * rules/runtime-adapters.yaml; the rules a ModelRoute deploys for its canary in rules/route-<stable>.yaml.
 */
export function fixtureRuleFiles(): RenderedFile[] {
    const groups = [...modelAlertGroups({ ...MODEL_FIXTURE, slo: { ...MODEL_FIXTURE.slo } }), ...platformAlertGroups(PLATFORM_FIXTURE)];
    const ns = MODEL_FIXTURE.namespace;
    const adapters = [
        { name: `adapter-${ADAPTER_FIXTURE.mlflow}`, rules: mlserverRecordingRules(ns, ADAPTER_FIXTURE.mlflow) },
        { name: `adapter-${ADAPTER_FIXTURE.triton}`, rules: tritonRecordingRules(ns, ADAPTER_FIXTURE.triton) },
        { name: `adapter-${ADAPTER_FIXTURE.torchserve}`, rules: torchserveRecordingRules(ns, ADAPTER_FIXTURE.torchserve) },
    ];
    return [
        ...groups.map((g) => ({ path: `rules/${g.name}.yaml`, content: ruleFileYaml([g]) })),
        { path: "rules/runtime-adapters.yaml", content: portableYaml({ groups: adapters }) },
        {
            path: `rules/route-${ROUTE_FIXTURE.stable}.yaml`,
            content: ruleFileYaml(
                routeRuleGroups({
                    team: MODEL_FIXTURE.team,
                    stable: ROUTE_FIXTURE.stable,
                    candidates: [{ service: ROUTE_FIXTURE.canary, slo: { ...MODEL_FIXTURE.slo } }],
                    runbookBaseUrl: RUNBOOK_BASE_URL,
                }),
            ),
        },
    ];
}
