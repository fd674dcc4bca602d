/**
 * MLflow for real: for each stack, every MLflow container of its plan (the Deployment's init containers
 * and server, the team-users Job, the gc CronJob's container) run as rendered against PostgreSQL (Debian)
 * and moto (S3), with only the endpoints rewritten
 * (e2e/lib/mlflowStack.ts). In test (auth on, two replicas) also: a team user's registry workflow, what
 * the default READ permission lets a team user do, the registry namespaces per team (the server's
 * authorization function: a team creates, registers and renames only `<team>-` names, edits only its own
 * models; the release conventions of docs/registry-conventions.md still work), password rotation and a
 * wrong admin password, gc of a deleted run and its artifacts, the readiness probe with the database
 * down, and the dashboard's exceptions panel evaluated by Prometheus on the real /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowDashboard } from "../components/platform/dashboards";
import { MlflowStack } from "./lib/mlflowStack";
import type { StackName } from "./lib/stackPlans";
import { processTreeArgv, run, waitFor } from "./lib/procs";
import { parseExposition, promqlTest, seriesSelector } from "./lib/promtool";
import { venvBin, venvEnv } from "./lib/python";

const STACKS: StackName[] = ["dev", "test", "prod"];

/** The head revision of MLflow's tracking schema, from the installed MLflow. */
async function headRevision(): Promise<string> {
    const r = await run(venvBin("mlflow", "python"), ["-c", "from mlflow.store.db.utils import _get_latest_schema_revision as h; print(h())"], {
        env: venvEnv("mlflow"),
    });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
}

/** The registry workflow of a team: experiment, run with artifacts, registered version, alias, load by models:/ URI. */
const WORKFLOW = `
import json, os, sys, mlflow, numpy as np, pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
spec = json.load(sys.stdin)
mlflow.set_experiment(spec["experiment"])
X = pd.DataFrame({"amount": [1.0, 900.0, 5.0, 700.0, 3.0, 850.0], "hour": [12.0, 3.0, 14.0, 2.0, 10.0, 4.0]})
y = [0, 1, 0, 1, 0, 1]
with mlflow.start_run() as run:
    mlflow.log_param("C", 1.0)
    mlflow.log_metric("accuracy", 1.0)
    notes = os.path.join(os.environ["HOME"], "notes.txt")
    with open(notes, "w") as f:
        f.write("trained by the e2e suite")
    mlflow.log_artifact(notes)
    model = LogisticRegression(C=1.0).fit(X, y)
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name=spec["model"], input_example=X.head(2))
client = MlflowClient()
version = max(int(v.version) for v in client.search_model_versions(f"name='{spec['model']}'"))
client.set_registered_model_alias(spec["model"], "champion", str(version))
loaded = mlflow.pyfunc.load_model(f"models:/{spec['model']}@champion")
pred = [int(p) for p in loaded.predict(X)]
exp = client.get_experiment_by_name(spec["experiment"])
print(json.dumps({"run_id": run.info.run_id, "experiment_id": exp.experiment_id, "artifact_location": exp.artifact_location,
                  "artifact_uri": run.info.artifact_uri, "version": str(version), "predictions": pred}))
`;

/**
 * Runs MlflowClient calls `[label, method, args]` (JSON on stdin) one after the other; prints, per label,
 * "ok" or the MlflowException's error code and message.
 */
const ATTEMPTS = `
import json, sys
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
c = MlflowClient()
out = {}
for label, method, args in json.load(sys.stdin):
    try:
        getattr(c, method)(*args)
        out[label] = "ok"
    except MlflowException as e:
        out[label] = {"error_code": e.error_code, "message": e.message}
print(json.dumps(out))
`;

type Attempt = [label: string, method: string, args: unknown[]];
type Outcome = "ok" | { error_code: string; message: string };

describe.each(STACKS)("MLflow of %s, run as planned", (stack) => {
    let m: MlflowStack;
    let authOn: boolean;
    let head: string;

    beforeAll(async () => {
        m = await MlflowStack.create(stack);
        authOn = m.teamUsersJob !== undefined;
        head = await headRevision();
    });
    afterAll(async () => {
        await m?.stop();
    });

    it("the plan's MLflow containers carry no database URI in their command or arguments", () => {
        const cronPod = m.gcCronJob.spec.jobTemplate.spec.template.spec;
        const containers = [
            ...(m.podSpec.initContainers ?? []),
            ...m.podSpec.containers,
            ...cronPod.containers,
            ...(m.teamUsersJob?.spec.template.spec.containers ?? []),
        ];
        const dbPassword = m.secretValue("mlflow-db", "password");
        for (const c of containers) {
            const argv = JSON.stringify([...(c.command ?? []), ...(c.args ?? [])]);
            expect(argv, c.name).not.toContain("postgresql://");
            expect(argv, c.name).not.toContain("$(MLFLOW_");
            expect(argv, c.name).not.toContain(dbPassword);
        }
    });

    if (stack === "test") {
        it("control: `mlflow db upgrade` alone fails on an empty database (why the init step creates the base tables)", async () => {
            await m.pg.sql("postgres", "CREATE DATABASE control");
            const uri = `postgresql://${m.pg.user}:${m.pg.password}@127.0.0.1:${m.pg.port}/control`;
            const r = await run(venvBin("mlflow", "mlflow"), ["db", "upgrade", uri], { env: venvEnv("mlflow") });
            expect(r.code).not.toBe(0);
            expect(r.stderr).toMatch(/relation "\w+" does not exist/);
        });
    }

    it("on a fresh, empty database, two pods' init containers at once both succeed and create the whole schema", async () => {
        const [a, b] = await Promise.all([m.runInitContainers("mlflow-0"), m.runInitContainers("mlflow-1")]);
        const expected = authOn ? ["db-upgrade", "auth-db-create", "auth-db-upgrade"] : ["db-upgrade"];
        for (const pod of [a, b]) {
            expect(pod.map((c) => c.name)).toEqual(expected);
            for (const c of pod) expect(c.result.code, `${c.name}: ${c.result.stderr.slice(-2000)}`).toBe(0);
        }
        // One of them created the base tables (the other waited on the advisory lock, then found them).
        const created = [a, b].filter((pod) => pod[0].result.stdout.includes("empty database: creating the base tables"));
        expect(created).toHaveLength(1);
        expect(await m.pg.sql("mlflow", "SELECT version_num FROM alembic_version")).toBe(head);
        expect(
            await m.pg.sql(
                "mlflow",
                "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('experiments','runs','metrics','registered_models','model_versions','registered_model_aliases')",
            ),
        ).toBe("6");
        if (authOn) {
            expect(await m.pg.sql("postgres", "SELECT datname FROM pg_database WHERE datname = 'mlflow_auth'")).toBe("mlflow_auth");
            expect(await m.pg.sql("mlflow_auth", "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'")).toBe("1");
        }
    });

    it("on the existing database the init containers run again and change nothing", async () => {
        for (const attempt of [1]) {
            const pod = await m.runInitContainers(`mlflow-again-${attempt}`);
            for (const c of pod) expect(c.result.code, `${c.name}: ${c.result.stderr.slice(-2000)}`).toBe(0);
            expect(pod[0].result.stdout).toContain(`schema ${head} -> ${head}`);
            expect(pod[0].result.stdout).not.toContain("creating the base tables");
        }
        expect(await m.pg.sql("mlflow", "SELECT version_num FROM alembic_version")).toBe(head);
    });

    it("the server starts as rendered; neither it nor its gunicorn workers have the database URI in their argv", async () => {
        const server = await m.startServer();
        const argv = processTreeArgv(server.pid);
        expect(argv.length).toBeGreaterThan(1); // mlflow server and its gunicorn master/workers
        expect(argv.some((a) => a.includes("gunicorn"))).toBe(true);
        for (const a of argv) {
            expect(a).not.toContain(m.pg.password);
            expect(a).not.toContain("postgresql://");
        }
        // It did use the rendered backend store from the environment: the database has the default experiment.
        expect(await m.pg.sql("mlflow", "SELECT name FROM experiments WHERE experiment_id = 0")).toBe("Default");
    });

    it("probes: startup /health, readiness (server and database) and liveness (TCP) all pass", async () => {
        expect((await m.get(m.serverContainer.startupProbe.httpGet.path)).status).toBe(200);
        const ready = await m.readiness();
        expect(ready.code, ready.stderr).toBe(0);
        expect(await m.liveness()).toBe(true);
    });

    it(stack === "dev" ? "has no authentication (dev)" : "authenticates: /health is open, the API needs a user, the admin is one", async () => {
        const search = "/api/2.0/mlflow/experiments/search?max_results=5";
        if (!authOn) {
            expect((await m.get(search)).status).toBe(200);
            return;
        }
        expect((await m.get("/health")).status).toBe(200);
        expect((await m.get(search)).status).toBe(401);
        expect((await m.get(search, { username: m.admin.username, password: "wrong" })).status).toBe(401);
        expect((await m.get(search, m.admin)).status).toBe(200);
    });

    if (stack !== "dev") {
        it("the team-users Job creates every team user and the metrics user; run again, it sets the same passwords", async () => {
            const users = Object.keys(m.teamPasswords()).sort();
            expect(users).toEqual(expect.arrayContaining(["metrics-prometheus", "team-fraud"]));
            const first = await m.runTeamUsersJob();
            expect(first.code, first.stderr).toBe(0);
            expect(first.stdout.trim().split("\n")).toEqual(users.map((u) => `${u}: create -> HTTP 200`));
            const again = await m.runTeamUsersJob();
            expect(again.code, again.stderr).toBe(0);
            expect(again.stdout.trim().split("\n")).toEqual(users.map((u) => `${u}: update-password -> HTTP 200`));
            for (const team of Object.keys(m.outputs.teams ?? {}).filter((t) => users.includes(`team-${t}`))) {
                expect((await m.get("/api/2.0/mlflow/experiments/search?max_results=1", m.team(team))).status, team).toBe(200);
            }
            // No password in its output.
            for (const p of Object.values(m.teamPasswords())) expect(first.stdout + first.stderr + again.stdout).not.toContain(p);
        });

        it("Prometheus' user reads /metrics; without a user it is refused", async () => {
            expect((await m.get("/metrics")).status).toBe(401);
            const r = await m.get("/metrics", m.metricsUser);
            expect(r.status).toBe(200);
            expect(await r.text()).toContain("mlflow_http_request_total");
        });
    } else {
        it("serves /metrics without a user (dev)", async () => {
            const r = await m.get("/metrics");
            expect(r.status).toBe(200);
            expect(await r.text()).toContain("mlflow_http_request_total");
        });
    }

    if (stack === "test") {
        it("rotation: a new password in the passwords file is set by the next run; the old one stops working", async () => {
            const plan = m.teamPasswords();
            const old = m.team("fraud");
            const rotated = { ...plan, [old.username]: "Rotated0Password0For0The0E2eSuite" };
            const r = await m.runTeamUsersJob({ users: rotated });
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout).toContain(`${old.username}: update-password -> HTTP 200`);
            const search = "/api/2.0/mlflow/experiments/search?max_results=1";
            expect((await m.get(search, { username: old.username, password: rotated[old.username] })).status).toBe(200);
            expect((await m.get(search, old)).status).toBe(401);
            // Back to the plan's passwords for the rest of the suite.
            expect((await m.runTeamUsersJob()).code).toBe(0);
            expect((await m.get(search, old)).status).toBe(200);
        });

        it("a wrong admin password fails the Job (non-zero, HTTP 401 per user), printing no password", async () => {
            const r = await m.runTeamUsersJob({ envOverride: { MLFLOW_ADMIN_PASSWORD: "NotTheAdminPassword" } });
            expect(r.code).not.toBe(0);
            expect(r.stdout).toContain("team-fraud: get -> HTTP 401");
            expect(r.stderr).toContain("failed: ");
            expect(r.stdout + r.stderr).not.toContain("NotTheAdminPassword");
            for (const p of Object.values(m.teamPasswords())) expect(r.stdout + r.stderr).not.toContain(p);
        });

        let workflow: { run_id: string; experiment_id: string; artifact_location: string; artifact_uri: string; version: string; predictions: number[] };

        it("a team user's registry workflow: experiment, run with artifacts through the proxy, registration, alias, load by models:/ URI", async () => {
            const r = await m.client(WORKFLOW, { creds: m.team("fraud"), input: JSON.stringify({ experiment: "fraud-e2e", model: "fraud-scorer" }) });
            expect(r.code, r.stderr.slice(-3000)).toBe(0);
            workflow = JSON.parse(r.stdout.trim().split("\n").pop()!);
            expect(workflow.predictions).toEqual([0, 1, 0, 1, 0, 1]);
            expect(workflow.version).toBe("1");
            // Through the proxy: the client saw mlflow-artifacts:/ URIs, needed no AWS credentials, and
            // the objects landed under the server's prefix of the bucket, nowhere else.
            expect(workflow.artifact_location).toMatch(/^mlflow-artifacts:\//);
            const objects = await m.s3.list(m.bucket);
            const keys = objects.map((o) => o.key);
            expect(keys.length).toBeGreaterThan(3);
            for (const k of keys) expect(k.startsWith(m.artifactPrefix), k).toBe(true);
            expect(keys).toContain(`${m.artifactPrefix}${workflow.experiment_id}/${workflow.run_id}/artifacts/notes.txt`);
            expect(keys.some((k) => k.endsWith("/MLmodel"))).toBe(true);
            expect(keys.some((k) => k.endsWith("/model.pkl"))).toBe(true);
        });

        /** Runs the calls as a user; the outcome of each, by label. */
        const attempt = async (creds: { username: string; password: string }, calls: Attempt[]): Promise<Record<string, Outcome>> => {
            const r = await m.client(ATTEMPTS, { creds, input: JSON.stringify(calls) });
            expect(r.code, r.stderr.slice(-2000)).toBe(0);
            return JSON.parse(r.stdout.trim().split("\n").pop()!);
        };
        const denied = (message: string | RegExp) => ({ error_code: "PERMISSION_DENIED", message: expect.stringMatching(message) });
        /** Basic auth's own refusal: a plain-text 403, which the client reports with its body. */
        const basicAuthDenied = denied(/failed with error code 403 != 200\. Response body: 'Permission denied'$/);

        it("registry namespaces: a team user creates and renames registered models only under its team's prefix; other names are refused with 403 and why", async () => {
            const outside =
                /^PERMISSION_DENIED: user 'team-fraud' may create, register and rename registered models only in team fraud's namespace, names starting with 'fraud-'; '.*' is not in it \(docs\/registry-conventions\.md\)$/;
            expect(
                await attempt(m.team("fraud"), [
                    ["own", "create_registered_model", ["fraud-churn"]],
                    ["other_team", "create_registered_model", ["recsys-ranker"]],
                    ["unprefixed", "create_registered_model", ["scorer"]],
                    ["team_name_alone", "create_registered_model", ["fraud"]],
                    ["look_alike", "create_registered_model", ["fraudster-model"]],
                    ["bad_format", "create_registered_model", ["fraud-Churn_v2"]],
                    ["too_long", "create_registered_model", [`fraud-${"x".repeat(35)}`]],
                    ["rename_out", "rename_registered_model", ["fraud-churn", "recsys-churn"]],
                    ["rename_in", "rename_registered_model", ["fraud-churn", "fraud-attrition"]],
                    // The renamed model is still the team's (basic auth moves the permissions with the name).
                    ["edit_renamed", "update_registered_model", ["fraud-attrition", "renamed by the e2e suite"]],
                ]),
            ).toEqual({
                own: "ok",
                other_team: denied(outside),
                unprefixed: denied(outside),
                team_name_alone: denied(outside),
                look_alike: denied(outside),
                bad_format: denied(
                    /^PERMISSION_DENIED: registered model name 'fraud-Churn_v2' must be lower-case letters, digits and -, .* at most 40 characters/,
                ),
                too_long: denied(/at most 40 characters/),
                rename_out: denied(outside),
                rename_in: "ok",
                edit_renamed: "ok",
            });
            // At the HTTP level: 403, a JSON body MLflow's clients read, the REST and the UI's ajax paths alike.
            const headers = {
                Authorization: `Basic ${Buffer.from(`${m.team("fraud").username}:${m.team("fraud").password}`).toString("base64")}`,
                "Content-Type": "application/json",
            };
            for (const api of ["api", "ajax-api"]) {
                const res = await fetch(`${m.trackingUri}/${api}/2.0/mlflow/registered-models/create`, {
                    method: "POST",
                    headers,
                    body: JSON.stringify({ name: "recsys-ranker" }),
                });
                expect(res.status, api).toBe(403);
                expect(await res.json(), api).toEqual({ error_code: "PERMISSION_DENIED", message: expect.stringContaining("names starting with 'fraud-'") });
            }
            // A body double-encoded (as older clients post it, and MLflow's handlers decode it) is read the same way.
            const twice = (name: string) =>
                fetch(`${m.trackingUri}/api/2.0/mlflow/registered-models/create`, { method: "POST", headers, body: JSON.stringify(JSON.stringify({ name })) });
            expect((await twice("recsys-double")).status).toBe(403);
            expect((await twice("fraud-double")).status).toBe(200);
            // Nothing outside the namespace was created; the refusals were logged with user and name, no credential.
            expect(await m.pg.sql("mlflow", "SELECT string_agg(name, ',' ORDER BY name) FROM registered_models WHERE name NOT LIKE 'fraud-%'")).toBe("");
            expect(m.server!.tail(1_000_000)).toContain("registry namespaces: refused POST /api/2.0/mlflow/registered-models/create: user 'team-fraud'");
            expect(m.server!.tail(1_000_000)).not.toContain(m.team("fraud").password);
        });

        it("registry namespaces: a user that is no team user (Prometheus') creates no model; the admin creates any", async () => {
            expect(await attempt(m.metricsUser, [["create", "create_registered_model", ["fraud-metrics"]]])).toEqual({
                create: denied(
                    /^PERMISSION_DENIED: user 'metrics-prometheus' is not a team user \(team-<team>\): only team users, in their team's namespace, and admins create/,
                ),
            });
            expect(await attempt(m.admin, [["create", "create_registered_model", ["platform-reference"]]])).toEqual({ create: "ok" });
        });

        it("registry namespaces: another team reads a team's model but cannot register versions of it, tag it, move or delete its aliases, or delete it", async () => {
            const source = await m.client(`from mlflow import MlflowClient; print(MlflowClient().get_model_version("fraud-scorer", "1").source)`, {
                creds: m.team("fraud"),
            });
            expect(source.code, source.stderr).toBe(0);
            const calls = (who: string): Attempt[] => [
                ["read", "get_model_version_by_alias", ["fraud-scorer", "champion"]],
                ["register_version", "create_model_version", ["fraud-scorer", source.stdout.trim()]],
                ["tag_version", "set_model_version_tag", ["fraud-scorer", "1", "owner", who]],
                ["tag_model", "set_registered_model_tag", ["fraud-scorer", "owner", who]],
                ["describe", "update_registered_model", ["fraud-scorer", `edited by ${who}`]],
                ["move_alias", "set_registered_model_alias", ["fraud-scorer", "champion", "1"]],
                ["delete_alias", "delete_registered_model_alias", ["fraud-scorer", "champion"]],
                ["delete_version", "delete_model_version", ["fraud-scorer", "1"]],
                ["delete_model", "delete_registered_model", ["fraud-scorer"]],
            ];
            const own = await attempt(m.team("recsys"), [["own", "create_registered_model", ["recsys-ranker"]]]);
            expect(own).toEqual({ own: "ok" });
            expect(await attempt(m.team("recsys"), calls("recsys"))).toEqual({
                read: "ok",
                // The namespace check comes first for a new version; the rest is basic auth's READ default.
                register_version: denied(/only in team recsys's namespace, names starting with 'recsys-'; 'fraud-scorer' is not in it/),
                tag_version: basicAuthDenied,
                tag_model: basicAuthDenied,
                describe: basicAuthDenied,
                move_alias: basicAuthDenied,
                delete_alias: basicAuthDenied,
                delete_version: basicAuthDenied,
                delete_model: basicAuthDenied,
            });
            // Nor does a grant from the admin open another team's namespace to new versions; it does give EDIT.
            const grant = await m.client(
                `import os
from mlflow.server import get_app_client
c = get_app_client("basic-auth", tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
c.create_registered_model_permission("fraud-scorer", "team-recsys", "EDIT")`,
                { creds: m.admin },
            );
            expect(grant.code, grant.stderr.slice(-2000)).toBe(0);
            try {
                const granted = await attempt(m.team("recsys"), [
                    calls("recsys")[1],
                    ["describe", "update_registered_model", ["fraud-scorer", "reviewed by recsys"]],
                ]);
                expect(granted).toEqual({ register_version: denied(/names starting with 'recsys-'; 'fraud-scorer' is not in it/), describe: "ok" });
            } finally {
                const revoke = await m.client(
                    `import os
from mlflow.server import get_app_client
c = get_app_client("basic-auth", tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
c.delete_registered_model_permission("fraud-scorer", "team-recsys")`,
                    { creds: m.admin },
                );
                expect(revoke.code, revoke.stderr.slice(-2000)).toBe(0);
            }
            // The team's model is as it was: version 1, champion on it.
            expect(await m.pg.sql("mlflow", "SELECT string_agg(version::text, ',') FROM model_versions WHERE name = 'fraud-scorer'")).toBe("1");
            expect(await m.pg.sql("mlflow", "SELECT version FROM registered_model_aliases WHERE name = 'fraud-scorer' AND alias = 'champion'")).toBe("1");
        });

        it("registry conventions still hold: the team's automation registers, tags and moves aliases on its models, approvers (admin) add the approval tags, rollback is an alias move", async () => {
            const release = `
import json, sys
from mlflow import MlflowClient
spec = json.load(sys.stdin)
c = MlflowClient()
name = "fraud-scorer"
v1 = c.get_model_version(name, "1")
# Promotion: the same artifact as a new version, tagged before an alias points at it.
v2 = c.create_model_version(name, v1.source, run_id=v1.run_id)
for key, value in spec["tags"].items():
    c.set_model_version_tag(name, v2.version, key, value)
c.set_registered_model_alias(name, "challenger", v2.version)
c.delete_registered_model_alias(name, "challenger")
print(v2.version)
`;
            const tags = {
                owner: "fraud",
                training_data: `s3://bucket/datasets/fraud/2026-11-01/@sha256:${"a".repeat(64)}`,
                git_commit: "3f9a0c1e".padEnd(40, "0"),
                "metric.auc": "0.941",
            };
            const team = await m.client(release, { creds: m.team("fraud"), input: JSON.stringify({ tags }) });
            expect(team.code, team.stderr.slice(-2000)).toBe(0);
            const version = team.stdout.trim().split("\n").pop()!;
            expect(version).toBe("2");
            const approval = { "approval.by": "jane.doe", "approval.ticket": "CHG-10423", "approval.date": "2026-12-01" };
            const approverCalls: Attempt[] = Object.entries(approval).map(([k, v]) => [k, "set_model_version_tag", ["fraud-scorer", version, k, v]]);
            expect(await attempt(m.admin, approverCalls)).toEqual(Object.fromEntries(Object.keys(approval).map((k) => [k, "ok"])));
            // The team's automation moves the alias, rolls back and forward (its model: MANAGE since it created it).
            expect(
                await attempt(m.team("fraud"), [
                    ["champion", "set_registered_model_alias", ["fraud-scorer", "champion", version]],
                    ["rollback", "set_registered_model_alias", ["fraud-scorer", "champion", "1"]],
                    ["rollback_reason", "set_model_version_tag", ["fraud-scorer", version, "rollback.reason", "e2e: rolled back"]],
                    ["forward", "set_registered_model_alias", ["fraud-scorer", "champion", version]],
                ]),
            ).toEqual({ champion: "ok", rollback: "ok", rollback_reason: "ok", forward: "ok" });
            // The check of docs/registry-conventions.md ("Checking a model"), as any reader (another team) runs it.
            const check = `
from mlflow import MlflowClient
client = MlflowClient()
mv = client.get_model_version_by_alias("fraud-scorer", "champion")
required = {"owner", "training_data", "git_commit", "approval.by", "approval.ticket", "approval.date"}
missing = required - mv.tags.keys()
assert not missing, f"fraud-scorer@champion (v{mv.version}) lacks {sorted(missing)}"
assert any(k.startswith("metric.") for k in mv.tags), "no metric.<name> tag"
print(mv.version)
`;
            const checked = await m.client(check, { creds: m.team("recsys") });
            expect(checked.code, checked.stderr.slice(-2000)).toBe(0);
            expect(checked.stdout.trim()).toBe(version);
        });

        it("with default READ, a team user can create experiments and models in its namespace, but not write to another user's experiment", async () => {
            const admin = await m.client(`import mlflow; print(mlflow.create_experiment("platform-owned"))`, { creds: m.admin });
            expect(admin.code, admin.stderr).toBe(0);
            const probe = `
import json, mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
c = MlflowClient()
out = {}
out["own_experiment"] = c.create_experiment("fraud-scratch") is not None
out["own_model"] = c.create_registered_model("fraud-scratch").name
try:
    c.create_run(experiment_id="${admin.stdout.trim()}")
    out["write_other_experiment"] = "allowed"
except MlflowException as e:
    out["write_other_experiment"] = e.error_code
print(json.dumps(out))
`;
            const r = await m.client(probe, { creds: m.team("fraud") });
            expect(r.code, r.stderr.slice(-2000)).toBe(0);
            expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toEqual({
                own_experiment: true,
                own_model: "fraud-scratch",
                write_other_experiment: "PERMISSION_DENIED",
            });
        });

        it("gc as rendered removes a run deleted longer ago than the configured age, with its artifacts", async () => {
            const del = await m.client(`import mlflow; mlflow.MlflowClient().delete_run("${workflow.run_id}")`, { creds: m.team("fraud") });
            expect(del.code, del.stderr).toBe(0);
            const runKey = `${m.artifactPrefix}${workflow.experiment_id}/${workflow.run_id}/artifacts/notes.txt`;
            // Deleted just now: younger than --older-than, so gc keeps it.
            const keep = await m.runGc();
            expect(keep.code, keep.stderr.slice(-2000)).toBe(0);
            expect(await m.pg.sql("mlflow", `SELECT lifecycle_stage FROM runs WHERE run_uuid = '${workflow.run_id}'`)).toBe("deleted");
            // Deleted 400 days ago (older than every stack's gcOlderThanDays): gc removes run and artifacts.
            await m.pg.sql("mlflow", `UPDATE runs SET deleted_time = deleted_time - 400::bigint * 86400000 WHERE run_uuid = '${workflow.run_id}'`);
            const gc = await m.runGc();
            expect(gc.code, gc.stderr.slice(-2000)).toBe(0);
            expect(await m.pg.sql("mlflow", `SELECT count(*) FROM runs WHERE run_uuid = '${workflow.run_id}'`)).toBe("0");
            expect((await m.s3.list(m.bucket, `${m.artifactPrefix}${workflow.experiment_id}/${workflow.run_id}/`)).map((o) => o.key)).not.toContain(runKey);
        });

        it("the dashboard's exceptions panel is 0 on the real /metrics, where the exceptions series does not exist yet", async () => {
            const metrics = parseExposition(await (await m.get("/metrics", m.metricsUser)).text());
            const http = metrics.filter((s) => s.name.startsWith("mlflow_http_request"));
            expect(http.some((s) => s.name === "mlflow_http_request_total")).toBe(true);
            expect(metrics.some((s) => s.name.startsWith("mlflow_http_request_exceptions"))).toBe(false);
            // As Prometheus stores the scrape: with the target labels the ServiceMonitor adds.
            const target = { namespace: m.namespace, service: "mlflow" };
            const series = http
                .filter((s) => s.name.endsWith("_total") || s.name.endsWith("_bucket"))
                .map((s) => ({ series: seriesSelector(s.name, { ...s.labels, ...target }), values: `0+${Math.max(1, Math.round(s.value))}x10` }));
            const panel = mlflowDashboard({ namespace: m.namespace, service: "mlflow" }).panels.find((p) => p.title === "Exceptions per second") as any;
            const expr: string = panel.targets[0].expr.replaceAll("$__rate_interval", "2m");
            const fixed = await promqlTest({ series, expr, evalTime: "10m", expected: [{ labels: "{}", value: 0 }] });
            expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
            // The query without the fallback returns nothing there: the "no data" the panel showed before.
            const bare = await promqlTest({ series, expr: expr.replace(/\s+or vector\(0\)$/, ""), evalTime: "10m", expected: [] });
            expect(bare.code, bare.stdout + bare.stderr).toBe(0);
        });

        it("IAM (moto enforcing it): the plan's MLflow role may put, get and delete objects under its prefix only", async () => {
            const creds = await m.roleCredentials();
            const script = `
import json, sys, boto3
from botocore.exceptions import ClientError
spec = json.load(sys.stdin)
s3 = boto3.client("s3")
def attempt(op, key):
    try:
        if op == "put": s3.put_object(Bucket=spec["bucket"], Key=key, Body=b"x")
        elif op == "get": s3.get_object(Bucket=spec["bucket"], Key=key)
        else: s3.delete_object(Bucket=spec["bucket"], Key=key)
        return "allowed"
    except ClientError as e:
        return e.response["Error"]["Code"]
own = spec["prefix"] + "iam-check.txt"
other = "prediction-logs/fraud/iam-check.txt"
print(json.dumps({"put_own": attempt("put", own), "get_own": attempt("get", own), "delete_own": attempt("delete", own),
                  "put_other": attempt("put", other), "get_other": attempt("get", other)}))
`;
            await m.s3.enforceIam(true);
            let r;
            try {
                r = await run(venvBin("mlflow", "python"), ["-c", script], {
                    env: venvEnv("mlflow", m.s3.clientEnv(creds)),
                    input: JSON.stringify({ bucket: m.bucket, prefix: m.artifactPrefix }),
                });
            } finally {
                await m.s3.enforceIam(false);
            }
            expect(r.code, r.stderr).toBe(0);
            expect(JSON.parse(r.stdout)).toEqual({
                put_own: "allowed",
                get_own: "allowed",
                delete_own: "allowed",
                put_other: "AccessDenied",
                get_other: "AccessDenied",
            });
        });

        it("readiness fails while the database is down, liveness and /health do not; ready again when it is back", async () => {
            await m.pg.stop();
            try {
                const down = await m.readiness();
                expect(down.code).not.toBe(0);
                expect(down.stderr).toContain("database not ready");
                expect(down.stderr).not.toContain(m.pg.password);
                expect(await m.liveness()).toBe(true);
                expect((await m.get("/health")).status).toBe(200);
            } finally {
                await m.pg.start();
            }
            const up = await m.readiness();
            expect(up.code, up.stderr).toBe(0);
        });
    }

    it("gc runs as rendered (nothing old enough to remove) and the server stops on SIGTERM", async () => {
        const gc = await m.runGc();
        expect(gc.code, gc.stderr.slice(-2000)).toBe(0);
        await m.stopServer();
        await waitFor("the port to close", async () => !(await m.liveness()), 10_000);
    });
});
