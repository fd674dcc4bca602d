/**
 * A real Kubernetes API server for the end-to-end tier: etcd (Debian `etcd-server`) and kube-apiserver
 * (built by e2e/setup/build-kube.sh) started on loopback, in a fresh data directory, on free ports.
 *
 * The server is configured as a production control plane would be, as far as one process allows:
 * TLS with its own CA, token authentication (a static token file: an administrator in `system:masters`
 * and the users a suite declares), RBAC authorization only, the default admission plugins (PodSecurity,
 * ResourceQuota, LimitRanger, ServiceAccount, ValidatingAdmissionPolicy, ...), privileged containers
 * allowed by the server (so that Pod Security admission is what rejects them), and service-account
 * token signing keys. There is no controller-manager, scheduler or kubelet: objects are stored and
 * admitted, nothing runs. By default the prometheus-operator CRDs (e2e/setup/prometheus-operator-crds.sh)
 * are installed and established before the server is handed out.
 *
 *     const api = await startApiServer({ users: [{ user: "alice", groups: ["team-a"] }] });
 *     try { await api.apply(obj, { as: "alice", asGroups: ["team-a"] }); } finally { await api.stop(); }
 */
import { type ChildProcess, execFile, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { kubeBinary, prometheusOperatorCrdDir } from "./paths";

/** A user with a static bearer token (see {@link ApiServer.tokenFor}). */
/** The Services' ClusterIP range of every API server of the tier. */
export const SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16";

export interface StaticUser {
    readonly user: string;
    readonly groups: readonly string[];
}

export interface ApiServerOptions {
    /** Users to authenticate with their own tokens (besides the administrator). Default none. */
    readonly users?: readonly StaticUser[];
    /**
     * Install the prometheus-operator CRDs and wait until they are established: all (true, the default),
     * none (false), or those of the given resources (`["servicemonitors", "prometheusrules"]`).
     */
    readonly prometheusOperatorCrds?: boolean | readonly string[];
    /** Extra kube-apiserver flags (`--name=value`), appended after the fixture's own. */
    readonly extraArgs?: readonly string[];
    /** How long to wait for the server to become ready. Default 120 s. */
    readonly readyTimeoutMs?: number;
}

/** Who makes a request: the administrator's token, impersonating `as`/`asGroups` if given, or `token`. */
export interface Identity {
    /** Impersonate this user (with the administrator's token). */
    readonly as?: string;
    /** Impersonate these groups (requires `as`). */
    readonly asGroups?: readonly string[];
    /** Use this bearer token instead (e.g. from {@link ApiServer.tokenFor}). */
    readonly token?: string;
}

export interface RequestOptions extends Identity {
    /** JSON-serialisable body (sent as JSON unless `contentType` says otherwise). */
    readonly body?: unknown;
    readonly contentType?: string;
    /** Query parameters. */
    readonly query?: Record<string, string | undefined>;
}

/** A response of the API server. */
export interface ApiResponse {
    readonly status: number;
    /** Parsed JSON body (or the raw text when it is not JSON). */
    readonly body: any;
    /** Every `Warning` header (RFC 7234 `299 - "text"`), unquoted: Pod Security, deprecation, unknown-field warnings. */
    readonly warnings: string[];
}

/** A Kubernetes object (apiVersion, kind, metadata.name at least). */
export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: { name?: string; namespace?: string; [key: string]: unknown };
    [key: string]: unknown;
}

export interface ApplyOptions extends Identity {
    /** Field manager of the apply. Default `pulumi-kubernetes` (as the provider's). */
    readonly fieldManager?: string;
    /** Validate and admit without storing (`dryRun=All`). */
    readonly dryRun?: boolean;
}

/** The REST resource of a kind. */
export interface ResourceInfo {
    readonly group: string;
    readonly version: string;
    readonly resource: string;
    readonly namespaced: boolean;
}

export interface KubectlResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** A running API server. */
export interface ApiServer {
    /** `https://127.0.0.1:<port>`. */
    readonly url: string;
    /** PEM file of the CA that signed the serving certificate. */
    readonly caFile: string;
    /** Bearer token of the administrator (user `admin`, group `system:masters`). */
    readonly adminToken: string;
    /** A kubeconfig for the administrator (kubectl's `--kubeconfig`). */
    readonly kubeconfig: string;
    /** The data directory (etcd data, certificates, logs); removed by {@link stop}. */
    readonly dataDir: string;
    /** The bearer token of a user declared in {@link ApiServerOptions.users}, with exactly these groups. */
    tokenFor(user: string, groups?: readonly string[]): string;
    /** One HTTP request. `path` starts with `/`. */
    request(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse>;
    /** Server-side apply of one object (PATCH `application/apply-patch+yaml`, force, field validation Warn as the provider sends it). */
    apply(obj: KubeObject, opts?: ApplyOptions): Promise<ApiResponse>;
    /** Creates one object (POST), e.g. a Pod with `dryRun`. */
    create(obj: KubeObject, opts?: ApplyOptions): Promise<ApiResponse>;
    /** The REST resource of `apiVersion`/`kind`, from the server's discovery. */
    resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo>;
    /** The object's REST path (collection path with `collection`). */
    objectPath(obj: KubeObject, collection?: boolean): Promise<string>;
    /** Whether a SubjectAccessReview (asked as the administrator) allows the user. */
    can(
        subject: { user: string; groups: readonly string[] },
        attrs: { verb: string; group?: string; resource: string; subresource?: string; namespace?: string; name?: string },
    ): Promise<boolean>;
    /** Runs kubectl against the server as the administrator, impersonating `as`/`asGroups` if given. */
    kubectl(args: readonly string[], opts?: Identity & { input?: string }): Promise<KubectlResult>;
    /** Stops kube-apiserver and etcd and removes the data directory. Safe to call twice. */
    stop(): Promise<void>;
}

/** A free TCP port on loopback, as the OS hands it out. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

function run(cmd: string, args: readonly string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<KubectlResult> {
    return new Promise((resolve) => {
        const child = execFile(cmd, [...args], { cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as any).code === "number" ? (err as any).code : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
        if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
    const r = await run("openssl", args, { cwd });
    if (r.code !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
}

/** CA, serving certificate (127.0.0.1, localhost, kubernetes.default...) and service-account keys. */
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string; saKey: string; saPub: string }> {
    fs.mkdirSync(dir, { recursive: true });
    await openssl(
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=e2e-kubernetes-ca"],
        dir,
    );
    fs.writeFileSync(
        path.join(dir, "server.ext"),
        [
            "basicConstraints=CA:FALSE",
            "keyUsage=digitalSignature,keyEncipherment",
            "extendedKeyUsage=serverAuth",
            "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
        ].join("\n"),
    );
    await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver"], dir);
    await openssl(
        [
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
        dir,
    );
    await openssl(["genrsa", "-out", "sa.key", "2048"], dir);
    await openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    const p = (f: string) => path.join(dir, f);
    return { ca: p("ca.crt"), cert: p("server.crt"), key: p("server.key"), saKey: p("sa.key"), saPub: p("sa.pub") };
}

function csvField(s: string): string {
    return /[",\s]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Unquotes one `Warning` header value (`299 - "text"`). */
export function parseWarning(value: string): string {
    const m = /^\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(value.trim());
    return m ? m[1].replace(/\\(.)/g, "$1") : value;
}

function tail(file: string, lines = 30): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "";
    }
}

function stopProcess(child: ChildProcess | undefined, timeoutMs = 10_000): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve();
        });
        child.kill("SIGTERM");
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts etcd and kube-apiserver; see the module comment. Call `stop()` in `afterAll` (also on failure). */
export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-apiserver-"));
    let etcd: ChildProcess | undefined;
    let apiserver: ChildProcess | undefined;
    let stopped = false;
    const stop = async () => {
        if (stopped) return;
        stopped = true;
        await stopProcess(apiserver);
        await stopProcess(etcd);
        fs.rmSync(dataDir, { recursive: true, force: true });
    };
    try {
        const certs = await makeCertificates(path.join(dataDir, "pki"));
        const adminToken = crypto.randomBytes(24).toString("hex");
        const tokens = new Map<string, { token: string; groups: readonly string[] }>();
        const rows = [`${adminToken},admin,admin-uid,"system:masters"`];
        for (const u of opts.users ?? []) {
            if (u.user === "admin" || tokens.has(u.user)) throw new Error(`startApiServer: user "${u.user}" declared twice (or reserved)`);
            const token = crypto.randomBytes(24).toString("hex");
            tokens.set(u.user, { token, groups: [...u.groups] });
            rows.push([token, csvField(u.user), csvField(`${u.user}-uid`), `"${u.groups.map((g) => g.replace(/"/g, '""')).join(",")}"`].join(","));
        }
        const tokenFile = path.join(dataDir, "tokens.csv");
        fs.writeFileSync(tokenFile, `${rows.join("\n")}\n`, { mode: 0o600 });

        const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
        const etcdLog = path.join(dataDir, "etcd.log");
        etcd = spawn(
            "etcd",
            [
                "--name=e2e",
                `--data-dir=${path.join(dataDir, "etcd")}`,
                `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
                `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
                `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
                `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
                `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
                "--initial-cluster-state=new",
                "--unsafe-no-fsync",
            ],
            { stdio: ["ignore", fs.openSync(etcdLog, "a"), fs.openSync(etcdLog, "a")] },
        );
        const apiLog = path.join(dataDir, "kube-apiserver.log");
        apiserver = spawn(
            kubeBinary("kube-apiserver"),
            [
                `--etcd-servers=http://127.0.0.1:${etcdClient}`,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                `--secure-port=${securePort}`,
                `--cert-dir=${path.join(dataDir, "pki")}`,
                `--tls-cert-file=${certs.cert}`,
                `--tls-private-key-file=${certs.key}`,
                `--client-ca-file=${certs.ca}`,
                `--token-auth-file=${tokenFile}`,
                "--authorization-mode=RBAC",
                "--anonymous-auth=false",
                "--allow-privileged=true",
                `--service-account-key-file=${certs.saPub}`,
                `--service-account-signing-key-file=${certs.saKey}`,
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
                "--profiling=false",
                ...(opts.extraArgs ?? []),
            ],
            { stdio: ["ignore", fs.openSync(apiLog, "a"), fs.openSync(apiLog, "a")] },
        );
        const url = `https://127.0.0.1:${securePort}`;
        const ca = fs.readFileSync(certs.ca);
        const agent = new https.Agent({ ca, keepAlive: true, maxSockets: 16 });

        const request = (method: string, p: string, o: RequestOptions = {}): Promise<ApiResponse> => {
            const q = Object.entries(o.query ?? {}).filter(([, v]) => v !== undefined) as [string, string][];
            const full = q.length ? `${p}?${new URLSearchParams(q).toString()}` : p;
            const headers: Record<string, string | string[]> = { Accept: "application/json", Authorization: `Bearer ${o.token ?? adminToken}` };
            if (!o.token && o.as) headers["Impersonate-User"] = o.as;
            if (!o.token && o.asGroups?.length) headers["Impersonate-Group"] = [...o.asGroups];
            let data: string | undefined;
            if (o.body !== undefined) {
                data = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
                headers["Content-Type"] = o.contentType ?? "application/json";
            }
            return new Promise((resolve, reject) => {
                const req = https.request(`${url}${full}`, { method, agent, headers }, (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        let body: any = text;
                        try {
                            body = text ? JSON.parse(text) : undefined;
                        } catch {
                            /* not JSON */
                        }
                        const warnings: string[] = [];
                        for (let i = 0; i < res.rawHeaders.length; i += 2) {
                            if (res.rawHeaders[i].toLowerCase() === "warning") warnings.push(parseWarning(res.rawHeaders[i + 1]));
                        }
                        resolve({ status: res.statusCode ?? 0, body, warnings });
                    });
                    res.on("error", reject);
                });
                req.on("error", reject);
                if (data !== undefined) req.write(data);
                req.end();
            });
        };

        // Ready: /readyz (every post-start hook, RBAC bootstrap roles included) answers ok.
        const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
        for (;;) {
            if (etcd.exitCode !== null) throw new Error(`etcd exited (${etcd.exitCode}):\n${tail(etcdLog)}`);
            if (apiserver.exitCode !== null) throw new Error(`kube-apiserver exited (${apiserver.exitCode}):\n${tail(apiLog)}`);
            const r = await request("GET", "/readyz").catch(() => undefined);
            if (r?.status === 200) break;
            if (Date.now() > deadline) throw new Error(`kube-apiserver not ready after ${opts.readyTimeoutMs ?? 120_000} ms:\n${tail(apiLog)}`);
            await sleep(250);
        }

        const discovery = new Map<string, Promise<any[]>>();
        const resourcesOf = (apiVersion: string) => {
            let p = discovery.get(apiVersion);
            if (!p) {
                p = request("GET", apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`).then((r) =>
                    r.status === 200 ? r.body.resources : [],
                );
                discovery.set(apiVersion, p);
            }
            return p;
        };
        const resourceFor = async (apiVersion: string, kind: string): Promise<ResourceInfo> => {
            let list = await resourcesOf(apiVersion);
            let r = list.find((x: any) => x.kind === kind && !x.name.includes("/"));
            if (!r) {
                discovery.delete(apiVersion); // a CRD may have been established since
                list = await resourcesOf(apiVersion);
                r = list.find((x: any) => x.kind === kind && !x.name.includes("/"));
            }
            if (!r) throw new Error(`the server has no resource for ${apiVersion} ${kind}`);
            const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
            return { group, version, resource: r.name, namespaced: r.namespaced };
        };
        const objectPath = async (obj: KubeObject, collection = false): Promise<string> => {
            const info = await resourceFor(obj.apiVersion, obj.kind);
            const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
            const ns = info.namespaced ? `/namespaces/${encodeURIComponent(obj.metadata.namespace ?? "default")}` : "";
            return `${base}${ns}/${info.resource}${collection ? "" : `/${encodeURIComponent(String(obj.metadata.name))}`}`;
        };
        const apply = async (obj: KubeObject, o: ApplyOptions = {}) =>
            request("PATCH", await objectPath(obj), {
                ...o,
                body: JSON.stringify(obj),
                contentType: "application/apply-patch+yaml",
                query: { fieldManager: o.fieldManager ?? "pulumi-kubernetes", force: "true", fieldValidation: "Warn", dryRun: o.dryRun ? "All" : undefined },
            });
        const create = async (obj: KubeObject, o: ApplyOptions = {}) =>
            request("POST", await objectPath(obj, true), {
                ...o,
                body: obj,
                query: { fieldManager: o.fieldManager ?? "pulumi-kubernetes", fieldValidation: "Strict", dryRun: o.dryRun ? "All" : undefined },
            });
        const can: ApiServer["can"] = async (subject, attrs) => {
            const r = await request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
                body: {
                    apiVersion: "authorization.k8s.io/v1",
                    kind: "SubjectAccessReview",
                    spec: { user: subject.user, groups: [...subject.groups, "system:authenticated"], resourceAttributes: { group: "", ...attrs } },
                },
            });
            if (r.status !== 201) throw new Error(`SubjectAccessReview failed (${r.status}): ${JSON.stringify(r.body)}`);
            return r.body.status.allowed === true;
        };

        const kubeconfig = path.join(dataDir, "admin.kubeconfig");
        fs.writeFileSync(
            kubeconfig,
            yaml.dump({
                apiVersion: "v1",
                kind: "Config",
                clusters: [{ name: "e2e", cluster: { server: url, "certificate-authority": certs.ca } }],
                users: [{ name: "admin", user: { token: adminToken } }],
                contexts: [{ name: "e2e", context: { cluster: "e2e", user: "admin" } }],
                "current-context": "e2e",
            }),
            { mode: 0o600 },
        );
        const kubectl: ApiServer["kubectl"] = (args, o = {}) =>
            run(
                kubeBinary("kubectl"),
                [`--kubeconfig=${kubeconfig}`, ...(o.as ? [`--as=${o.as}`] : []), ...(o.asGroups ?? []).map((g) => `--as-group=${g}`), ...args],
                {
                    input: o.input,
                    env: { ...process.env, KUBECONFIG: kubeconfig },
                },
            );

        const api: ApiServer = {
            url,
            caFile: certs.ca,
            adminToken,
            kubeconfig,
            dataDir,
            tokenFor(user, groups) {
                const t = tokens.get(user);
                if (!t) throw new Error(`tokenFor: user "${user}" was not declared in startApiServer({ users })`);
                if (groups && (groups.length !== t.groups.length || groups.some((g) => !t.groups.includes(g)))) {
                    throw new Error(`tokenFor: user "${user}" was declared with groups [${t.groups.join(", ")}], not [${groups.join(", ")}]`);
                }
                return t.token;
            },
            request,
            apply,
            create,
            resourceFor,
            objectPath,
            can,
            kubectl,
            stop: async () => {
                agent.destroy();
                await stop();
            },
        };
        const crds = opts.prometheusOperatorCrds ?? true;
        if (crds !== false) await installPrometheusOperatorCrds(api, crds === true ? undefined : crds);
        return api;
    } catch (err) {
        await stop();
        throw err;
    }
}

/**
 * Applies the cached prometheus-operator CRDs (all, or those of the given resource plurals) as the
 * administrator and waits until each is established. Returns the CRD names.
 */
export async function installPrometheusOperatorCrds(api: ApiServer, resources?: readonly string[]): Promise<string[]> {
    const dir = prometheusOperatorCrdDir();
    if (!fs.existsSync(path.join(dir, ".complete"))) throw new Error(`no prometheus-operator CRDs in ${dir}: run e2e/setup/install.sh (npm run test:e2e does)`);
    const all = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".yaml"))
        .sort();
    const files = resources ? all.filter((f) => resources.includes(f.replace(/^monitoring\.coreos\.com_|\.yaml$/g, ""))) : all;
    const unknown = (resources ?? []).filter((r) => !all.includes(`monitoring.coreos.com_${r}.yaml`));
    if (unknown.length) throw new Error(`no prometheus-operator CRD for ${unknown.join(", ")} in ${dir}`);
    const names: string[] = [];
    for (const f of files) {
        const crd = yaml.load(fs.readFileSync(path.join(dir, f), "utf8")) as KubeObject;
        const r = await api.apply(crd, { fieldManager: "e2e-fixture" });
        if (r.status >= 300) throw new Error(`applying CRD ${f}: ${r.status} ${JSON.stringify(r.body?.message ?? r.body)}`);
        names.push(String(crd.metadata.name));
    }
    const deadline = Date.now() + 60_000;
    for (const name of names) {
        for (;;) {
            const r = await api.request("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
            if ((r.body?.status?.conditions ?? []).some((c: any) => c.type === "Established" && c.status === "True")) break;
            if (Date.now() > deadline) throw new Error(`CRD ${name} not established after 60 s`);
            await sleep(200);
        }
    }
    return names;
}
