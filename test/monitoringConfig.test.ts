/**
 * The `teams`, `serving`, `monitoring` and `alertmanagerCredentials` stack config: defaults per
 * environment, and errors that name the key, the value and what is allowed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, ENVIRONMENT_DEFAULTS, parsePlatformConfig, quantityValue, teamQuota, teamSlo, teamsIn } from "../stacks/config";
import { configNamespace, readProject, readStackConfig } from "../engine/project";
import { ROOT } from "./harness";

/** The decoded `mlops:` keys of a real stack file. */
function raw(stack: string): Record<string, any> {
    return Object.fromEntries(
        Object.entries(configNamespace(readStackConfig(readProject(ROOT), stack).config, "mlops")).map(([k, v]) => [
            k,
            v.startsWith("{") || v.startsWith("[") ? JSON.parse(v) : v,
        ]),
    );
}

function problems(stack: string, edit: (r: Record<string, any>) => void): string[] {
    const r = structuredClone(raw(stack));
    edit(r);
    try {
        parsePlatformConfig(r, stack);
    } catch (err) {
        if (err instanceof ConfigError) return [...err.problems];
        throw err;
    }
    throw new Error("expected a ConfigError, but the config was accepted");
}

describe("defaults per environment", () => {
    it("size monitoring and serving namespaces up from dev to prod", () => {
        const [dev, test, prod] = (["dev", "test", "prod"] as const).map((s) => parsePlatformConfig(raw(s), s));
        expect(dev.monitoring.prometheus.replicas).toBe(1);
        expect(prod.monitoring.prometheus.replicas).toBeGreaterThanOrEqual(2);
        expect(prod.monitoring.alertmanager.replicas).toBeGreaterThanOrEqual(3);
        expect(dev.monitoring.prometheus.retentionDays).toBeLessThan(test.monitoring.prometheus.retentionDays);
        expect(test.monitoring.prometheus.retentionDays).toBeLessThan(prod.monitoring.prometheus.retentionDays);
        expect(dev.monitoring.pushgateway.persistence).toBe(false);
        expect(prod.monitoring.pushgateway.persistence).toBe(true);
        expect(quantityValue(dev.serving.quota.cpu)).toBeLessThan(quantityValue(prod.serving.quota.cpu));
        // SLOs tighten towards prod.
        expect(dev.monitoring.slo.errorRatio).toBeGreaterThan(prod.monitoring.slo.errorRatio);
        expect(dev.monitoring.namespace).toBe("monitoring");
        for (const env of ["dev", "test", "prod"] as const) expect(ENVIRONMENT_DEFAULTS[env].monitoring?.slo).toBeDefined();
    });

    it("teams exist only where they say, with their quota and SLO overrides", () => {
        const prod = parsePlatformConfig(raw("prod"), "prod");
        expect(prod.teams.map((t) => t.name)).toEqual(["fraud", "recsys"]);
        expect(teamsIn(prod).map((t) => t.name)).toEqual(["fraud"]);
        const fraud = prod.teams[0];
        expect(teamQuota(prod, fraud)).toEqual({ ...prod.serving.quota, cpu: "48", memory: "96Gi", limitsCpu: "96", limitsMemory: "192Gi" });
        const dev = parsePlatformConfig(raw("dev"), "dev");
        expect(teamSlo(dev, dev.teams[1])).toEqual({ ...dev.monitoring.slo, latencyP95Seconds: 0.15 });
        expect(dev.teams[0].driftChecks[0]).toEqual({ model: "fraud-scorer", alias: "champion", schedule: "15 * * * *", intervalMinutes: 60, windowHours: 24 });
        expect(dev.teams[1].alerts.pagerduty).toBe(false);
    });
});

describe("errors name the key, the value and what is allowed", () => {
    it("a typo in a team key suggests the right one", () => {
        expect(problems("dev", (r) => (r.teams[0].deployGroups = r.teams[0].deployGroup))).toEqual([
            expect.stringMatching(
                /^mlops:teams\[0\]\.deployGroups: unknown key; did you mean "mlops:teams\[0\]\.deployGroup"\? Allowed keys here: name, owners, deployGroup, deployRoleArns, environments/,
            ),
        ]);
    });

    it("rejects a system: deploy group, a duplicate team and a team named like a receiver", () => {
        expect(problems("dev", (r) => (r.teams[0].deployGroup = "system:masters"))).toEqual([
            'mlops:teams[0].deployGroup (team "fraud"): got "system:masters"; expected a group of the organisation, not a Kubernetes system: group.',
        ]);
        expect(problems("dev", (r) => (r.teams[1].name = "fraud"))).toContain(
            'mlops:teams[1].name (team "fraud"): got "fraud"; expected a name no other team has.',
        );
        expect(problems("dev", (r) => (r.teams[1].name = "ml-platform"))).toContain(
            'mlops:teams[1].name (team "ml-platform"): got "ml-platform"; expected a name other than the platform owner (mlops:owner) and "null" (both are Alertmanager receivers).',
        );
    });

    it("maps a deploy role once: an IAM role ARN, not listed twice, not by two teams", () => {
        const fraudRole = "arn:aws:iam::210987654321:role/team-fraud-deploy";
        expect(problems("dev", (r) => (r.teams[0].deployRoleArns = ["arn:aws:iam::21098765432:role/x"]))).toEqual([
            'mlops:teams[0].deployRoleArns[0] (team "fraud"): got "arn:aws:iam::21098765432:role/x"; expected an IAM role ARN like arn:aws:iam::123456789012:role/team-fraud-deploy.',
        ]);
        expect(problems("dev", (r) => (r.teams[0].deployRoleArns = [fraudRole, fraudRole]))).toEqual([
            `mlops:teams[0].deployRoleArns[1] (team "fraud"): got "${fraudRole}"; expected a role no other entry maps (listed twice): EKS keeps one access entry per principal.`,
        ]);
        expect(problems("dev", (r) => (r.teams[1].deployRoleArns = [fraudRole]))).toEqual([
            `mlops:teams[1].deployRoleArns[0] (team "recsys"): got "${fraudRole}"; expected a role no other entry maps (teams[0] (team "fraud") maps it): EKS keeps one access entry per principal.`,
        ]);
        // Optional: a team without deploy roles is valid.
        expect(() => problems("dev", (r) => delete r.teams[0].deployRoleArns)).toThrow("the config was accepted");
    });

    it("checks formats: team names, owners, Slack channels, environments, SLO ranges", () => {
        const p = problems("test", (r) => {
            r.teams[0].name = "Fraud_Team";
            r.teams[0].owners = [];
            r.teams[0].alerts.slackChannel = "fraud-alerts";
            r.teams[0].environments = ["staging"];
            r.monitoring.slo = { errorRatio: 2 };
        });
        expect(p).toEqual(
            expect.arrayContaining([
                'mlops:teams[0].name (team "Fraud_Team"): got "Fraud_Team"; expected 2-20 lower-case letters, digits and -, starting with a letter.',
                'mlops:teams[0].owners (team "Fraud_Team"): got []; expected at least one owner.',
                'mlops:teams[0].alerts.slackChannel (team "Fraud_Team"): got "fraud-alerts"; expected a Slack channel like #fraud-ml-alerts (lower-case).',
                'mlops:teams[0].environments[0] (team "Fraud_Team"): got "staging"; expected one of dev, test, prod.',
                "mlops:monitoring.slo.errorRatio: got 2; expected a ratio above 0 and at most 1.",
            ]),
        );
    });

    it("requires the runbook URL and a drift-check image pinned by digest outside dev", () => {
        expect(problems("prod", (r) => delete r.monitoring.runbookBaseUrl)).toEqual([
            "mlops:monitoring.runbookBaseUrl: got nothing (the key is missing); a value is required: an https:// URL of the docs/runbooks folder, without a trailing slash.",
        ]);
        expect(problems("prod", (r) => (r.monitoring.driftCheckImage = "410987654321.dkr.ecr.eu-west-1.amazonaws.com/mlops-drift-check:0.4.0"))).toEqual([
            'mlops:monitoring.driftCheckImage: got "410987654321.dkr.ecr.eu-west-1.amazonaws.com/mlops-drift-check:0.4.0"; expected an image pinned by digest (repo@sha256:...) in prod.',
        ]);
        // Without a prebuilt image the platform builds images/drift-check (stacks/platform.ts).
        for (const stack of ["dev", "prod"]) {
            const r = structuredClone(raw(stack));
            delete r.monitoring.driftCheckImage;
            expect(parsePlatformConfig(r, stack).monitoring.driftCheckImage).toBeUndefined();
        }
        expect(problems("dev", (r) => (r.monitoring.driftCheckImage = "ghcr.io/acme/drift:latest"))).toEqual([
            'mlops:monitoring.driftCheckImage: got "ghcr.io/acme/drift:latest"; expected a pinned image, not :latest.',
        ]);
    });

    it("quota limits must cover requests, LimitRange defaults must fit the maximum", () => {
        expect(problems("prod", (r) => (r.teams[0].quota.limitsCpu = "24"))).toEqual([
            'mlops:teams[0].quota.limitsCpu (team "fraud"): got "24"; expected at least the requests quota "48" (cpu).',
        ]);
        expect(problems("dev", (r) => (r.serving = { limitRange: { defaultMemoryLimit: "8Gi" } }))).toEqual([
            'mlops:serving.limitRange.defaultMemoryLimit: got "8Gi"; expected at most maxMemory ("4Gi").',
        ]);
        expect(problems("prod", (r) => (r.teams[0].quota.limitsEphemeralStorage = "64Gi"))).toEqual([
            'mlops:teams[0].quota.limitsEphemeralStorage (team "fraud"): got "64Gi"; expected at least the requests quota "128Gi" (ephemeralStorage).',
        ]);
        expect(problems("dev", (r) => (r.serving = { limitRange: { defaultEphemeralStorageRequest: "2Gi" } }))).toEqual([
            'mlops:serving.limitRange.defaultEphemeralStorageRequest: got "2Gi"; expected at most defaultEphemeralStorageLimit ("1Gi").',
        ]);
        expect(problems("dev", (r) => (r.serving = { limitRange: { defaultEphemeralStorageLimit: "16Gi" } }))).toEqual([
            'mlops:serving.limitRange.defaultEphemeralStorageLimit: got "16Gi"; expected at most maxEphemeralStorage ("8Gi").',
        ]);
    });

    it("receiver credentials must name a receiver, and their values are never shown", () => {
        const secret = "https://hooks.slack.com/services/T000/B000/very-secret";
        const p = problems("dev", (r) => (r.alertmanagerCredentials = { "fraud-slack-webhook": secret, "recsys-slack-webhook-url": secret }));
        expect(p).toEqual([
            'mlops:alertmanagerCredentials.fraud-slack-webhook: unknown credential; did you mean "fraud-slack-webhook-url"? Expected <receiver>-slack-webhook-url or <receiver>-pagerduty-routing-key, where the receiver is ml-platform, fraud, recsys.',
        ]);
        expect(p.join("\n")).not.toContain(secret);
        expect(problems("dev", (r) => (r.alertmanagerCredentials = { "fraud-slack-webhook-url": "" }))).toEqual([
            'mlops:alertmanagerCredentials.fraud-slack-webhook-url: got ""; expected a non-empty string.',
        ]);
    });
});

describe("quantityValue", () => {
    it.each([
        ["500m", 0.5],
        ["2", 2],
        ["1.5", 1.5],
        ["512Mi", 512 * 1024 ** 2],
        ["4Gi", 4 * 1024 ** 3],
        ["1k", 1000],
        ["2G", 2e9],
    ])("%s = %s", (q, v) => expect(quantityValue(q)).toBe(v));

    it("orders Mi below Gi consistently (property)", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 1023 }), fc.integer({ min: 1, max: 64 }), (mi, gi) => quantityValue(`${mi}Mi`) < quantityValue(`${gi}Gi`)),
        );
    });

    it("rejects what is not a quantity", () => {
        expect(() => quantityValue("two")).toThrow('not a Kubernetes quantity: "two"');
    });
});
