/**
 * MLflow users of the teams (MlflowTeamAccess) as recorded for each stack: with auth on (test, prod), per
 * team a generated password, the `mlflow-credentials` Secret the team's workloads read, and the Job in the
 * MLflow namespace that creates the users with the admin credentials from the admin Secret; its network
 * path to the server; the metrics user Prometheus scrapes /metrics as. With auth off (dev), nothing.
 */
import { execFileSync } from "child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { parsePlatformConfig, type PlatformConfig, teamsIn } from "../stacks/config";
import { MLFLOW_CREDENTIALS_SECRET } from "../components/platform/driftCheck";
import {
    MLFLOW_CREDENTIALS_KEYS,
    MLFLOW_METRICS_SECRET,
    MLFLOW_METRICS_USERNAME,
    mlflowTeamUsername,
    passwordsChecksum,
    TEAM_PASSWORDS_DIR,
    TEAM_PASSWORDS_SECRET,
    TEAM_USERS_FILE,
    TEAM_USERS_JOB_PREFIX,
    TEAM_USERS_SCRIPT,
    teamUsersJobName,
    validateMlflowTeamAccessArgs,
} from "../components/platform/mlflowTeamAccess";
import { mlflowEnv } from "../components/team/modelWorkload";
import { validateObjects } from "../engine/kubernetes";
import { configNamespace } from "../engine/project";
import { runStack, type StackRun, STACKS } from "./harness";

const COMPONENT = "mlops:index:MlflowTeamAccess";
const SECRET = "kubernetes:core/v1:Secret";
const JOB = "kubernetes:batch/v1:Job";

/** Does a label selector (matchLabels) select pods with these labels? */
const selects = (matchLabels: Record<string, string>, labels: Record<string, string>) => Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

describe.each(STACKS)("MLflow team access in %s", (stack) => {
    let run: StackRun;
    let cfg: PlatformConfig;
    beforeAll(async () => {
        run = await runStack(stack);
        cfg = parsePlatformConfig(configNamespace(run.recording.stackConfig.config, "mlops"), stack);
    });
    const authOn = stack !== "dev";
    const component = () => run.ofType(COMPONENT);
    const passwordOf = (team: string) => run.one("random:index/randomPassword:RandomPassword", `mlflow-team-access-${team}-password`).outputs.result as string;
    const metricsPassword = () => run.one("random:index/randomPassword:RandomPassword", "mlflow-team-access-metrics-password").outputs.result as string;
    /** Every user the Job creates: the teams' and the metrics user, by user name. */
    const allPasswords = () => ({
        ...Object.fromEntries(teamsIn(cfg).map((t) => [mlflowTeamUsername(t.name), passwordOf(t.name)])),
        [MLFLOW_METRICS_USERNAME]: metricsPassword(),
    });
    const job = () => {
        const jobs = run.k8sOfKind("Job", cfg.mlflow.namespace);
        expect(jobs).toHaveLength(1);
        return jobs[0] as any;
    };

    if (!authOn) {
        it("creates nothing with auth off", () => {
            expect(cfg.mlflow.auth).toBe(false);
            expect(component()).toEqual([]);
            expect(run.ofType(JOB)).toEqual([]);
            expect(run.k8s().filter((o) => o.object.metadata.name === MLFLOW_CREDENTIALS_SECRET || o.object.metadata.name === TEAM_PASSWORDS_SECRET)).toEqual(
                [],
            );
            expect(run.resources.filter((r) => r.name.startsWith("mlflow-team-access"))).toEqual([]);
            const server = run.k8sOfKind("NetworkPolicy", cfg.mlflow.namespace).find((p) => p.metadata.name === "mlflow") as any;
            expect(JSON.stringify(server.spec.ingress)).not.toContain("team-users");
        });
        return;
    }

    it("is one component of the stack, with auth on and teams in this environment", () => {
        expect(cfg.mlflow.auth).toBe(true);
        expect(teamsIn(cfg).length).toBeGreaterThan(0);
        expect(component()).toHaveLength(1);
    });

    it("delivers mlflow-credentials to every team namespace, with exactly the keys the workloads read, as a secret", () => {
        const secrets = run.ofType(SECRET).filter((s) => run.inputs(s).metadata.name === MLFLOW_CREDENTIALS_SECRET);
        expect(secrets.map((s) => run.inputs(s).metadata.namespace).sort()).toEqual(
            teamsIn(cfg)
                .map((t) => `ml-${t.name}`)
                .sort(),
        );
        for (const team of teamsIn(cfg)) {
            const secret = secrets.find((s) => run.inputs(s).metadata.namespace === `ml-${team.name}`)!;
            expect(secret.parent).toBe(component()[0].urn);
            expect(run.isSecretInput(secret, "stringData")).toBe(true);
            expect(run.inputs(secret).type).toBe("Opaque");
            expect(run.inputs(secret).stringData).toEqual({ username: `team-${team.name}`, password: passwordOf(team.name) });
            expect(passwordOf(team.name)).toMatch(/^[A-Za-z0-9]{32}$/);
            expect(run.inputs(secret).metadata.labels).toMatchObject({ "mlops.acme.io/team": team.name, "mlops.acme.io/environment": stack });
        }
        // The keys are the ones ModelService, BatchInference and DriftCheck reference.
        const refs = mlflowEnv("http://x").flatMap((e) => (e.valueFrom ? [(e.valueFrom as any).secretKeyRef] : []));
        expect(refs.map((r: any) => r.name)).toEqual([MLFLOW_CREDENTIALS_SECRET, MLFLOW_CREDENTIALS_SECRET]);
        expect(refs.map((r: any) => r.key).sort()).toEqual(Object.values(MLFLOW_CREDENTIALS_KEYS).sort());
    });

    it("keeps the users' passwords for the Job in a secret Secret in the MLflow namespace", () => {
        const secret = run.ofType(SECRET).find((s) => run.inputs(s).metadata.name === TEAM_PASSWORDS_SECRET)!;
        expect(run.inputs(secret).metadata.namespace).toBe(cfg.mlflow.namespace);
        expect(run.isSecretInput(secret, "stringData")).toBe(true);
        expect(Object.keys(run.inputs(secret).stringData)).toEqual([TEAM_USERS_FILE]);
        expect(JSON.parse(run.inputs(secret).stringData[TEAM_USERS_FILE])).toEqual(allPasswords());
    });

    it("creates the user Prometheus scrapes /metrics as, with its credentials in a secret Secret beside the ServiceMonitor", () => {
        const secret = run.ofType(SECRET).find((s) => run.inputs(s).metadata.name === MLFLOW_METRICS_SECRET)!;
        expect(secret.parent).toBe(component()[0].urn);
        expect(run.inputs(secret).metadata.namespace).toBe(cfg.mlflow.namespace);
        expect(run.isSecretInput(secret, "stringData")).toBe(true);
        expect(run.inputs(secret).stringData).toEqual({ username: MLFLOW_METRICS_USERNAME, password: metricsPassword() });
        expect(metricsPassword()).toMatch(/^[A-Za-z0-9]{32}$/);
        // Not the admin, and no team's user.
        const adminPassword = run.one("random:index/randomPassword:RandomPassword", "mlflow-admin-password").outputs.result as string;
        expect(metricsPassword()).not.toBe(adminPassword);
        expect(teamsIn(cfg).map((t) => mlflowTeamUsername(t.name))).not.toContain(MLFLOW_METRICS_USERNAME);
        const monitor = run.k8sOfKind("ServiceMonitor", cfg.mlflow.namespace).find((m) => m.metadata.name === "mlflow") as any;
        expect(monitor.spec.endpoints[0].basicAuth).toEqual({
            username: { name: MLFLOW_METRICS_SECRET, key: "username" },
            password: { name: MLFLOW_METRICS_SECRET, key: "password" },
        });
    });

    it("creates the users with a Job in the MLflow namespace: admin credentials from the admin Secret, passwords from a mounted Secret", () => {
        const j = job();
        const pod = j.spec.template.spec;
        expect(pod.containers).toHaveLength(1);
        const c = pod.containers[0];
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
        expect(env.MLFLOW_ADMIN_USERNAME.valueFrom).toEqual({ secretKeyRef: { name: "mlflow-auth", key: "admin-username" } });
        expect(env.MLFLOW_ADMIN_PASSWORD.valueFrom).toEqual({ secretKeyRef: { name: "mlflow-auth", key: "admin-password" } });
        expect(env.MLFLOW_TRACKING_URI.value).toBe(`http://mlflow.${cfg.mlflow.namespace}.svc.cluster.local`);
        expect(env.MLFLOW_TEAM_USERS_FILE.value).toBe(`${TEAM_PASSWORDS_DIR}/${TEAM_USERS_FILE}`);
        expect(Object.keys(env).sort()).toEqual(["HOME", "MLFLOW_ADMIN_PASSWORD", "MLFLOW_ADMIN_USERNAME", "MLFLOW_TEAM_USERS_FILE", "MLFLOW_TRACKING_URI"]);
        expect(c.command).toEqual(["python", "-c", TEAM_USERS_SCRIPT]);
        expect(c.image).toBe(run.outputs().mlflowImage);
        expect(pod.volumes).toContainEqual({ name: "team-passwords", secret: { secretName: TEAM_PASSWORDS_SECRET, defaultMode: 0o440 } });
        expect(c.volumeMounts).toContainEqual({ name: "team-passwords", mountPath: TEAM_PASSWORDS_DIR, readOnly: true });
    });

    it("never carries a literal password (nor a user name: those stay inside Secrets), and its inputs hold no secret", () => {
        const text = JSON.stringify(job());
        for (const [user, password] of Object.entries(allPasswords())) {
            expect(text).not.toContain(password);
            expect(text).not.toContain(user);
        }
        const adminPassword = run.one("random:index/randomPassword:RandomPassword", "mlflow-admin-password").outputs.result as string;
        expect(text).not.toContain(adminPassword);
        for (const e of job().spec.template.spec.containers[0].env) expect(e.name.endsWith("PASSWORD") ? e.value : undefined).toBeUndefined();
        const resource = run.ofType(JOB)[0];
        expect(run.isSecretInput(resource, "spec")).toBe(false);
        expect(run.isSecretInput(resource, "metadata")).toBe(false);
    });

    it("is bounded, kept after it finishes, and replaced (delete first) when the users or passwords change", () => {
        const j = job();
        expect(j.spec.backoffLimit).toBeLessThanOrEqual(3);
        expect(j.spec.activeDeadlineSeconds).toBeGreaterThan(0);
        expect(j.spec.ttlSecondsAfterFinished).toBeUndefined();
        expect(j.spec.template.spec.restartPolicy).toBe("Never");
        const users = [...teamsIn(cfg).map((t) => `team-${t.name}`), MLFLOW_METRICS_USERNAME];
        const checksum = passwordsChecksum(allPasswords());
        expect(j.metadata.name).toBe(teamUsersJobName(users, checksum));
        expect(j.spec.template.metadata.annotations).toEqual({
            "mlops.acme.io/teams": teamsIn(cfg)
                .map((t) => t.name)
                .sort()
                .join(","),
            "mlops.acme.io/passwords-checksum": checksum,
        });
        expect(run.ofType(JOB)[0].options.deleteBeforeReplace).toBe(true);
    });

    it("runs with the restricted security context of the other MLflow pods", () => {
        const pod = job().spec.template.spec;
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        });
        const c = pod.containers[0];
        expect(c.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String), "ephemeral-storage": "64Mi" });
        expect(c.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String), "ephemeral-storage": "320Mi" });
        for (const v of pod.volumes) expect(v.hostPath).toBeUndefined();
    });

    it("reaches the server: the server admits its pods, and its own policy lets it out to DNS and the server only", () => {
        const podLabels = job().spec.template.metadata.labels;
        const policies = run.k8sOfKind("NetworkPolicy", cfg.mlflow.namespace) as any[];
        const server = policies.find((p) => p.metadata.name === "mlflow");
        const serverPodLabels = (run.k8sOfKind("Deployment", cfg.mlflow.namespace)[0] as any).spec.template.metadata.labels;
        const peers = server.spec.ingress.flatMap((r: any) => (r.ports.some((p: any) => p.port === 5000) ? r.from : []));
        expect(peers.some((p: any) => p.podSelector && !p.namespaceSelector && selects(p.podSelector.matchLabels, podLabels))).toBe(true);
        // Only the Job's pods are selected by that peer, not the server or the gc job.
        const peer = peers.find((p: any) => p.podSelector && selects(p.podSelector.matchLabels, podLabels));
        expect(selects(peer.podSelector.matchLabels, serverPodLabels)).toBe(false);

        const own = policies.find((p) => p.metadata.name === TEAM_USERS_JOB_PREFIX);
        expect(selects(own.spec.podSelector.matchLabels, podLabels)).toBe(true);
        expect(own.spec.policyTypes).toEqual(["Ingress", "Egress"]);
        expect(own.spec.ingress).toEqual([]);
        expect(own.spec.egress).toContainEqual({
            to: [{ podSelector: { matchLabels: server.spec.podSelector.matchLabels } }],
            ports: [{ protocol: "TCP", port: 5000 }],
        });
        const ports = own.spec.egress.flatMap((e: any) => e.ports.map((p: any) => p.port));
        expect(new Set(ports)).toEqual(new Set([53, 5000]));
        // No other policy of the namespace selects the Job's pods (default-deny selects all).
        const others = policies.filter((p) => p !== own && p.metadata.name !== "default-deny" && selects(p.spec.podSelector.matchLabels ?? {}, podLabels));
        expect(others).toEqual([]);
    });

    it("renders objects that pass the Kubernetes schemas", async () => {
        const component = run.ofType(COMPONENT)[0];
        const own = run
            .k8s()
            .filter((o) => o.resource.parent === component.urn)
            .map((o) => o.object);
        // The Job, its policy, the passwords, the metrics user's Secret and each team's.
        expect(own.map((o) => o.kind).sort()).toEqual(["Job", "NetworkPolicy", "Secret", "Secret", ...teamsIn(cfg).map(() => "Secret")].sort());
        expect(await validateObjects(own)).toEqual([]);
    });
});

describe("MlflowTeamAccess helpers", () => {
    it("names the Job after the users and the passwords: a new team or a rotated password gives a new name", () => {
        const base = teamUsersJobName(["team-a", "team-b"], "0123456789abcdef");
        expect(base).toMatch(/^mlflow-team-users-[a-f0-9]{10}$/);
        expect(teamUsersJobName(["team-b", "team-a"], "0123456789abcdef")).toBe(base);
        expect(teamUsersJobName(["team-a", "team-b", "team-c"], "0123456789abcdef")).not.toBe(base);
        expect(teamUsersJobName(["team-a", "team-b"], "fedcba9876543210")).not.toBe(base);
    });

    it("checksums passwords without revealing them", () => {
        const c = passwordsChecksum({ "team-a": "secretA", "team-b": "secretB" });
        expect(c).toMatch(/^[a-f0-9]{16}$/);
        expect(passwordsChecksum({ "team-b": "secretB", "team-a": "secretA" })).toBe(c);
        expect(passwordsChecksum({ "team-a": "secretA", "team-b": "secretC" })).not.toBe(c);
    });

    it("the script uses MLflow's auth REST API idempotently and prints no password", () => {
        expect(TEAM_USERS_SCRIPT).toContain('"GET", "/api/2.0/mlflow/users/get"');
        expect(TEAM_USERS_SCRIPT).toContain('"POST", "/api/2.0/mlflow/users/create"');
        expect(TEAM_USERS_SCRIPT).toContain('"PATCH", "/api/2.0/mlflow/users/update-password"');
        for (const line of TEAM_USERS_SCRIPT.split("\n").filter((l) => l.includes("print("))) expect(line).not.toMatch(/password\b(?!")/);
    });

    it("refuses no users at all, bad team names and duplicates", () => {
        const args = (teams: { name: string }[], metricsUser = false) =>
            ({
                labels: { labelDomain: "acme.io", owner: "o", environment: "test", costCentre: "c" },
                mlflowNamespace: "mlflow",
                trackingUri: "http://mlflow.mlflow.svc.cluster.local",
                adminSecretName: "mlflow-auth",
                image: "img:1",
                serverSelector: {},
                teams: teams.map((t) => ({ ...t, namespace: `ml-${t.name}` })),
                metricsUser,
            }) as const;
        expect(() => validateMlflowTeamAccessArgs(args([]))).toThrow(/at least one team \(or metricsUser must be true\)/);
        expect(() => validateMlflowTeamAccessArgs(args([], true))).not.toThrow();
        expect(() => validateMlflowTeamAccessArgs(args([{ name: "Fraud" }]))).toThrow(/lower-case/);
        expect(() => validateMlflowTeamAccessArgs(args([{ name: "fraud" }, { name: "fraud" }]))).toThrow(/twice/);
        expect(() => validateMlflowTeamAccessArgs(args([{ name: "fraud" }, { name: "recsys" }]))).not.toThrow();
    });
});

/**
 * The Job's script against a stand-in for MLflow's basic-auth API (python3's http.server): the same
 * routes, methods, JSON content type and Basic admin auth. Skipped without python3.
 */
const FAKE_MLFLOW = String.raw`
import base64, json, os, subprocess, sys, tempfile, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
users, calls = {}, []
ADMIN = "Basic " + base64.b64encode(b"admin:admin-pw").decode()
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body=None):
        data = json.dumps(body or {}).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def handle_any(self, method):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/health": return self.reply(200)
        if self.headers.get("Authorization") != ADMIN: return self.reply(401)
        calls.append(method + " " + u.path)
        if method == "GET" and u.path == "/api/2.0/mlflow/users/get":
            name = urllib.parse.parse_qs(u.query)["username"][0]
            return self.reply(200, {"user": {"username": name}}) if name in users else self.reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST"})
        if self.headers.get("Content-Type") != "application/json": return self.reply(400)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if method == "POST" and u.path == "/api/2.0/mlflow/users/create":
            if body["username"] in users: return self.reply(400, {"error_code": "RESOURCE_ALREADY_EXISTS"})
            users[body["username"]] = body["password"]; return self.reply(200, {"user": {"username": body["username"]}})
        if method == "PATCH" and u.path == "/api/2.0/mlflow/users/update-password":
            if body["username"] not in users: return self.reply(404)
            users[body["username"]] = body["password"]; return self.reply(200)
        return self.reply(404)
    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_PATCH(self): self.handle_any("PATCH")
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
d = tempfile.mkdtemp()
def run(passwords, admin_pw="admin-pw"):
    json.dump(passwords, open(os.path.join(d, "users.json"), "w"))
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"http://127.0.0.1:{srv.server_address[1]}/", MLFLOW_ADMIN_USERNAME="admin", MLFLOW_ADMIN_PASSWORD=admin_pw,
               MLFLOW_TEAM_USERS_FILE=os.path.join(d, "users.json"))
    p = subprocess.run([sys.executable, "-c", os.environ["SCRIPT"]], env=env, capture_output=True, text=True, timeout=60)
    return {"code": p.returncode, "out": p.stdout + p.stderr, "users": dict(users), "calls": list(calls)}
results = [run({"team-a": "pw-a1", "team-b": "pw-b1"}), run({"team-a": "pw-a2", "team-b": "pw-b1"}), run({"team-a": "pw-a3"}, admin_pw="wrong")]
print(json.dumps(results))
`;

describe("the team-users script against MLflow's auth API", () => {
    const python = (() => {
        try {
            execFileSync("python3", ["--version"], { stdio: "ignore" });
            return true;
        } catch {
            return false;
        }
    })();
    it.skipIf(!python)("creates missing users, updates existing ones' passwords, fails on bad admin credentials, prints no password", () => {
        const out = execFileSync("python3", ["-c", FAKE_MLFLOW], { env: { ...process.env, SCRIPT: TEAM_USERS_SCRIPT }, encoding: "utf8", timeout: 120_000 });
        const [first, second, third] = JSON.parse(out);
        expect(first.code).toBe(0);
        expect(first.users).toEqual({ "team-a": "pw-a1", "team-b": "pw-b1" });
        expect(first.calls).toEqual([
            "GET /api/2.0/mlflow/users/get",
            "POST /api/2.0/mlflow/users/create",
            "GET /api/2.0/mlflow/users/get",
            "POST /api/2.0/mlflow/users/create",
        ]);
        // Run again (a replaced Job): the existing users get their current password, nothing fails.
        expect(second.code).toBe(0);
        expect(second.users).toEqual({ "team-a": "pw-a2", "team-b": "pw-b1" });
        expect(second.calls.slice(4)).toEqual([
            "GET /api/2.0/mlflow/users/get",
            "PATCH /api/2.0/mlflow/users/update-password",
            "GET /api/2.0/mlflow/users/get",
            "PATCH /api/2.0/mlflow/users/update-password",
        ]);
        // Wrong admin password: 401, non-zero exit (the Job retries, then fails the deployment), nothing changed.
        expect(third.code).not.toBe(0);
        expect(third.users).toEqual(second.users);
        expect(third.out).toMatch(/team-a: get -> HTTP 401/);
        for (const r of [first, second, third]) expect(r.out).not.toMatch(/pw-|admin-pw|wrong/);
    });
});
