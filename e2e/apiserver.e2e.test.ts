/**
 * The API-server fixture itself (e2e/lib/apiserver.ts), so that the suites built on it can rely on what
 * it claims: TLS with its own CA, token authentication and nothing anonymous, RBAC, Pod Security and
 * ValidatingAdmissionPolicy admission, service-account tokens signed with its key, the
 * prometheus-operator CRDs, kubectl with impersonation, and a clean stop.
 */
import * as fs from "fs";
import * as https from "https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiServer, startApiServer } from "./lib/apiserver";
import { KUBE_VERSION } from "./lib/paths";
import { waitFor } from "./lib/procs";

describe("the kube-apiserver fixture", () => {
    let api: ApiServer;
    const alice = { user: "alice", groups: ["team-a", "readers"] };
    beforeAll(async () => {
        api = await startApiServer({ users: [alice], prometheusOperatorCrds: ["servicemonitors", "prometheusrules"] });
    });
    afterAll(async () => {
        await api?.stop();
    });

    it("serves the pinned release over TLS signed by its own CA, on loopback", async () => {
        expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect((await api.request("GET", "/version")).body.gitVersion).toBe(KUBE_VERSION);
        // Without the fixture's CA the certificate is not trusted.
        const untrusted = await new Promise<string>((resolve) => {
            https
                .get(`${api.url}/version`, (res) => resolve(`status ${res.statusCode}`))
                .on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        });
        expect(untrusted).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
        expect(fs.readFileSync(api.caFile, "utf8")).toContain("BEGIN CERTIFICATE");
    });

    it("authenticates static tokens, refuses anonymous and unknown tokens", async () => {
        const who = await api.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
            token: api.tokenFor("alice", alice.groups),
            body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        });
        expect(who.status).toBe(201);
        expect(who.body.status.userInfo.username).toBe("alice");
        expect(who.body.status.userInfo.groups).toEqual(["team-a", "readers", "system:authenticated"]);
        expect((await api.request("GET", "/api/v1/namespaces", { token: "not-a-token" })).status).toBe(401);
        const anonymous = await new Promise<number>((resolve, reject) => {
            https.get(`${api.url}/api/v1/namespaces`, { ca: fs.readFileSync(api.caFile) }, (res) => resolve(res.statusCode ?? 0)).on("error", reject);
        });
        expect(anonymous).toBe(401);
        expect(() => api.tokenFor("bob")).toThrow(/not declared/);
        expect(() => api.tokenFor("alice", ["team-a"])).toThrow(/declared with groups/);
    });

    it("authorizes with RBAC only: a user without bindings may do nothing, a binding grants exactly its Role", async () => {
        const token = api.tokenFor("alice");
        expect((await api.request("GET", "/api/v1/namespaces/default/configmaps", { token })).status).toBe(403);
        await api.apply({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: "cm-reader", namespace: "default" },
            rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
        });
        await api.apply({
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: "cm-reader", namespace: "default" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm-reader" },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "readers" }],
        });
        // The RBAC authorizer sees a new binding through its informer: on a loaded machine a moment later.
        await waitFor(
            "the binding to take effect",
            async () => (await api.request("GET", "/api/v1/namespaces/default/configmaps", { token })).status === 200,
            30_000,
        );
        expect((await api.request("GET", "/api/v1/namespaces/default/secrets", { token })).status).toBe(403);
        expect(await api.can(alice, { verb: "list", resource: "configmaps", namespace: "default" })).toBe(true);
        expect(await api.can(alice, { verb: "create", resource: "configmaps", namespace: "default" })).toBe(false);
    });

    it("runs Pod Security admission: a privileged pod is refused where the namespace enforces baseline", async () => {
        await api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "psa", labels: { "pod-security.kubernetes.io/enforce": "baseline" } } });
        await api.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "psa" } });
        const pod = (privileged: boolean) => ({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "p", namespace: "psa" },
            spec: { containers: [{ name: "c", image: "registry.example/c:1", securityContext: { privileged } }] },
        });
        const refused = await api.create(pod(true), { dryRun: true });
        expect(refused.status).toBe(403);
        expect(refused.body.message).toContain('violates PodSecurity "baseline:latest": privileged');
        expect((await api.create(pod(false), { dryRun: true })).status).toBe(201);
    });

    it("runs ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1)", async () => {
        await api.apply({
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicy",
            metadata: { name: "no-forbidden-configmaps" },
            spec: {
                failurePolicy: "Fail",
                matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"] }] },
                validations: [{ expression: "!has(object.data) || !('forbidden' in object.data)", message: "forbidden key" }],
            },
        });
        await api.apply({
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicyBinding",
            metadata: { name: "no-forbidden-configmaps" },
            spec: { policyName: "no-forbidden-configmaps", validationActions: ["Deny"] },
        });
        const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "vap", namespace: "default" }, data: { forbidden: "x" } };
        // The policy reaches the admission plugin asynchronously; retry for a few seconds.
        let r = await api.create(cm, { dryRun: true });
        for (let i = 0; i < 40 && r.status !== 422 && r.status !== 403; i++) {
            await new Promise((res) => setTimeout(res, 250));
            r = await api.create(cm, { dryRun: true });
        }
        expect(r.body.message).toContain("forbidden key");
    });

    it("issues service-account tokens signed with its key (TokenRequest)", async () => {
        await api.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "robot", namespace: "default" } });
        const r = await api.request("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", {
            body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } },
        });
        expect(r.status).toBe(201);
        const who = await api.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
            token: r.body.status.token,
            body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        });
        expect(who.body.status.userInfo.username).toBe("system:serviceaccount:default:robot");
    });

    it("has the prometheus-operator CRDs it was asked for, established", async () => {
        const r = await api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
        expect(r.body.items.map((c: any) => c.metadata.name).sort()).toEqual([
            "prometheusrules.monitoring.coreos.com",
            "servicemonitors.monitoring.coreos.com",
        ]);
        expect((await api.resourceFor("monitoring.coreos.com/v1", "ServiceMonitor")).resource).toBe("servicemonitors");
    });

    it("runs kubectl as the administrator and with impersonation", async () => {
        const admin = await api.kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
        expect(admin).toMatchObject({ code: 0, stdout: "admin" });
        const asAlice = await api.kubectl(["get", "secrets", "-n", "default"], { as: "alice", asGroups: ["readers"] });
        expect(asAlice.code).not.toBe(0);
        expect(asAlice.stderr).toContain("forbidden");
    });

    it("stops etcd and kube-apiserver and removes its data directory", async () => {
        const other = await startApiServer({ prometheusOperatorCrds: false });
        const dir = other.dataDir;
        expect(fs.existsSync(dir)).toBe(true);
        await other.stop();
        expect(fs.existsSync(dir)).toBe(false);
        await expect(other.request("GET", "/version")).rejects.toThrow();
        await other.stop(); // twice is fine
    });
});
