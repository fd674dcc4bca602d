/**
 * A model's rollout on the real API server of the tier, with the Gateway API CRDs (standard channel,
 * sigs.k8s.io/gateway-api v1.4.0) installed: the objects of a stable, a canary and a shadow ModelService
 * and their ModelRoute's HTTPRoute, as the unit tests' mocks render them, are applied by server-side
 * apply as a member of the team's deploy group bound to the deployer Role (deployerRules), and the
 * HTTPRoute the server stores routes 90/10 to stable and canary and mirrors half the requests to the
 * shadow. Nothing runs (no gateway controller): the suite proves the schema and the permissions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRoute } from "../components/team/modelRoute";
import { ModelService, type ModelServiceArgs } from "../components/team/modelService";
import { deployerRules } from "../components/platform/servingNamespace";
import { runProgram } from "../test/harness";
import { APPROVAL_12, platformRefs, prodArgs } from "../test/modelServiceFixtures";
import { type ApiServer, type KubeObject, startApiServer } from "./lib/apiserver";
import { applyAll, applyOrder } from "./lib/apply";
import { installGatewayApiCrds } from "./lib/gatewayApi";

const DEPLOYER = { user: "fraud-ci", groups: ["team-fraud-deployers"] };
const GATEWAY = { name: "platform", sectionName: "https", hostnameSuffix: "models.acme.io" };
/** Compliance's approvals of versions 12 (stable) and 13 (canary and shadow), as approvals/prod.yaml records them. */
const APPROVAL_13 = { ...APPROVAL_12, version: 13, ticket: "CHG-10502", date: "2026-11-20", expires: "2027-02-17" };
const platform = { ...platformRefs("prod"), gatewayNamespace: "gateway", gateway: GATEWAY, approvals: [APPROVAL_12, APPROVAL_13] };

const version = (track: "stable" | "canary" | "shadow", v: number): ModelServiceArgs =>
    prodArgs({
        platform,
        serviceName: track === "stable" ? "fraud-scorer" : `fraud-scorer-${track}`,
        modelUri: `models:/fraud-scorer/${v}`,
        previousVersion: track === "stable" ? v - 1 : 12,
        track,
    });

describe("a canary and a shadow behind the platform's gateway, on a real API server", () => {
    let api: ApiServer;
    let objects: KubeObject[];

    beforeAll(async () => {
        api = await startApiServer({ users: [DEPLOYER], prometheusOperatorCrds: ["servicemonitors", "prometheusrules"] });
        await installGatewayApiCrds(api);
        const admin = async (o: KubeObject) => {
            const r = await api.apply(o, { fieldManager: "e2e-fixture" });
            if (r.status >= 300) throw new Error(`${o.kind}: ${JSON.stringify(r.body)}`);
        };
        await admin({ apiVersion: "v1", kind: "Namespace", metadata: { name: "ml-fraud" } });
        await admin({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: "deployer", namespace: "ml-fraud" },
            rules: deployerRules() as any,
        });
        await admin({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: "deployer", namespace: "ml-fraud" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "deployer" },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: DEPLOYER.groups[0] }],
        } as any);
        const run = await runProgram(() => {
            const stable = new ModelService("stable", version("stable", 12));
            const canary = new ModelService("canary", version("canary", 13));
            const shadow = new ModelService("shadow", version("shadow", 13));
            return new ModelRoute("fraud-scorer", {
                team: "fraud",
                platform,
                stable,
                canary: { service: canary, weight: 10 },
                shadow: { service: shadow, percent: 50 },
            });
        });
        objects = run.k8s().map((o) => o.object as KubeObject);
    });

    afterAll(async () => {
        await api?.stop();
    });

    it("applies every object as the team's deployer", async () => {
        const results = await applyAll(api, applyOrder(objects), { as: DEPLOYER.user, asGroups: DEPLOYER.groups });
        const failed = results.filter((r) => r.status >= 300).map((r) => `${r.ref}: ${r.status} ${r.error ?? ""}`);
        expect(failed).toEqual([]);
        expect(results.filter((r) => r.ref.startsWith("HTTPRoute")).length).toBe(1);
        expect(results.filter((r) => r.ref.startsWith("Deployment")).length).toBe(3);
    });

    it("stores the route to the gateway's HTTPS listener: 90/10 by weight, half the requests mirrored to the shadow", async () => {
        const r = await api.request("GET", "/apis/gateway.networking.k8s.io/v1/namespaces/ml-fraud/httproutes/fraud-scorer");
        expect(r.status).toBe(200);
        const spec = r.body.spec;
        expect(spec.parentRefs).toEqual([
            { group: "gateway.networking.k8s.io", kind: "Gateway", name: "platform", namespace: "gateway", sectionName: "https" },
        ]);
        expect(spec.hostnames).toEqual(["fraud-scorer.fraud.models.acme.io"]);
        const rule = spec.rules[0];
        expect(rule.backendRefs.map((b: any) => [b.name, b.port, b.weight])).toEqual([
            ["fraud-scorer", 80, 90],
            ["fraud-scorer-canary", 80, 10],
        ]);
        expect(rule.filters).toEqual([
            { type: "RequestMirror", requestMirror: { backendRef: { group: "", kind: "Service", name: "fraud-scorer-shadow", port: 80 }, percent: 50 } },
        ]);
    });

    it("refuses a mirror share the schema does not allow (the CRD checks what ModelRoute checks first)", async () => {
        const route = objects.find((o) => o.kind === "HTTPRoute")!;
        const broken = JSON.parse(JSON.stringify(route));
        broken.spec.rules[0].filters[0].requestMirror.percent = 101;
        const r = await api.apply(broken, { as: DEPLOYER.user, asGroups: DEPLOYER.groups });
        expect(r.status).toBe(422);
    });

    it("lets the deployer write routes only in its own namespace", async () => {
        expect(await api.can(DEPLOYER, { verb: "patch", group: "gateway.networking.k8s.io", resource: "httproutes", namespace: "ml-fraud" })).toBe(true);
        expect(await api.can(DEPLOYER, { verb: "patch", group: "gateway.networking.k8s.io", resource: "httproutes", namespace: "gateway" })).toBe(false);
        expect(await api.can(DEPLOYER, { verb: "patch", group: "gateway.networking.k8s.io", resource: "gateways", namespace: "ml-fraud" })).toBe(false);
    });
});
