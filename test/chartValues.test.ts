/**
 * The check that the values the platform sets exist in the chart (engine/chartValues.ts), on a fixture
 * chart with a dependency. The pinned charts themselves are checked in e2e/charts.e2e.test.ts, which
 * reads their values.yaml from the charts cache.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { chartDefaults, checkValues, unknownValuePaths } from "../engine/chartValues";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chart-values-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
};
write(
    "parent/Chart.yaml",
    "name: parent\nversion: 1.0.0\ndependencies:\n  - name: child\n    version: 2.0.0\n  - name: other\n    alias: renamed\n    version: 1.0.0\n",
);
write("parent/values.yaml", "replicas: 1\npodLabels: {}\nsecurityContext:\n  runAsNonRoot: true\nchild:\n  extra: true\nconfig:\n  a: 1\n");
write("parent/charts/child/Chart.yaml", "name: child\nversion: 2.0.0\n");
write("parent/charts/child/values.yaml", 'admin:\n  existingSecret: ""\n  userKey: admin-user\n');
write("parent/charts/other/Chart.yaml", "name: other\nversion: 1.0.0\n");
write("parent/charts/other/values.yaml", "enabled: true\n");
write("schema/Chart.yaml", "name: schema\nversion: 1.0.0\n");
write("schema/values.yaml", "replicas: 1\n");
write("schema/values.schema.json", JSON.stringify({ type: "object", properties: { replicas: { type: "integer", minimum: 1 } } }));

describe("the values the platform sets exist in the chart", () => {
    it("coalesces a dependency's defaults under its name or alias with the parent's section", () => {
        expect(chartDefaults(path.join(dir, "parent"))).toMatchObject({
            child: { admin: { existingSecret: "", userKey: "admin-user" }, extra: true },
            renamed: { enabled: true },
            replicas: 1,
        });
    });

    it("accepts values the chart has, anything under an empty map, a scalar or a pass-through key", () => {
        const values = {
            replicas: 3,
            podLabels: { team: "x" },
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            child: { admin: { existingSecret: "s", userKey: "u" } },
            renamed: { enabled: false },
            config: { a: { nested: true } },
        };
        expect(checkValues(path.join(dir, "parent"), values)).toEqual([]);
    });

    it("a renamed value fails, with its path", () => {
        expect(checkValues(path.join(dir, "parent"), { child: { admin: { existingSecretName: "s" } }, replica: 2, config: { b: 1 } })).toEqual([
            "child.admin.existingSecretName is not a value of the chart",
            "replica is not a value of the chart",
            "config.b is not a value of the chart",
        ]);
        expect(unknownValuePaths({ other: { enabled: true } }, chartDefaults(path.join(dir, "parent")))).toEqual(["other"]);
    });

    it("validates against the chart's values.schema.json where it ships one", () => {
        expect(checkValues(path.join(dir, "schema"), { replicas: 2 })).toEqual([]);
        expect(checkValues(path.join(dir, "schema"), { replicas: 0 })).toEqual(["/replicas must be >= 1"]);
    });
});
