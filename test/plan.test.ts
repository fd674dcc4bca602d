/**
 * The offline plan, in process: it registers exactly what the harness registers for each stack, its
 * manifests round-trip through YAML and validate, nothing secret leaves, and on the fixture project the
 * policy run (violations, remediations, stack policy config) and URNs are what the Pulumi engine gives.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { validateObjects } from "../engine/kubernetes";
import { describeFailure, EXIT, planStack } from "../engine/plan";
import { PolicyConfigError } from "../engine/policyConfig";
import { MANIFEST_SECRET_PLACEHOLDER, manifestFiles, planDocument } from "../engine/render";
import { isSecret, redact, reveal } from "../engine/values";
import { ROOT, runStack, STACKS, vitestLoader } from "./harness";

const FIXTURE_PROJECT = path.join(ROOT, "test", "fixtures", "project");
const PACK = path.join(ROOT, "test", "fixtures", "policy-pack");

/** Every string held in a secret anywhere in `v`. */
function secretStrings(v: unknown, inSecret = false): string[] {
    if (isSecret(v)) return secretStrings(v.value, true);
    if (typeof v === "string") return inSecret && v.length >= 8 ? [v] : [];
    if (Array.isArray(v)) return v.flatMap((e) => secretStrings(e, inSecret));
    if (typeof v === "object" && v !== null) return Object.values(v).flatMap((e) => secretStrings(e, inSecret));
    return [];
}

describe.each(STACKS)("plan of %s", (stack) => {
    it("registers what the harness registers, writes valid manifests and leaks no secret", async () => {
        const run = await runStack(stack);
        const plan = await planStack({ root: ROOT, stack, policyPacks: [], policyTimeoutMs: 10_000, load: vitestLoader });
        expect(plan.project).toBe("mlops");
        const shape = (rs: typeof plan.resources) => rs.map((r) => ({ urn: r.urn, type: r.type, parent: r.parent, inputs: r.inputs }));
        expect(shape(plan.resources)).toEqual(shape(run.resources));
        expect(plan.exitCode).toBe(plan.schemaErrors.length ? EXIT.INVALID_KUBERNETES : EXIT.OK);
        expect(plan.schemaErrors).toEqual([]);

        const doc = planDocument({ ...plan, resources: plan.recording.resources, outputs: plan.recording.outputs, kubernetesObjects: plan.objects.length });
        expect(doc.resources.map((r) => r.urn)).toEqual(run.resources.map((r) => r.urn));
        expect(doc.resources.map((r) => r.inputs)).toEqual(run.resources.map((r) => redact(r.inputs, "[secret]")));

        const files = manifestFiles(plan.objects, plan.resources);
        expect(files.length).toBe(run.k8s().length);
        const parsed = files.map((f) => YAML.parse(f.content));
        for (const o of parsed) {
            expect(typeof o.apiVersion).toBe("string");
            expect(typeof o.kind).toBe("string");
            expect(o.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
        }
        expect(await validateObjects(parsed)).toEqual([]);
        for (const f of files) expect(f.path).toMatch(/^[^/]+\/[^/]+\/[a-z0-9]+-[^/]+\.yaml$/);

        const secrets = [...new Set(plan.resources.flatMap((r) => secretStrings(r.inputs)))];
        const written = JSON.stringify(doc) + files.map((f) => f.content).join("\n");
        for (const s of secrets) expect(written.includes(s), `secret value of length ${s.length} written out`).toBe(false);
        for (const o of parsed.filter((x) => x.kind === "Secret")) {
            for (const v of Object.values<string>(o.stringData ?? {})) expect(v).toBe(MANIFEST_SECRET_PLACEHOLDER);
        }
    });
});

describe("failures", () => {
    it("invalid stack config is reported as the ConfigError's message alone", async () => {
        const err = await planStack({ root: ROOT, stack: "dev", configOverrides: { "mlops:environment": "qa" }, policyPacks: [], policyTimeoutMs: 10_000, load: vitestLoader }).catch((e) => e);
        const { exitCode, message } = describeFailure(err, ROOT);
        expect(exitCode).toBe(EXIT.PROGRAM_ERROR);
        expect(message.split("\n")[0]).toBe('Invalid configuration for stack "dev" (1 problem):');
        expect(message).toContain("mlops:environment");
        expect(message).not.toMatch(/\n\s+at /);
    });
});

describe("the fixture project with the fixture pack", () => {
    it("records engine URNs: the full parent type chain, no root-stack prefix", async () => {
        const plan = await planStack({ root: FIXTURE_PROJECT, stack: "ok", policyPacks: [], policyTimeoutMs: 10_000, load: vitestLoader });
        const urns = plan.resources.map((r) => r.urn);
        expect(urns).toContain("urn:pulumi:ok::fixture::pulumi:pulumi:Stack::fixture-ok");
        expect(urns).toContain("urn:pulumi:ok::fixture::fixture:index:Team::fraud");
        expect(urns).toContain("urn:pulumi:ok::fixture::fixture:index:Team$fixture:index:Storage$aws:s3/bucket:Bucket::fraud-storage-data");
        expect(urns.filter((u) => u.includes("pulumi:pulumi:Stack$"))).toEqual([]);
        // The secure config value stays a secret placeholder and is masked on the way out.
        const secret = plan.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!;
        expect(isSecret(secret.inputs.stringData)).toBe(true);
        expect(reveal<any>(secret.inputs.stringData).password).toBe("offline-plan-secret-placeholder");
        const file = manifestFiles(plan.objects, plan.resources).find((f) => f.path === "fraud/fraud/secret-db.yaml")!;
        expect(YAML.parse(file.content).stringData).toEqual({ password: MANIFEST_SECRET_PLACEHOLDER });
    });

    it("reports the mandatory violation, applies the remediation and reads the pack's config file", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-pack-config-"));
        const configFile = path.join(tmp, "ok.json");
        fs.writeFileSync(configFile, JSON.stringify({ "max-buckets": { maxBuckets: 0 } }));
        const plan = await planStack({
            root: FIXTURE_PROJECT,
            stack: "ok",
            configOverrides: { "fixture:mode": "violate" },
            policyPacks: [{ dir: PACK, configFile }],
            policyTimeoutMs: 20_000,
            load: vitestLoader,
        });
        fs.rmSync(tmp, { recursive: true, force: true });
        expect(plan.exitCode).toBe(EXIT.MANDATORY_VIOLATIONS);
        const bucketUrn = "urn:pulumi:ok::fixture::fixture:index:Team$fixture:index:Storage$aws:s3/bucket:Bucket::fraud-storage-data";
        expect(plan.policy!.violations.map((v) => [v.stage, v.enforcementLevel, v.policyName, v.urn, v.message.split("\n")[1]])).toEqual([
            ["resource", "mandatory", "no-force-destroy", bucketUrn, "forceDestroy is true: deleting the stack would delete every object."],
            ["stack", "advisory", "max-buckets", "", "1 buckets, at most 0 allowed."],
        ]);
        expect(plan.policy!.violations[0].remediationSteps).toMatch(/^Set forceDestroy to false/);
        expect(plan.policy!.packs[0]).toMatchObject({ name: "mlops-fixture", version: "0.1.0", configFile });
        expect(plan.policy!.packs[0].config["max-buckets"]).toEqual({ enforcementLevel: "advisory", properties: { maxBuckets: 0 } });
        // The remediation reaches the plan's inputs and the manifests.
        expect(plan.policy!.remediations.map((m) => [m.policyName, m.urn])).toEqual([["namespace-checked-label", "urn:pulumi:ok::fixture::fixture:index:Team$kubernetes:core/v1:Namespace::fraud-ns"]]);
        const ns = plan.objects.find((o) => o.object.kind === "Namespace")!.object;
        expect(ns.metadata.labels).toEqual({ "policy.example.io/checked": "true" });
        expect(plan.recording.resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!.inputs).not.toHaveProperty("metadata.labels");
    });

    it("refuses a policy config that breaks a policy's schema, naming pack, version and field", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-pack-config-"));
        const configFile = path.join(tmp, "ok.json");
        fs.writeFileSync(configFile, JSON.stringify({ "max-buckets": { maxBuckets: -1 }, "no-force-destroy": "advisory" }));
        const err = await planStack({ root: FIXTURE_PROJECT, stack: "ok", policyPacks: [{ dir: PACK, configFile }], policyTimeoutMs: 20_000, load: vitestLoader }).catch((e) => e);
        fs.rmSync(tmp, { recursive: true, force: true });
        expect(err).toBeInstanceOf(PolicyConfigError);
        expect(err.message).toBe("validating policy config: mlops-fixture 0.1.0  max-buckets: maxBuckets: must be >= 0");
        expect(describeFailure(err, ROOT).exitCode).toBe(EXIT.POLICY_PACK_ERROR);
    });
});
