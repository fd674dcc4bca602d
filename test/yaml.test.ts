/**
 * The YAML the platform writes (manifests, Prometheus rule files, alertmanager.yaml) reads back
 * unchanged in YAML 1.1 readers (kubectl, go-yaml v2) and 1.2 readers alike.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { ruleFileYaml } from "../components/shared/alertRules";
import { portableYaml } from "../components/shared/yaml";

describe("portableYaml", () => {
    it("reads back unchanged with a YAML 1.1 and a YAML 1.2 reader", () => {
        // Strings that YAML 1.1 or 1.2 would read as booleans, null, numbers, dates or merge keys.
        const tricky = fc.constantFrom(
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "Y",
            "NO",
            "True",
            "~",
            "null",
            "0777",
            "0o17",
            "0x1F",
            "1e3",
            "1_000",
            ".inf",
            "-.nan",
            "08",
            "2001-12-14",
            "12:30:45",
            "<<",
            "=",
            "- a",
            "a: b",
            "#x",
            "",
        );
        const value = fc.oneof(tricky, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(tricky, fc.string()), { maxLength: 3 }));
        const object = fc.dictionary(fc.oneof(tricky, fc.string({ minLength: 1 })), fc.oneof(value, fc.dictionary(tricky, value, { maxKeys: 3 })), {
            maxKeys: 6,
        });
        fc.assert(
            fc.property(object, (o) => {
                const text = portableYaml({ apiVersion: "v1", kind: "ConfigMap", data: o });
                for (const version of ["1.1", "1.2"] as const)
                    expect(YAML.parse(text, { version, merge: false })).toEqual({ apiVersion: "v1", kind: "ConfigMap", data: o });
            }),
            { numRuns: 1000, seed: 20261122 },
        );
    });

    it("quotes what YAML 1.1 takes for a boolean or a number, and nothing else", () => {
        expect(portableYaml({ a: "on", b: "yes", c: "1_000", d: "fraud-scorer", replicas: 3, f: true })).toBe(
            "a: 'on'\nb: 'yes'\nc: '1_000'\nd: fraud-scorer\nreplicas: 3\nf: true\n",
        );
    });
});

describe("rule files", () => {
    it("keep label values such as `yes` strings for Prometheus' YAML reader", () => {
        const groups = [
            {
                name: "g",
                rules: [
                    {
                        alert: "A",
                        expr: "up == 0",
                        for: "5m",
                        labels: { severity: "page", paging: "yes", tier: "on" },
                        annotations: { summary: "s\nsecond line" },
                    },
                ],
            },
        ];
        const text = ruleFileYaml(groups as any);
        expect(YAML.parse(text, { version: "1.1" })).toEqual({ groups });
        expect(text).toContain("paging: 'yes'");
    });
});
