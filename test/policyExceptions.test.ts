/**
 * The chart exceptions of policy/config (`chartExceptions`) and their table in docs/policy-exceptions.md
 * say the same: the same (policy, resource) pairs with the same reason, in every stack that has the policy.
 * (Whether each is still needed is checked against the rendered charts in e2e/charts.e2e.test.ts.)
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { readPackConfig } from "../policy/framework/configFiles";
import { PACKS, STACKS } from "../policy/packs";
import { ROOT } from "./harness";

type Row = { policy: string; resource: string; reason: string };
const key = (r: Row) => `${r.policy} ${r.resource} ${r.reason}`;

function documented(): Row[] {
    const text = fs.readFileSync(path.join(ROOT, "docs", "policy-exceptions.md"), "utf8");
    const section = text.slice(text.indexOf("## Chart exceptions"));
    return section
        .split("\n")
        .filter((l) => l.startsWith("| ") && !l.startsWith("| Policy") && !l.startsWith("|---"))
        .flatMap((l) => {
            const [policies, resources, reason] = l.split(" | ").map((c) => c.replace(/^\| /, ""));
            const rs = [...resources.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
            return policies.split(", ").flatMap((policy) => rs.map((resource) => ({ policy, resource, reason })));
        });
}

function configured(stack: string): Row[] {
    return PACKS.flatMap((pack) =>
        Object.entries(readPackConfig(stack, pack.name)).flatMap(([policy, v]) =>
            typeof v === "object" ? ((v.chartExceptions as { resource: string; reason: string }[] | undefined) ?? []).map((e) => ({ policy, ...e })) : [],
        ),
    );
}

describe("chart exceptions", () => {
    it("the table documents some", () => {
        expect(documented().length).toBeGreaterThan(10);
    });
    it.each(STACKS.map((s) => [s]))("%s: the config files hold exactly the documented exceptions", (stack) => {
        expect(configured(stack).map(key).sort()).toEqual(documented().map(key).sort());
    });
});
