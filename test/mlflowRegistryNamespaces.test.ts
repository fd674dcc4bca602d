/**
 * The registry namespaces' rendered configuration (components/platform/mlflowRegistryNamespaces.ts): rules taken
 * from the contract, a Python module that compiles and defines the function basic_auth.ini names, and a
 * ConfigMap name that follows the content. What the server does with them is shown on a real MLflow by
 * e2e/mlflow.e2e.test.ts.
 */
import { execFileSync } from "child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MLFLOW_TEAM_USER_PREFIX, MODEL_NAME, MODEL_NAME_MAX, mlflowTeamUsername, TEAM_NAME, teamModelPrefix } from "../components/contract";
import {
    REGISTRY_NAMESPACES_AUTH_FUNCTION,
    REGISTRY_NAMESPACES_MODULE,
    REGISTRY_NAMESPACES_MODULE_NAME,
    REGISTRY_NAMESPACES_RULES_FILE,
    registryNamespaceRules,
    registryNamespacesConfigMapName,
    registryNamespacesFiles,
} from "../components/platform/mlflowRegistryNamespaces";
import { MLFLOW_METRICS_USERNAME } from "../components/platform/mlflowTeamAccess";
import { ADMIN_USERNAME } from "../components/platform/mlflowTracking";

const teamName = fc.stringMatching(TEAM_NAME);

describe("registry namespace rules", () => {
    const rules = registryNamespaceRules();
    const teamUser = new RegExp(rules.teamUserPattern);

    it("recognise every team's MLflow user and capture its team", () => {
        fc.assert(
            fc.property(teamName, (team) => {
                expect(teamUser.exec(mlflowTeamUsername(team))?.[1]).toBe(team);
            }),
        );
    });

    it("recognise no other user: the admin, the metrics user, malformed team users", () => {
        for (const user of [ADMIN_USERNAME, MLFLOW_METRICS_USERNAME, MLFLOW_TEAM_USER_PREFIX, "team-Fraud", "team-fraud-", "xteam-fraud", "team-fraud\n"]) {
            expect(teamUser.test(user), JSON.stringify(user)).toBe(false);
        }
    });

    it("give each team the prefix ModelService checks, and the registry's name format", () => {
        fc.assert(
            fc.property(teamName, (team) => {
                expect(rules.modelNamePrefix.replace("{team}", team)).toBe(teamModelPrefix(team));
            }),
        );
        expect(rules.modelNamePattern).toBe(MODEL_NAME.source);
        expect(rules.modelNameMax).toBe(MODEL_NAME_MAX);
    });
});

describe("the authorization function's module", () => {
    it("is the ConfigMap's Python file, beside its rules, and defines the function basic_auth.ini names", () => {
        const files = registryNamespacesFiles();
        expect(Object.keys(files).sort()).toEqual([`${REGISTRY_NAMESPACES_MODULE_NAME}.py`, REGISTRY_NAMESPACES_RULES_FILE].sort());
        expect(JSON.parse(files[REGISTRY_NAMESPACES_RULES_FILE])).toEqual(registryNamespaceRules());
        const [module, fn] = REGISTRY_NAMESPACES_AUTH_FUNCTION.split(":");
        expect(module).toBe(REGISTRY_NAMESPACES_MODULE_NAME);
        expect(files[`${module}.py`]).toContain(`\ndef ${fn}():\n`);
        expect(REGISTRY_NAMESPACES_MODULE).toContain(`"${REGISTRY_NAMESPACES_RULES_FILE}"`);
    });

    it.skipIf(!hasPython())("compiles (Python's own parser)", () => {
        const out = execFileSync("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read()); print('ok')"], {
            input: REGISTRY_NAMESPACES_MODULE,
        }).toString();
        expect(out.trim()).toBe("ok");
    });
});

describe("the ConfigMap's name", () => {
    it("is stable, DNS-safe, and changes with any file, so a change rolls the server", () => {
        const files = registryNamespacesFiles();
        const name = registryNamespacesConfigMapName(files);
        expect(name).toMatch(/^mlflow-registry-namespaces-[0-9a-f]{10}$/);
        expect(registryNamespacesConfigMapName()).toBe(name);
        for (const key of Object.keys(files)) {
            expect(registryNamespacesConfigMapName({ ...files, [key]: `${files[key]} ` }), key).not.toBe(name);
        }
    });
});

function hasPython(): boolean {
    try {
        execFileSync("python3", ["--version"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}
