/**
 * The offline plan in process: failures give one message and the documented exit code, URNs are the
 * engine's, secure config stays secret on the way out, and schema errors name the field. (The plans of
 * the real stacks are checked against the harness through the CLI, in test/planCli.test.ts.)
 */
import * as path from "path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { validateObject } from "../engine/kubernetes";
import { describeFailure, EXIT, planStack } from "../engine/plan";
import { MANIFEST_SECRET_PLACEHOLDER, manifestFiles, planDocument } from "../engine/render";
import { recordStack } from "../engine/stack";
import { isSecret, reveal } from "../engine/values";
import { ROOT, vitestLoader } from "./harness";

const FIXTURE_PROJECT = path.join(ROOT, "test", "fixtures", "project");
const base = { policyPacks: [], policyTimeoutMs: 10_000, load: vitestLoader };

describe("failures", () => {
    it("invalid stack config is reported as the ConfigError's message alone", async () => {
        const err = await planStack({ ...base, root: ROOT, stack: "dev", configOverrides: { "mlops:environment": "qa" } }).catch((e) => e);
        const { exitCode, message } = describeFailure(err, ROOT);
        expect(exitCode).toBe(EXIT.PROGRAM_ERROR);
        expect(message.split("\n")[0]).toBe('Invalid configuration for stack "dev" (1 problem):');
        expect(message).toContain("mlops:environment");
        expect(message).not.toMatch(/\n\s+at /);
    });

    it("a crashing program is a ProgramError with one message and where it threw", async () => {
        const err = await planStack({ ...base, root: FIXTURE_PROJECT, stack: "ok", configOverrides: { "fixture:mode": "crash" } }).catch((e) => e);
        const { exitCode, message } = describeFailure(err, ROOT);
        expect(exitCode).toBe(EXIT.PROGRAM_ERROR);
        const [first, ...rest] = message.split("\n");
        expect(first).toBe("the program failed: fixture program crashed on purpose");
        expect(rest).toEqual([expect.stringMatching(/^ {4}at .*test\/fixtures\/project\/index\.ts:\d+:\d+\)?$/)]);
    });

    it("an unknown stack is a project error", async () => {
        const err = await planStack({ ...base, root: FIXTURE_PROJECT, stack: "nope" }).catch((e) => e);
        expect(describeFailure(err, ROOT)).toEqual({
            exitCode: EXIT.PROGRAM_ERROR,
            message: expect.stringMatching(/^no stack "nope": .*Pulumi\.nope\.yaml does not exist \(stacks here: ok\)$/),
        });
    });
});

describe("the fixture project", () => {
    it("records engine URNs, keeps secure config secret and masks it on the way out", async () => {
        const plan = await planStack({ ...base, root: FIXTURE_PROJECT, stack: "ok" });
        expect(plan.exitCode).toBe(EXIT.OK);
        const urns = plan.resources.map((r) => r.urn);
        // The full parent type chain, and no root-stack prefix, as `resource.NewURN` in the engine.
        expect(urns).toContain("urn:pulumi:ok::fixture::pulumi:pulumi:Stack::fixture-ok");
        expect(urns).toContain("urn:pulumi:ok::fixture::fixture:index:Team::fraud");
        expect(urns).toContain("urn:pulumi:ok::fixture::fixture:index:Team$fixture:index:Storage$aws:s3/bucket:Bucket::fraud-storage-data");
        expect(urns.filter((u) => u.includes("pulumi:pulumi:Stack$"))).toEqual([]);

        const secret = plan.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!;
        expect(isSecret(secret.inputs.stringData)).toBe(true);
        expect(reveal<any>(secret.inputs.stringData).password).toBe("offline-plan-secret-placeholder");
        const files = manifestFiles(plan.objects, plan.resources);
        expect(files.map((f) => f.path).sort()).toEqual([
            "_cluster/fraud/namespace-fraud.yaml",
            "fraud/fraud/configmap-settings.yaml",
            "fraud/fraud/deployment-api.yaml",
            "fraud/fraud/secret-db.yaml",
        ]);
        expect(YAML.parse(files.find((f) => f.path === "fraud/fraud/secret-db.yaml")!.content).stringData).toEqual({ password: MANIFEST_SECRET_PLACEHOLDER });
        const doc = planDocument({ ...plan, resources: plan.recording.resources, outputs: plan.recording.outputs, kubernetesObjects: plan.objects.length });
        expect(doc.resources.find((r) => r.urn === secret.urn)).toMatchObject({ inputs: { stringData: "[secret]" }, secretInputs: ["stringData"] });
        expect(JSON.stringify(doc)).not.toContain("offline-plan-secret-placeholder");
    });
});

describe("the register hook (where policy packs run)", () => {
    it("sees each registration with earlier ones, and its replacement inputs reach the mocks and the record", async () => {
        const seen: string[] = [];
        const recording = await recordStack({
            root: FIXTURE_PROJECT,
            stack: "ok",
            load: vitestLoader,
            onRegister: async (r, lookup) => {
                seen.push(r.type);
                if (r.provider) expect(lookup(r.provider.slice(0, r.provider.lastIndexOf("::")))?.type).toMatch(/^pulumi:providers:/);
                if (r.type !== "kubernetes:core/v1:Namespace") return undefined;
                const inputs = reveal<any>(r.inputs);
                return { ...inputs, metadata: { ...inputs.metadata, labels: { checked: "true" } } };
            },
        });
        expect(seen).toEqual(recording.resources.map((r) => r.type));
        const ns = recording.resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
        expect(reveal<any>(ns.inputs).metadata.labels).toEqual({ checked: "true" });
        // As a remediation in the engine, the provider (here the mocks) saw the new inputs.
        expect(reveal<any>(ns.outputs).metadata.labels).toEqual({ checked: "true" });
    });
});

describe("schema validation", () => {
    it("names the object, the field and the error; unknown kinds have no schema", async () => {
        const deployment = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "api", namespace: "t" },
            spec: { replicas: "two", selector: {}, template: {} },
        };
        expect(await validateObject(deployment as any)).toContainEqual({ object: "Deployment/t/api", path: "/spec/replicas", message: "must be integer" });
        expect(await validateObject({ ...deployment, spec: { ...deployment.spec, replicas: 2 } } as any)).toEqual([]);
        expect(await validateObject({ apiVersion: "example.io/v1", kind: "Widget", metadata: { name: "w" } })).toEqual([
            { object: "Widget/w", path: "", message: "no schema for example.io/v1 Widget" },
        ]);
    });
});
