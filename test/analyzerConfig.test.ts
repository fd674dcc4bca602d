/**
 * Policy pack configuration as the Pulumi CLI handles `--policy-pack-config`: the file format, the
 * reconciliation of defaults, initial config and file, schema validation, and the default file lookup.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { findPolicyConfig, parsePolicyPackConfig, type PolicyConfigInfo, reconcilePolicyPackConfig } from "../engine/policyConfig";

const policies: PolicyConfigInfo[] = [
    { name: "a", enforcementLevel: "advisory" },
    {
        name: "b",
        enforcementLevel: "mandatory",
        configSchema: { properties: { max: { type: "integer", minimum: 0, default: 5 }, names: { type: "array", items: { type: "string" } } } },
    },
    { name: "c", enforcementLevel: "advisory", configSchema: { properties: { region: { type: "string" } }, required: ["region"] } },
];

describe("parsePolicyPackConfig", () => {
    it("reads levels and properties, dropping empty entries", () => {
        expect(parsePolicyPackConfig(`{"all": "mandatory", "a": {"enforcementLevel": "disabled"}, "b": {"max": 2}, "c": {}}`)).toEqual({
            all: { enforcementLevel: "mandatory" },
            a: { enforcementLevel: "disabled" },
            b: { properties: { max: 2 } },
        });
        expect(parsePolicyPackConfig("  \n")).toEqual({});
    });

    it("rejects what the CLI rejects", () => {
        expect(() => parsePolicyPackConfig(`{"a": "strict"}`)).toThrow(`parsing enforcement level for "a": "strict" is not a valid enforcement level`);
        expect(() => parsePolicyPackConfig(`{"a": {"enforcementLevel": 3}}`)).toThrow(/must be a string/);
        expect(() => parsePolicyPackConfig(`{"a": 3}`)).toThrow(/must be a string or object/);
        expect(() => parsePolicyPackConfig(`[1]`)).toThrow(/JSON object/);
        expect(() => parsePolicyPackConfig(`{`)).toThrow(/not valid JSON/);
    });
});

describe("reconcilePolicyPackConfig", () => {
    it("starts from each policy's level and schema defaults", () => {
        const { config, errors } = reconcilePolicyPackConfig(policies, undefined, { c: { properties: { region: "eu-west-1" } } });
        expect(errors).toEqual([]);
        expect(config).toEqual({
            a: { enforcementLevel: "advisory" },
            b: { enforcementLevel: "mandatory", properties: { max: 5 } },
            c: { enforcementLevel: "advisory", properties: { region: "eu-west-1" } },
        });
    });

    it("applies the pack's initial config, then the file, with `all` first", () => {
        const initial = { all: { enforcementLevel: "disabled" as const }, b: { properties: { max: 1 } } };
        const file = {
            all: { enforcementLevel: "advisory" as const },
            b: { enforcementLevel: "mandatory" as const, properties: { names: ["x"] } },
            c: { properties: { region: "r" } },
        };
        const { config } = reconcilePolicyPackConfig(policies, initial, file);
        expect(config.a).toEqual({ enforcementLevel: "advisory" });
        expect(config.b).toEqual({ enforcementLevel: "mandatory", properties: { max: 1, names: ["x"] } });
        expect(config.c).toEqual({ enforcementLevel: "advisory", properties: { region: "r" } });
    });

    it("validates properties against each policy's schema", () => {
        const { errors } = reconcilePolicyPackConfig(policies, undefined, { b: { properties: { max: -1, names: [1] } } });
        expect(errors).toEqual(["b: max: must be >= 0", "b: names.0: must be string", "c: must have required property 'region'"]);
    });
});

describe("findPolicyConfig", () => {
    it("prefers the pack's own file, then policy/config/<stack>/<pack>.json, policy/config/<pack>/, policy/config/", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-config-"));
        const pack = path.join(tmp, "policy", "guard");
        fs.mkdirSync(path.join(pack, "config"), { recursive: true });
        fs.mkdirSync(path.join(tmp, "policy", "config", "guard"), { recursive: true });
        expect(findPolicyConfig(pack, "dev")).toBeUndefined();
        const shared = path.join(tmp, "policy", "config", "dev.json");
        fs.writeFileSync(shared, "{}");
        expect(findPolicyConfig(pack, "dev")).toBe(shared);
        const perPack = path.join(tmp, "policy", "config", "guard", "dev.json");
        fs.writeFileSync(perPack, "{}");
        expect(findPolicyConfig(pack, "dev")).toBe(perPack);
        fs.mkdirSync(path.join(tmp, "policy", "config", "dev"), { recursive: true });
        const perStack = path.join(tmp, "policy", "config", "dev", "guard.json");
        fs.writeFileSync(perStack, "{}");
        expect(findPolicyConfig(pack, "dev")).toBe(perStack);
        const own = path.join(pack, "config", "dev.json");
        fs.writeFileSync(own, "{}");
        expect(findPolicyConfig(pack, "dev")).toBe(own);
        expect(findPolicyConfig(pack, "prod")).toBeUndefined();
        fs.rmSync(tmp, { recursive: true, force: true });
    });
});
