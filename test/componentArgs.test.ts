/**
 * Components called from plain JavaScript or untyped configuration: every missing argument, wrong type,
 * unknown key and invalid value is reported in one message naming each argument, never a TypeError
 * from inside the component, and never in rounds (a bad model URI does not hide a bad image).
 */
import { describe, expect, it } from "vitest";
import { validateBatchInferenceArgs } from "../components/team/batchInference";
import { validateModelServiceArgs } from "../components/team/modelService";
import { platformReferenceProblems } from "../components/team/platformReference";
import { closest, shapeProblems } from "../components/team/argShape";
import { DIGEST_REF, platformRefs, prodArgs } from "./modelServiceFixtures";

const NOW = new Date("2026-11-20T00:00:00Z");

function errorOf(fn: () => void): string {
    try {
        fn();
    } catch (e) {
        return (e as Error).message;
    }
    throw new Error("expected the arguments to be refused");
}

describe("ModelService from untyped arguments", () => {
    it("a missing predictionLogging, a bad model URI, an unpinned image, a typo and a string where a number goes: one message with all five", () => {
        const args: any = {
            ...prodArgs(),
            modelUri: "fraud-scorer:12",
            image: { reference: "registry.example.io/scorer:1.0" },
            replicas: { min: "3", max: 12 },
            sloo: {},
        };
        delete args.predictionLogging;
        expect(errorOf(() => validateModelServiceArgs("fraud-scorer", args, NOW))).toBe(
            'ModelService "fraud-scorer": replicas.min must be an integer, got "3" (a string); ' +
                "predictionLogging is required: { enabled, sampleRate?, prefix? }; " +
                "sloo is not an argument; did you mean slo?; " +
                'model URI "fraud-scorer:12" is malformed: expected models:/<name>/<version> or models:/<name>@<alias>; ' +
                'image "registry.example.io/scorer:1.0" must be pinned by digest (repo@sha256:...) in prod.',
        );
    });

    it("no arguments at all, or an empty object: every required argument named, no TypeError", () => {
        expect(errorOf(() => validateModelServiceArgs("s", undefined as any, NOW))).toBe(
            'ModelService "s": the arguments must be an object, got undefined (a undefined).',
        );
        const message = errorOf(() => validateModelServiceArgs("s", {} as any, NOW));
        for (const key of ["team", "owners", "platform", "modelUri", "image", "resources", "replicas", "predictionLogging", "slo"])
            expect(message).toContain(`${key} is required`);
        expect(message).not.toMatch(/Cannot read|undefined \(reading/);
    });

    it("nested: a platform without its environment and an SLO with a string threshold", () => {
        const { environment: _e, ...platform } = platformRefs("prod");
        const message = errorOf(() =>
            validateModelServiceArgs("s", { ...prodArgs(), platform, slo: { latencyP95Seconds: "0.2", errorRatio: 0.01 } } as any, NOW),
        );
        expect(message).toContain("platform.environment is required: dev, test or prod");
        expect(message).toContain('slo.latencyP95Seconds must be a number, got "0.2" (a string)');
        expect(message).not.toContain('platform.environment "undefined"');
    });
});

describe("BatchInference and readPlatform from untyped arguments", () => {
    it("a BatchInference without input and with a bad schedule type: both named", () => {
        const args: any = { ...prodArgs(), image: { reference: DIGEST_REF }, schedule: 2 };
        for (const k of ["replicas", "autoscaling", "inputSchema", "predictionLogging", "slo"]) delete args[k];
        expect(errorOf(() => validateBatchInferenceArgs("nightly", args, NOW))).toBe(
            'BatchInference "nightly": schedule must be a string, got 2 (a number); input is required: { prefix }.',
        );
    });

    it("readPlatform: missing and invalid arguments at once", () => {
        expect(
            platformReferenceProblems({
                stack: "mlops/prod",
                team: "fraud",
                environment: "prod",
                labelDomain: "acme",
                runbookBaseUrl: "https://x/y",
                deployRoleArnn: "x",
            } as any),
        ).toEqual([
            "costCentre is required: the cost centre the team's objects are billed to",
            "deployRoleArnn is not an argument; did you mean deployRoleArn?",
            'stack "mlops/prod" must be a fully qualified stack name like acme/mlops/prod',
            'labelDomain "acme" must be a DNS domain like acme.io',
        ]);
    });
});

describe("shapes", () => {
    it("did-you-mean only for near misses", () => {
        expect(closest("sampleRte", ["enabled", "sampleRate", "prefix"])).toBe("sampleRate");
        expect(closest("colour", ["enabled", "sampleRate", "prefix"])).toBeUndefined();
        expect(shapeProblems({ a: 1, zzz: 2 }, { a: { kind: "number" } })).toEqual([{ path: "zzz", message: "zzz is not an argument (known here: a)" }]);
    });
});

describe("nothing crashes on any single missing or mistyped argument", () => {
    const base = { ...prodArgs(), schedule: "0 2 * * *", input: { prefix: "batch-inputs/fraud/daily" } } as Record<string, unknown>;
    const keys = Object.keys(base);
    it.each(keys)("%s: missing, a number, a string, a list", (key) => {
        for (const value of [undefined, 7, "x", ["x"], {}]) {
            const args = { ...base, [key]: value };
            for (const validate of [validateModelServiceArgs, validateBatchInferenceArgs]) {
                let message = "";
                try {
                    validate("w", args as any, NOW);
                } catch (e) {
                    message = (e as Error).message;
                }
                expect(message).not.toMatch(/is not a function|Cannot read|undefined \(reading/);
            }
        }
    });
});
