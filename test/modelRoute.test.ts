/**
 * ModelRoute: the HTTPRoute to the platform's gateway with a canary (weighted) and a shadow (mirrored),
 * every argument rule with its message, the track labels and series labels of each ModelService, and
 * promotion and rollback as one change of the arguments.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ModelRoute, type ModelRouteArgs, routeRuleGroups, validateModelRouteArgs } from "../components/team/modelRoute";
import { fullSlo, ModelService, type ModelServiceArgs, validateModelServiceArgs } from "../components/team/modelService";
import { validateObjects } from "../engine/kubernetes";
import { runProgram, type StackRun } from "./harness";
import { APPROVAL_12, platformRefs, prodArgs } from "./modelServiceFixtures";

const NOW = new Date("2026-11-22T12:00:00Z");
const GATEWAY = { name: "platform", sectionName: "https", hostnameSuffix: "models.acme.io" };
/** Compliance's approval of version 13 (the canary and shadow), beside version 12's. */
const approval13 = { ...APPROVAL_12, version: 13, ticket: "CHG-10502", date: "2026-11-20", expires: "2027-02-17" };
const platform = { ...platformRefs("prod"), gateway: GATEWAY, approvals: [APPROVAL_12, approval13] };

/** The fraud scorer's versions: 12 stable, 13 as canary or shadow. */
const version = (track: "stable" | "canary" | "shadow", v: number, change: Partial<ModelServiceArgs> = {}): ModelServiceArgs =>
    prodArgs({
        platform,
        serviceName: track === "stable" ? "fraud-scorer" : `fraud-scorer-${track}`,
        modelUri: `models:/fraud-scorer/${v}`,
        previousVersion: track === "stable" ? v - 1 : 12,
        track,
        ...change,
    });

async function rollout(
    route: (s: { stable: ModelService; canary: ModelService; shadow: ModelService }) => Omit<ModelRouteArgs, "team" | "platform">,
): Promise<StackRun> {
    return runProgram(() => {
        const stable = new ModelService("stable", version("stable", 12));
        const canary = new ModelService("canary", version("canary", 13));
        const shadow = new ModelService("shadow", version("shadow", 13));
        return new ModelRoute("fraud-scorer", { team: "fraud", platform, ...route({ stable, canary, shadow }) });
    });
}

const routeOf = (run: StackRun) => {
    const routes = run.k8sOfKind("HTTPRoute", "ml-fraud");
    expect(routes).toHaveLength(1);
    return routes[0] as any;
};

describe("ModelRoute", () => {
    it("routes a canary's weight to it and mirrors the shadow's share, to the platform gateway's HTTPS listener", async () => {
        const run = await rollout(({ stable, canary, shadow }) => ({
            stable,
            canary: { service: canary, weight: 10 },
            shadow: { service: shadow, percent: 50 },
        }));
        const route = routeOf(run);
        expect(route.apiVersion).toBe("gateway.networking.k8s.io/v1");
        expect(route.metadata.name).toBe("fraud-scorer");
        expect(route.spec).toEqual({
            parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "platform", namespace: "ingress-nginx", sectionName: "https" }],
            hostnames: ["fraud-scorer.fraud.models.acme.io"],
            rules: [
                {
                    matches: [{ path: { type: "PathPrefix", value: "/" } }],
                    filters: [
                        {
                            type: "RequestMirror",
                            requestMirror: { backendRef: { group: "", kind: "Service", name: "fraud-scorer-shadow", port: 80 }, percent: 50 },
                        },
                    ],
                    backendRefs: [
                        { group: "", kind: "Service", name: "fraud-scorer", port: 80, weight: 90 },
                        { group: "", kind: "Service", name: "fraud-scorer-canary", port: 80, weight: 10 },
                    ],
                },
            ],
        });
        expect(route.metadata.labels).toMatchObject({ "app.kubernetes.io/component": "model-route", "mlops.acme.io/team": "fraud" });
        // Every object, the HTTPRoute and the rollout alerts included, is valid against its schema (Gateway API: @kubernetes-models/gateway-api).
        expect(await validateObjects(run.k8s().map((o) => o.object))).toEqual([]);
    });

    it("labels each track's objects and pods, and its scraped series with track (its version differs too)", async () => {
        const run = await rollout(({ stable, canary }) => ({ stable, canary: { service: canary, weight: 10 } }));
        for (const [deployment, track, v] of [
            ["fraud-scorer", "stable", "12"],
            ["fraud-scorer-canary", "canary", "13"],
            ["fraud-scorer-shadow", "shadow", "13"],
        ]) {
            const d = run.k8sObject("Deployment", deployment) as any;
            expect(d.metadata.labels["mlops.acme.io/track"]).toBe(track);
            expect(d.spec.template.metadata.labels).toMatchObject({ "mlops.acme.io/track": track, "mlops.acme.io/model-version": v });
            const monitor = run.k8sObject("ServiceMonitor", deployment) as any;
            expect(monitor.spec.endpoints[0].relabelings).toEqual([
                { sourceLabels: ["__meta_kubernetes_pod_label_mlops_acme_io_track"], targetLabel: "track", action: "replace" },
            ]);
            // Each track is selected apart: its own Service never reaches another track's pods.
            expect((run.k8sObject("Service", deployment) as any).spec.selector["app.kubernetes.io/instance"]).toBe(deployment);
        }
        // Each has its own alerts, narrowed to its service.
        expect((run.k8sObject("PrometheusRule", "fraud-scorer-canary-alerts") as any).spec.groups[0].rules[0].expr).toContain('service="fraud-scorer-canary"');
    });

    it("compares each candidate with the stable version in its own rules (the registry's rollout alerts, the candidate's SLO)", async () => {
        const run = await rollout(({ stable, canary, shadow }) => ({ stable, canary: { service: canary, weight: 10 }, shadow: { service: shadow } }));
        const rule = run.k8sObject("PrometheusRule", "fraud-scorer-rollout-alerts") as any;
        expect(rule.metadata.namespace).toBe("ml-fraud");
        expect(rule.metadata.labels).toMatchObject({ "app.kubernetes.io/component": "model-route", "mlops.acme.io/team": "fraud" });
        expect(rule.spec).toEqual({
            groups: routeRuleGroups({
                team: "fraud",
                stable: "fraud-scorer",
                candidates: [
                    { service: "fraud-scorer-canary", slo: fullSlo(version("canary", 13).slo) },
                    { service: "fraud-scorer-shadow", slo: fullSlo(version("shadow", 13).slo) },
                ],
                runbookBaseUrl: platform.runbookBaseUrl,
            }),
        });
        expect(rule.spec.groups.map((g: any) => [g.name, g.rules.map((r: any) => r.alert)])).toEqual([
            ["mlops-model-rollout-fraud-fraud-scorer-canary", ["ModelCandidateErrorRatioAboveStable", "ModelCandidateLatencyAboveStable"]],
            ["mlops-model-rollout-fraud-fraud-scorer-shadow", ["ModelCandidateErrorRatioAboveStable", "ModelCandidateLatencyAboveStable"]],
        ]);
        const [canaryErrors] = rule.spec.groups[0].rules;
        expect(canaryErrors.expr).toContain(
            'mlops_model_requests_total{namespace="ml-fraud", service=~"fraud-scorer|fraud-scorer-canary", track=~"canary|shadow", status=~"5.."}',
        );
        expect(canaryErrors.expr).toContain(`> ${version("canary", 13).slo.errorRatio} and on`);
        // Without a candidate there is nothing to compare: no rule.
        const alone = await runProgram(
            () => new ModelRoute("fraud-scorer", { team: "fraud", platform, stable: new ModelService("stable", version("stable", 12)) }),
        );
        expect(alone.k8sOfKind("PrometheusRule", "ml-fraud").map((o: any) => o.metadata.name)).toEqual(["fraud-scorer-alerts"]);
    });

    it("promotes and rolls back with one change: the canary's version becomes stable, or the canary goes", async () => {
        const promoted = await runProgram(() => {
            const stable = new ModelService("stable", version("stable", 13));
            return new ModelRoute("fraud-scorer", { team: "fraud", platform, stable });
        });
        const route = routeOf(promoted);
        expect(route.spec.rules[0].backendRefs).toEqual([{ group: "", kind: "Service", name: "fraud-scorer", port: 80, weight: 100 }]);
        expect(route.spec.rules[0].filters).toBeUndefined();
        expect((promoted.k8sObject("Deployment", "fraud-scorer") as any).spec.template.metadata.labels["mlops.acme.io/model-version"]).toBe("13");
    });

    it("says in each track's operating note how to promote and roll back", () => {
        let notes: Record<string, string> = {};
        return runProgram(() => {
            const stable = new ModelService("stable", version("stable", 12));
            const canary = new ModelService("canary", version("canary", 13));
            const shadow = new ModelService("shadow", version("shadow", 13));
            notes = { stable: stable.operatingNote, canary: canary.operatingNote, shadow: shadow.operatingNote };
        }).then(() => {
            expect(notes.canary).toContain("**Roll back the canary**: in the team's stack, remove `canary` from the ModelRoute");
            expect(notes.canary).toContain(
                "**Promote the canary**: in the same change, give the stable ModelService this service's `modelUri` (its `previousVersion`",
            );
            expect(notes.canary).toContain('its series carry `track="canary"`');
            // The alerts comparing it with the stable version are in its signals, with what to do.
            for (const alert of ["ModelCandidateErrorRatioAboveStable", "ModelCandidateLatencyAboveStable"]) {
                expect(notes.canary).toContain(`| ${alert} | warning |`);
                expect(notes.shadow).toContain(`| ${alert} | warning |`);
                expect(notes.stable).not.toContain(alert);
            }
            expect(notes.canary).toContain("when one fires, roll it back first and investigate afterwards");
            expect(notes.canary).not.toContain("Roll back the model** to version");
            expect(notes.shadow).toContain("**Stop the shadow**: remove `shadow` from the ModelRoute");
            expect(notes.stable).toContain("**This is the stable version of a ModelRoute**");
            expect(notes.stable).toContain("**Roll back the model** to version 11");
        });
    });

    it("checks every argument in one message", async () => {
        const error = await runProgram(() => {
            const stable = new ModelService("stable", version("stable", 12));
            const canary = new ModelService("canary", version("canary", 13));
            const other = new ModelService("other", version("canary", 13, { serviceName: "fraud-scorer-other", track: undefined }));
            new ModelRoute("fraud-scorer", {
                team: "fraud",
                platform: { ...platform, gateway: { ...GATEWAY, sectionName: "" } },
                stable: canary,
                canary: { service: stable, weight: 60 },
                shadow: { service: other, percent: 0 },
                hostnames: ["fraud.other.models.acme.io"],
            });
        }).catch((e: Error) => e);
        const message = (error as Error).message;
        expect(message).toContain(
            'ModelRoute "fraud-scorer": platform.gateway must name the platform\'s Gateway, its HTTPS listener (sectionName) and the hostname suffix (like models.acme.io)',
        );
        expect(message).toContain('stable service fraud-scorer-canary must have track "stable", has "canary"');
        expect(message).toContain('canary service fraud-scorer must have track "canary", has "stable"');
        expect(message).toContain('shadow service fraud-scorer-other must have track "shadow", has none');
        expect(message).toContain(
            "canary.weight must be an integer percentage from 1 to 50, got 60; to promote, make the canary's version the stable one; to roll back, remove the canary",
        );
        expect(message).toContain("shadow.percent must be an integer from 1 to 100, got 0");
        expect(message).toContain('hostname "fraud.other.models.acme.io" must be a DNS name under the team\'s zone fraud.models.acme.io');
    });

    it("refuses a candidate of another model: the alerts compare a candidate with the stable version of the same model", async () => {
        const error = await runProgram(() => {
            const stable = new ModelService("stable", version("stable", 12));
            const ranker = new ModelService(
                "canary",
                version("canary", 13, {
                    modelUri: "models:/fraud-ranker/13",
                    platform: { ...platform, approvals: [APPROVAL_12, { ...approval13, model: "fraud-ranker" }] },
                }),
            );
            new ModelRoute("fraud-scorer", { team: "fraud", platform, stable, canary: { service: ranker, weight: 10 } });
        }).catch((e: Error) => e);
        expect((error as Error).message).toContain(
            "canary service fraud-scorer-canary serves model fraud-ranker, the stable service fraud-scorer fraud-scorer: a candidate is another version of the stable's model (its alerts compare the two by model)",
        );
    });

    it("takes the gateway as readPlatform passes it (a stack output), and checks it with the hostnames when it resolves", async () => {
        const withOutput = (gateway: pulumi.Output<typeof GATEWAY | undefined>, hostnames?: string[]) =>
            runProgram(() => {
                const p = { ...platform, gateway };
                const stable = new ModelService("stable", version("stable", 12, { platform: p }));
                return new ModelRoute("fraud-scorer", { team: "fraud", platform: p, stable, hostnames });
            });
        const route = routeOf(await withOutput(pulumi.output(GATEWAY)));
        expect(route.spec.parentRefs).toEqual([
            { group: "gateway.networking.k8s.io", kind: "Gateway", name: "platform", namespace: "ingress-nginx", sectionName: "https" },
        ]);
        expect(route.spec.hostnames).toEqual(["fraud-scorer.fraud.models.acme.io"]);
        const wrongZone = await withOutput(pulumi.output({ ...GATEWAY, hostnameSuffix: "models.example.com" }), ["scorer.fraud.models.acme.io"]).catch(
            (e: Error) => e,
        );
        expect((wrongZone as any).message).toContain(
            'ModelRoute "fraud-scorer": hostname "scorer.fraud.models.acme.io" must be a DNS name under the team\'s zone fraud.models.example.com',
        );
        expect((wrongZone as any).resources.filter((r: any) => r.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")).toEqual([]);
        const none = await withOutput(pulumi.output<typeof GATEWAY | undefined>(undefined)).catch((e: Error) => e);
        expect((none as Error).message).toContain("the platform team sets with mlops:serving.gateway");
    });

    it("needs the approval of every version that takes traffic (canary and shadow are ModelServices)", () => {
        const canary = version("canary", 13, { platform: { ...platform, approvals: [APPROVAL_12] } });
        expect(() => validateModelServiceArgs("canary", canary, NOW)).toThrow(
            "fraud/fraud-scorer version 13 has no approval: approvals are recorded by compliance in approvals/prod.yaml",
        );
        expect(() => validateModelServiceArgs("canary", { ...canary, track: "blue" as never }, NOW)).toThrow(
            'track "blue" must be one of stable, canary, shadow',
        );
    });

    it("refuses a route of another team's service", () => {
        const fake = { serviceName: "ranker", namespace: "ml-recsys", track: "stable" } as unknown as ModelService;
        expect(() => validateModelRouteArgs("r", { team: "fraud", platform, stable: fake })).toThrow(
            "stable service ranker runs in ml-recsys, not in team fraud's namespace ml-fraud",
        );
    });
});
