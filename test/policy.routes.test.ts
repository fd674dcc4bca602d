/**
 * httproute-gateway-hostnames: a team's HTTPRoute attaches only to the platform gateway's HTTPS listener
 * and names hostnames under `<team>.<hostnameSuffix>` - what ModelRoute renders passes, each single defect
 * fails with the policy's message; and its admission rule, generated from the same config.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { httpRouteSpec } from "../components/team/modelRoute";
import { admissionRules } from "../policy/framework/admission";
import { readPackConfig } from "../policy/framework/configFiles";
import { PACKS, STACKS } from "../policy/packs";
import { HTTP_ROUTE, httpRouteGatewayHostnames } from "../policy/rules/security/httpRouteGatewayHostnames";
import * as f from "./policies/fixtures";
import { ROOT } from "./harness";
import {
    assertHasResourceViolation,
    assertNoResourceViolations,
    assertResourceNotApplicable,
    createResourceValidationArgs,
    resourcePolicy,
    runResourcePolicy,
    variant,
} from "./policies/util";

const CONFIG = { gateways: [{ namespace: "ingress-nginx", name: "platform", sectionNames: ["https"] }], hostnameSuffix: "models.acme.io" };

/** The route ModelRoute renders for fraud-scorer of team fraud, with a canary. */
function route(): Record<string, any> {
    return {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: "fraud-scorer", namespace: "ml-fraud", labels: { ...f.OWNERSHIP } },
        spec: httpRouteSpec({
            gateway: { name: "platform", sectionName: "https" },
            gatewayNamespace: "ingress-nginx",
            hostnames: ["fraud-scorer.fraud.models.acme.io"],
            stable: "fraud-scorer",
            canary: { service: "fraud-scorer-canary", weight: 10 },
        }),
    };
}

describe("httproute-gateway-hostnames", () => {
    const policy = resourcePolicy(httpRouteGatewayHostnames);
    const args = (mutate: (r: Record<string, any>) => void = () => {}, config: Record<string, unknown> = CONFIG) =>
        createResourceValidationArgs(HTTP_ROUTE, variant(route(), mutate), { factory: httpRouteGatewayHostnames, config });
    const REF = "HTTPRoute ml-fraud/fraud-scorer";
    const ONLY = "only the platform's gateway listeners ingress-nginx/platform (https) are allowed.";

    it("passes the route ModelRoute renders", async () => {
        await assertNoResourceViolations(policy, args());
    });
    it("reports a hostname of another team, of another domain, or the team's zone apex", async () => {
        await assertHasResourceViolation(
            policy,
            args((r) => (r.spec.hostnames = ["fraud-scorer.recsys.models.acme.io"])),
            `${REF} names hostnames outside the team's zone fraud.models.acme.io: fraud-scorer.recsys.models.acme.io.`,
        );
        await assertHasResourceViolation(
            policy,
            args((r) => r.spec.hostnames.push("api.acme.io")),
            `${REF} names hostnames outside the team's zone fraud.models.acme.io: api.acme.io.`,
        );
        await assertHasResourceViolation(
            policy,
            args((r) => (r.spec.hostnames = ["fraud.models.acme.io"])),
            `${REF} names hostnames outside the team's zone fraud.models.acme.io: fraud.models.acme.io.`,
        );
        // A name that merely ends like the zone is outside it.
        await assertHasResourceViolation(
            policy,
            args((r) => (r.spec.hostnames = ["x.notfraud.models.acme.io"])),
            `${REF} names hostnames outside the team's zone fraud.models.acme.io: x.notfraud.models.acme.io.`,
        );
    });
    it("reports a route without hostnames (it would take every hostname of the listener)", async () => {
        await assertHasResourceViolation(
            policy,
            args((r) => delete r.spec.hostnames),
            `${REF} names no hostnames: it would answer for every hostname of its listeners; name hostnames under fraud.models.acme.io.`,
        );
    });
    it("reports another gateway, the plain-HTTP listener, every listener, or a parent in the route's own namespace", async () => {
        const parent = (r: Record<string, any>) => r.spec.parentRefs[0];
        await assertHasResourceViolation(
            policy,
            args((r) => (parent(r).name = "internal")),
            `${REF} attaches to Gateway ingress-nginx/internal (listener https); ${ONLY}`,
        );
        await assertHasResourceViolation(
            policy,
            args((r) => (parent(r).sectionName = "http")),
            `${REF} attaches to Gateway ingress-nginx/platform (listener http); ${ONLY}`,
        );
        await assertHasResourceViolation(
            policy,
            args((r) => delete parent(r).sectionName),
            `${REF} attaches to Gateway ingress-nginx/platform (every listener); ${ONLY}`,
        );
        await assertHasResourceViolation(
            policy,
            args((r) => delete parent(r).namespace),
            `${REF} attaches to Gateway ml-fraud/platform (listener https); ${ONLY}`,
        );
        await assertHasResourceViolation(
            policy,
            args((r) => (parent(r).kind = "Service")),
            `${REF} attaches to Service ingress-nginx/platform (listener https); ${ONLY}`,
        );
    });
    it("refuses every route when the config names no gateway or suffix (fail closed)", async () => {
        const run = await runResourcePolicy(
            policy,
            args(() => {}, {}),
        );
        expect(run.violations.map((v) => v.message)).toEqual([
            `${REF}: the policy config sets no hostnameSuffix, so no hostname is allowed.`,
            `${REF} attaches to Gateway ingress-nginx/platform (listener https); only the platform's gateway listeners none (the policy config names no gateway) are allowed.`,
        ]);
    });
    it("does not apply outside serving namespaces", async () => {
        await assertResourceNotApplicable(
            policy,
            args((r) => (r.metadata.namespace = "mlflow")),
            "not in a team's serving namespace (ml-<team>): mlflow",
        );
    });
});

describe("its configuration and admission rule", () => {
    it("names, in every stack, the gateway of the platform's own configuration (mlops:cluster.gatewayNamespace, mlops:serving.gateway)", () => {
        for (const stack of STACKS) {
            const platform = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, any> };
            const config = readPackConfig(stack, "mlops-security")["httproute-gateway-hostnames"] as unknown as typeof CONFIG & { enforcementLevel: string };
            expect(config.enforcementLevel, stack).toBe("mandatory");
            expect(
                config.gateways.map((g) => g.namespace),
                stack,
            ).toEqual([platform.config["mlops:cluster"].gatewayNamespace]);
            const gateway = platform.config["mlops:serving"].gateway as { name: string; sectionName: string; hostnameSuffix: string };
            expect(config.gateways, stack).toEqual([
                { namespace: platform.config["mlops:cluster"].gatewayNamespace, name: gateway.name, sectionNames: [gateway.sectionName] },
            ]);
            expect(config.hostnameSuffix, stack).toBe(gateway.hostnameSuffix);
        }
    });
    it("judges HTTPRoutes by the namespace's team, with the stack's gateways and suffix", () => {
        const rule = admissionRules({ packs: PACKS, environment: "prod", labelDomain: "acme.io", config: (pack) => readPackConfig("prod", pack) }).find(
            (r) => r.policy === "httproute-gateway-hostnames",
        )!;
        expect(rule.spec.matchConstraints.resourceRules).toEqual([
            { apiGroups: ["gateway.networking.k8s.io"], apiVersions: ["v1"], resources: ["httproutes"], operations: ["CREATE", "UPDATE"] },
        ]);
        expect(rule.spec.variables.map((v) => v.name)).toEqual(["labels", "team"]);
        const [named, zone, parents] = rule.spec.validations.map((v) => v.expression);
        expect(named).toBe("has(object.spec.hostnames) && size(object.spec.hostnames) > 0");
        expect(zone).toBe("!has(object.spec.hostnames) || object.spec.hostnames.all(h, h.endsWith('.' + variables.team + '.models.acme.io'))");
        expect(parents).toContain("in ['ingress-nginx/platform/https']");
        expect(rule.validationActions).toEqual(["Deny"]);
    });
});
