/**
 * A real single-node Kubernetes cluster on this machine, for the end-to-end tier: its own etcd and
 * kube-apiserver from the shared fixture (apiserver.ts: TLS, token authentication, RBAC, the default
 * admission plugins with PodSecurity), here with the Node authorizer and NodeRestriction added and a
 * client certificate towards kubelet; containerd (Debian's, its own config, root and socket in a temp directory) with runc,
 * a bridge CNI network on a private /24 of its own with no masquerade (packets never leave the machine),
 * kubelet, kube-scheduler and kube-controller-manager built from the same Go modules as the API server.
 * kube-proxy (iptables mode) makes Service ClusterIPs answer on this machine; with `clusterDns` a small
 * DNS server for the cluster domain (clusterDns.ts) answers the pods' in-cluster names. Local
 * PersistentVolumes (`localVolume`) stand in for a storage class's provisioner. With `addOns` the control
 * plane is also what cluster add-ons (an operator, metrics-server, an adapter) need: pods reach the API
 * server through the `kubernetes` Service, the aggregation layer proxies to extension API servers, and
 * kubelet serves with a certificate of the cluster's CA.
 *
 * `LocalNode.start()` brings it up; `stop()` tears it down and restores what it changed on the machine
 * (hostState.ts), returning what it could not restore. `nodeSupport()` says whether this machine can run
 * it at all, and why not.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ApiServer, SERVICE_CLUSTER_IP_RANGE, startApiServer } from "./apiserver";
import { ClusterDns } from "./clusterDns";
import { diff, HostSnapshot, restore, snapshot, unmountAll } from "./hostState";
import { buildPauseImage, PAUSE_IMAGE } from "./nodeImages";
import { kubeBinary } from "./paths";

/** Where the node finds Debian's CNI plugins. */
export const CNI_BIN_DIR = "/usr/lib/cni";

/** Whether this machine can run a real node, and if not, why (every reason found). */
export interface NodeSupport {
    readonly ok: boolean;
    readonly reasons: string[];
}

function which(cmd: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** The cgroup hierarchies mounted on this machine: mount point -> filesystem type (cgroup or cgroup2). */
export function cgroupMounts(): Map<string, string> {
    const out = new Map<string, string>();
    for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
        const [pre, post] = line.split(" - ");
        if (!post) continue;
        const fstype = post.split(" ")[0];
        if (fstype === "cgroup" || fstype === "cgroup2") out.set(pre.split(" ")[4], fstype);
    }
    return out;
}

/** Checks what the node needs from this machine: Linux, root, cgroups, overlayfs, network namespaces, the binaries. */
export function nodeSupport(): NodeSupport {
    const reasons: string[] = [];
    if (process.platform !== "linux") return { ok: false, reasons: [`not Linux (${process.platform})`] };
    if (process.getuid?.() !== 0) reasons.push("not running as root (kubelet, containerd and runc need root)");
    const mounts = cgroupMounts();
    const v2 = [...mounts.values()].includes("cgroup2") && fs.existsSync("/sys/fs/cgroup/cgroup.controllers");
    const v1 = ["memory", "cpu", "pids", "cpuset"].filter(
        (c) => ![...mounts.entries()].some(([m, t]) => t === "cgroup" && path.basename(m).split(",").includes(c)),
    );
    if (mounts.size === 0) reasons.push("no cgroup filesystem is mounted");
    else if (!v2 && v1.length > 0) reasons.push(`cgroup v1 controllers missing: ${v1.join(", ")}`);
    if (!fs.readFileSync("/proc/filesystems", "utf8").includes("overlay")) reasons.push("the kernel has no overlay filesystem (containerd's snapshotter)");
    if (reasons.length === 0 && spawnSync("unshare", ["--net", "true"], { stdio: "ignore" }).status !== 0)
        reasons.push("cannot create a network namespace (unshare --net)");
    for (const cmd of ["containerd", "containerd-shim-runc-v2", "runc", "ctr", "etcd", "iptables", "ip", "gcc", "openssl", "debootstrap", "chroot", "go"]) {
        if (!which(cmd)) reasons.push(`${cmd} not installed (E2E_NODE=1 bash e2e/setup/install-node.sh installs it)`);
    }
    for (const plugin of ["bridge", "host-local", "loopback"]) {
        if (!fs.existsSync(path.join(CNI_BIN_DIR, plugin)))
            reasons.push(`CNI plugin ${plugin} missing in ${CNI_BIN_DIR} (Debian: containernetworking-plugins)`);
    }
    for (const bin of ["kube-apiserver", "kubectl", "kubelet", "kube-scheduler", "kube-controller-manager", "kube-proxy"] as const) {
        if (!fs.existsSync(kubeBinary(bin))) reasons.push(`${bin} not built (KUBE_NODE=1 bash e2e/setup/build-kube.sh)`);
    }
    return { ok: reasons.length === 0, reasons };
}

/** A free TCP port on loopback, from the OS. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** Polls `check` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(
    what: string,
    timeoutMs: number,
    check: () => T | undefined | false | Promise<T | undefined | false>,
    explain?: () => string,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await check();
            if (v !== undefined && v !== false) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            throw new Error(
                `timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${String((last as Error).message ?? last).slice(0, 500)}` : ""}${explain ? `\n${explain()}` : ""}`,
            );
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

interface Proc {
    readonly name: string;
    readonly child: ChildProcess;
    readonly log: string;
    exited: boolean;
}

/** Options of a node. */
export interface LocalNodeOptions {
    /** The node's name (also kubelet's hostname override). */
    readonly nodeName?: string;
    /**
     * Run the cluster DNS (clusterDns.ts) on the node's IP and give pods the cluster's resolv.conf
     * (kubelet's clusterDNS and clusterDomain `cluster.local`); default false.
     */
    readonly clusterDns?: boolean;
    /**
     * What cluster add-ons need from the control plane (default false):
     * - pods reach the API server through the `kubernetes` Service: it is advertised at the node's IP,
     *   where a relay (a child process, `api-relay`) passes connections to its loopback port;
     * - the aggregation layer: a front-proxy CA and client certificate (`--requestheader-*`,
     *   `--proxy-client-*`), so the API server proxies APIService groups to extension API servers;
     * - kubelet serves with a certificate signed by the API server's CA for the node's IP (what a
     *   cluster's kubelet serving certificates are), which metrics-server verifies;
     * - the root mount is shared (as systemd makes it), so a pod may mount a host path with
     *   `mountPropagation: HostToContainer` (node-exporter's); teardown makes it private again if it was.
     */
    readonly addOns?: boolean;
}

/**
 * The relay that lets pods reach the API server (`addOns`): listens on argv[1]:argv[2] and passes each
 * connection to 127.0.0.1:argv[3] (a child process, so the test's own synchronous work never stalls it).
 */
const API_RELAY = `
const net = require("net");
const [host, port, target] = process.argv.slice(1);
net.createServer((c) => {
    const u = net.connect(Number(target), "127.0.0.1");
    c.pipe(u).on("error", () => u.destroy());
    u.pipe(c).on("error", () => c.destroy());
    c.on("error", () => u.destroy());
    u.on("error", () => c.destroy());
}).listen(Number(port), host, () => console.log("relaying " + host + ":" + port + " to 127.0.0.1:" + target));
`;

/** The file the machine-wide node lock is taken on (flock). */
export const NODE_LOCK = path.join(os.tmpdir(), "mlops-e2e-node.lock");
/** How long {@link LocalNode.start} waits for another node on the machine to stop. */
export const NODE_LOCK_WAIT_MS = 45 * 60_000;
/**
 * Timeout of a node suite's `beforeAll`: the wait for the lock, then the node's start and the suite's own
 * setup (minutes on a loaded 2-core machine). The tier's default hook timeout (10 minutes) would end
 * the wait early when another checkout's node suite holds the machine.
 */
export const NODE_SETUP_TIMEOUT_MS = NODE_LOCK_WAIT_MS + 15 * 60_000;

/**
 * Takes an exclusive flock(1) on `file`, held by a child process until it is killed (or this process
 * exits: the child's stdin closes and it ends), waiting up to `timeoutMs` for another holder to finish.
 */
export async function machineLock(file: string, timeoutMs: number): Promise<ChildProcess> {
    const child = spawn("flock", ["--exclusive", "--timeout", String(Math.ceil(timeoutMs / 1000)), file, "sh", "-c", "echo locked; exec cat >/dev/null"], {
        stdio: ["pipe", "pipe", "pipe"],
    });
    const waitedNotice = setTimeout(() => console.warn(`[node] waiting for another real node on this machine to stop (${file})`), 2000);
    try {
        await new Promise<void>((resolve, reject) => {
            child.stdout!.on("data", (d: Buffer) => {
                if (d.toString().includes("locked")) resolve();
            });
            child.once("exit", (code) => reject(new Error(`could not take the node lock ${file} within ${timeoutMs / 1000}s (flock exited ${code})`)));
        });
    } finally {
        clearTimeout(waitedNotice);
    }
    return child;
}

/** The last lines of a log file (for error messages). */
export function tail(file: string, lines = 30): string {
    try {
        return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
        return "";
    }
}

function openssl(cwd: string, ...args: string[]): void {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** openssl req's arguments for a new P-256 key, unencrypted, in `<name>.key`. */
const newKey = (name: string) => ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`];

/** A self-signed P-256 certificate authority `<name>.crt`/`<name>.key` in `dir`, valid two days. */
export function makeCa(dir: string, name: string, subject: string): void {
    openssl(dir, "req", "-x509", ...newKey(name), "-out", `${name}.crt`, "-days", "2", "-subj", subject);
}

/**
 * A P-256 key and certificate `<name>.key`/`<name>.crt` in `dir` for `subject`, valid two days, signed by the
 * CA `ca` (the path of its .crt/.key without the suffix), with the X.509 extensions `ext` (openssl's -extfile lines).
 */
export function issueCertificate(dir: string, name: string, subject: string, ca: string, ext?: string): void {
    openssl(dir, "req", ...newKey(name), "-out", `${name}.csr`, "-subj", subject);
    if (ext) fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    const signed = ["-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "2"];
    openssl(dir, "x509", ...signed, ...(ext ? ["-extfile", `${name}.ext`] : []));
}

/** A running single-node cluster. */
export class LocalNode {
    /** The node's temp root: every config, state directory, socket and log. */
    readonly root: string;
    readonly nodeName: string;
    /** The pods' network (a /24 of 10.217.0.0/16) and the bridge's address on it (the node's IP). */
    readonly podSubnet: string;
    readonly nodeIP: string;
    readonly bridge: string;
    /** The API server (etcd and kube-apiserver of the shared fixture); set once started. */
    api?: ApiServer;
    /** The cluster DNS (with `clusterDns`). */
    dns?: ClusterDns;
    private readonly procs: Proc[] = [];
    private hostBefore?: HostSnapshot;
    private lock?: ChildProcess;
    private cgroupDirs: string[] = [];
    private stopped = false;

    private constructor(
        root: string,
        nodeName: string,
        octet: number,
        private readonly opts: LocalNodeOptions = {},
    ) {
        this.root = root;
        this.nodeName = nodeName;
        this.podSubnet = `10.217.${octet}.0/24`;
        this.nodeIP = `10.217.${octet}.1`;
        this.bridge = `mlops${path
            .basename(root)
            .slice(-6)
            .replace(/[^a-zA-Z0-9]/g, "x")}`.slice(0, 15);
    }

    /** Brings up the node; on any failure, tears down what it started and rethrows. */
    static async start(opts: LocalNodeOptions = {}): Promise<LocalNode> {
        // One node on the machine at a time (other checkouts, CI): a second one would see the first one's
        // iptables rules and directories as its own changes and remove them at its teardown.
        const lock = await machineLock(NODE_LOCK, NODE_LOCK_WAIT_MS);
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-node-"));
        fs.chmodSync(root, 0o711);
        const node = new LocalNode(root, opts.nodeName ?? "e2e-node", 1 + crypto.randomInt(254), opts);
        node.lock = lock;
        try {
            await node.up();
            return node;
        } catch (e) {
            const left = await node.stop();
            if (left.length > 0) console.error(`node teardown after a failed start left: ${left.join("; ")}`);
            throw e;
        }
    }

    private p(...parts: string[]): string {
        return path.join(this.root, ...parts);
    }

    private spawn(name: string, cmd: string, args: string[]): Proc {
        const log = this.p("logs", `${name}.log`);
        fs.mkdirSync(path.dirname(log), { recursive: true });
        const fd = fs.openSync(log, "a");
        const child = spawn(cmd, args, { stdio: ["ignore", fd, fd], cwd: this.root });
        fs.closeSync(fd);
        const proc: Proc = { name, child, log, exited: false };
        child.on("exit", () => {
            proc.exited = true;
        });
        this.procs.push(proc);
        return proc;
    }

    private async waitUp<T>(proc: Proc, what: string, timeoutMs: number, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
        return waitFor(
            what,
            timeoutMs,
            () => {
                if (proc.exited) throw new Error(`${proc.name} exited (code ${proc.child.exitCode}):\n${tail(proc.log)}`);
                return check();
            },
            () => `${proc.name} log:\n${tail(proc.log)}`,
        );
    }

    /** The administrator's kubeconfig (the fixture's `system:masters` token). */
    get kubeconfig(): string {
        if (!this.api) throw new Error("the node's API server is not running");
        return this.api.kubeconfig;
    }

    /** Runs kubectl against the node as the administrator; throws with kubectl's stderr on failure. */
    kubectl(args: string[], input?: string): string {
        const r = spawnSync(kubeBinary("kubectl"), ["--kubeconfig", this.kubeconfig, ...args], { input, encoding: "utf8", maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
        return r.stdout;
    }

    /** kubectl returning parsed JSON (-o json added). */
    kubectlJson<T = any>(args: string[]): T {
        return JSON.parse(this.kubectl([...args, "-o", "json"])) as T;
    }

    /** Imports an OCI image archive into containerd's CRI namespace (k8s.io), where kubelet finds it. */
    importImage(archive: string): void {
        execFileSync("ctr", ["--address", this.p("containerd", "containerd.sock"), "-n", "k8s.io", "images", "import", "--no-unpack=false", archive], {
            stdio: ["ignore", "ignore", "pipe"],
        });
    }

    /**
     * A local PersistentVolume of `capacity` on this node (a directory under its root), with no storage
     * class, reserved for `claim` when given (its `claimRef`): that claim binds to it, as a cloud cluster's
     * default class would provision a volume for it, and no other claim of the plan takes it first (without
     * `claim`, any claim of no class that fits may bind it). kubelet applies
     * the pod's fsGroup to it (the local volume plugin manages ownership).
     */
    localVolume(name: string, capacity: string, claim?: { namespace: string; name: string }): string {
        const dir = this.p("volumes", name);
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        this.kubectl(
            ["apply", "-f", "-"],
            JSON.stringify({
                apiVersion: "v1",
                kind: "PersistentVolume",
                metadata: { name },
                spec: {
                    capacity: { storage: capacity },
                    accessModes: ["ReadWriteOnce"],
                    persistentVolumeReclaimPolicy: "Retain",
                    storageClassName: "",
                    ...(claim ? { claimRef: { namespace: claim.namespace, name: claim.name } } : {}),
                    volumeMode: "Filesystem",
                    local: { path: dir },
                    nodeAffinity: {
                        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [this.nodeName] }] }] },
                    },
                },
            }),
        );
        return dir;
    }

    private writeKubeconfig(file: string, user: string, token: string): void {
        const api = this.api!;
        const ca = fs.readFileSync(api.caFile).toString("base64");
        fs.writeFileSync(
            file,
            [
                "apiVersion: v1",
                "kind: Config",
                "clusters:",
                `- name: e2e`,
                "  cluster:",
                `    server: ${api.url}`,
                `    certificate-authority-data: ${ca}`,
                "users:",
                `- name: ${user}`,
                "  user:",
                `    token: ${token}`,
                "contexts:",
                "- name: e2e",
                "  context:",
                "    cluster: e2e",
                `    user: ${user}`,
                "current-context: e2e",
                "",
            ].join("\n"),
            { mode: 0o600 },
        );
    }

    private async up(): Promise<void> {
        this.hostBefore = snapshot();
        if (this.opts.addOns && this.hostBefore.rootPropagation === "private") execFileSync("mount", ["--make-shared", "/"]);
        // --- PKI of the kubelet side: a CA kubelet trusts for client certificates, and the API server's
        // client certificate towards kubelet (exec, logs, port-forward).
        const pki = this.p("pki");
        fs.mkdirSync(pki, { mode: 0o700 });
        makeCa(pki, "ca", "/CN=mlops-e2e-kubelet-client-ca");
        issueCertificate(pki, "kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", path.join(pki, "ca"));

        // --- addOns: the aggregation layer's front proxy (its own CA; the API server's client certificate towards
        // extension API servers, which they trust through the extension-apiserver-authentication ConfigMap).
        const addOnArgs: string[] = [];
        if (this.opts.addOns) {
            makeCa(pki, "front-proxy-ca", "/CN=mlops-e2e-front-proxy-ca");
            issueCertificate(pki, "front-proxy-client", "/CN=front-proxy-client", path.join(pki, "front-proxy-ca"), "extendedKeyUsage=clientAuth");
            addOnArgs.push(
                `--advertise-address=${this.nodeIP}`,
                `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`,
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                `--proxy-client-cert-file=${pki}/front-proxy-client.crt`,
                `--proxy-client-key-file=${pki}/front-proxy-client.key`,
            );
        }

        // --- The API server (the shared fixture), with what a node needs besides: the Node authorizer and
        // NodeRestriction (kubelet acts as system:node:<name>), the client certificate towards kubelet.
        const identities = {
            kubelet: { user: `system:node:${this.nodeName}`, groups: ["system:nodes"] },
            scheduler: { user: "system:kube-scheduler", groups: [] },
            controller: { user: "system:kube-controller-manager", groups: [] },
            proxy: { user: "system:kube-proxy", groups: [] },
        };
        this.api = await startApiServer({
            users: Object.values(identities),
            prometheusOperatorCrds: false,
            extraArgs: [
                // --authorization-mode is a list: this adds Node to the fixture's RBAC.
                "--authorization-mode=Node",
                "--enable-admission-plugins=NodeRestriction",
                `--kubelet-client-certificate=${pki}/kubelet-client.crt`,
                `--kubelet-client-key=${pki}/kubelet-client.key`,
                "--kubelet-preferred-address-types=InternalIP",
                ...addOnArgs,
            ],
        });
        // One kubeconfig per component, each with its own static token (never in argv).
        for (const [k, id] of Object.entries(identities)) this.writeKubeconfig(this.p(`${k}.kubeconfig`), id.user, this.api.tokenFor(id.user, id.groups));

        // --- the node's network: the bridge exists before kubelet, so the node's IP is private to this machine.
        execFileSync("ip", ["link", "add", this.bridge, "type", "bridge"]);
        execFileSync("ip", ["addr", "add", `${this.nodeIP}/24`, "dev", this.bridge]);
        execFileSync("ip", ["link", "set", this.bridge, "up"]);
        // The Services' range goes to the bridge, from the node's IP: a connection this machine opens to a ClusterIP
        // before kube-proxy has its rule (the API server's first check of an APIService, say) would otherwise take the
        // default route out of the machine and stay there (an established connection is never translated later).
        // The route goes with the bridge at teardown.
        execFileSync("ip", ["route", "add", SERVICE_CLUSTER_IP_RANGE, "dev", this.bridge, "src", this.nodeIP]);
        if (this.opts.addOns) {
            // The `kubernetes` Service's endpoint is the node's IP and the API server's port: relayed to its loopback.
            const port = new URL(this.api.url).port;
            const relay = this.spawn("api-relay", process.execPath, ["-e", API_RELAY, this.nodeIP, port, port]);
            await this.waitUp(relay, "the API relay", 30_000, () => tail(relay.log).includes("relaying"));
            // kubelet's serving certificate from the API server's CA (its key lies beside the CA's certificate).
            issueCertificate(
                pki,
                "kubelet-serving",
                `/CN=system:node:${this.nodeName}`,
                path.join(path.dirname(this.api.caFile), "ca"),
                ["keyUsage=digitalSignature", "extendedKeyUsage=serverAuth", `subjectAltName=IP:${this.nodeIP},DNS:${this.nodeName}`].join("\n"),
            );
        }

        // --- containerd: config, root, state and sockets in the temp root; runc's state too.
        const cd = this.p("containerd");
        fs.mkdirSync(cd);
        fs.mkdirSync(this.p("cni", "net.d"), { recursive: true });
        fs.writeFileSync(
            path.join(cd, "config.toml"),
            [
                "version = 2",
                `root = "${cd}/root"`,
                `state = "${cd}/state"`,
                "[grpc]",
                `  address = "${cd}/containerd.sock"`,
                "[ttrpc]",
                `  address = "${cd}/containerd.sock.ttrpc"`,
                '[plugins."io.containerd.grpc.v1.cri"]',
                `  sandbox_image = "${PAUSE_IMAGE}"`,
                // Without CAP_SYS_RESOURCE (as in this sandbox) runc cannot lower oom_score_adj below its own.
                "  restrict_oom_score_adj = true",
                '  [plugins."io.containerd.grpc.v1.cri".cni]',
                `    bin_dir = "${CNI_BIN_DIR}"`,
                `    conf_dir = "${this.p("cni", "net.d")}"`,
                "    max_conf_num = 1",
                '  [plugins."io.containerd.grpc.v1.cri".containerd]',
                '    snapshotter = "overlayfs"',
                '    default_runtime_name = "runc"',
                '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
                '      runtime_type = "io.containerd.runc.v2"',
                '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
                `        Root = "${cd}/runc"`,
                "        SystemdCgroup = false",
                "",
            ].join("\n"),
        );
        fs.writeFileSync(
            this.p("cni", "net.d", "10-mlops-e2e.conflist"),
            JSON.stringify(
                {
                    cniVersion: "1.0.0",
                    name: "mlops-e2e",
                    plugins: [
                        {
                            type: "bridge",
                            bridge: this.bridge,
                            isGateway: true,
                            ipMasq: false,
                            hairpinMode: true,
                            // Pods route the Services' range to the node (kube-proxy's rules); no default route, so a pod
                            // reaches nothing beyond the node and its Services.
                            ipam: {
                                type: "host-local",
                                ranges: [[{ subnet: this.podSubnet, gateway: this.nodeIP }]],
                                routes: [{ dst: SERVICE_CLUSTER_IP_RANGE, gw: this.nodeIP }],
                                dataDir: this.p("cni", "ipam"),
                            },
                        },
                    ],
                },
                null,
                2,
            ),
        );
        const containerd = this.spawn("containerd", "containerd", ["--config", path.join(cd, "config.toml")]);
        await this.waitUp(
            containerd,
            "containerd",
            30_000,
            () => spawnSync("ctr", ["--address", path.join(cd, "containerd.sock"), "version"], { stdio: "ignore" }).status === 0,
        );
        this.importImage(buildPauseImage());

        // --- kubelet: its own cgroup root (created here, removed at stop), root dir, pod logs, ports.
        const cgroupRoot = `/${path.basename(this.root)}`;
        for (const [mount] of cgroupMounts()) {
            const dir = path.join(mount, cgroupRoot);
            fs.mkdirSync(dir);
            this.cgroupDirs.push(dir);
            for (const f of ["cpuset.cpus", "cpuset.mems"]) {
                if (fs.existsSync(path.join(mount, f))) fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(mount, f)));
            }
        }
        const [kubeletPort, healthzPort] = [await freePort(), await freePort()];
        // The cluster DNS listens on the bridge's address, which every pod routes to.
        if (this.opts.clusterDns) this.dns = await ClusterDns.start(this.api, this.nodeIP, this.root);
        fs.writeFileSync(
            this.p("kubelet.yaml"),
            JSON.stringify(
                {
                    apiVersion: "kubelet.config.k8s.io/v1beta1",
                    kind: "KubeletConfiguration",
                    address: this.nodeIP,
                    port: kubeletPort,
                    readOnlyPort: 0,
                    healthzBindAddress: "127.0.0.1",
                    healthzPort,
                    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: `${pki}/ca.crt` } },
                    authorization: { mode: "Webhook" },
                    ...(this.opts.addOns ? { tlsCertFile: `${pki}/kubelet-serving.crt`, tlsPrivateKeyFile: `${pki}/kubelet-serving.key` } : {}),
                    containerRuntimeEndpoint: `unix://${cd}/containerd.sock`,
                    cgroupDriver: "cgroupfs",
                    cgroupRoot,
                    cgroupsPerQOS: true,
                    podLogsDir: this.p("pod-logs"),
                    failSwapOn: false,
                    // kubelet's iptables chains (KUBE-FIREWALL on INPUT/OUTPUT, the hint and canary chains) are not made:
                    // they would drop packets for other software on this shared machine; nothing here needs them.
                    makeIPTablesUtilChains: false,
                    // Evict nothing and collect no images because a shared disk is fuller than a dedicated node's.
                    evictionHard: { "memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%" },
                    imageGCHighThresholdPercent: 100,
                    imageGCLowThresholdPercent: 99,
                    serializeImagePulls: false,
                    registerNode: true,
                    nodeStatusUpdateFrequency: "4s",
                    syncFrequency: "10s",
                    fileCheckFrequency: "10s",
                    resolvConf: "/etc/resolv.conf",
                    ...(this.dns ? { clusterDNS: [this.nodeIP], clusterDomain: this.dns.domain } : {}),
                },
                null,
                2,
            ),
        );
        const kubelet = this.spawn("kubelet", kubeBinary("kubelet"), [
            `--config=${this.p("kubelet.yaml")}`,
            `--kubeconfig=${this.p("kubelet.kubeconfig")}`,
            `--root-dir=${this.p("kubelet")}`,
            `--cert-dir=${this.p("kubelet", "pki")}`,
            `--hostname-override=${this.nodeName}`,
            `--node-ip=${this.nodeIP}`,
            "--v=1",
        ]);
        // --- scheduler and controller-manager (no serving port: nothing scrapes them here).
        this.spawn("kube-scheduler", kubeBinary("kube-scheduler"), [
            `--kubeconfig=${this.p("scheduler.kubeconfig")}`,
            "--leader-elect=false",
            "--secure-port=0",
        ]);
        this.spawn("kube-controller-manager", kubeBinary("kube-controller-manager"), [
            `--kubeconfig=${this.p("controller.kubeconfig")}`,
            "--leader-elect=false",
            "--secure-port=0",
            // Each controller with its own service account's token (TokenRequest); kube-root-ca.crt is the fixture's CA.
            `--root-ca-file=${this.api.caFile}`,
            "--use-service-account-credentials=true",
            "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route",
        ]);
        // --- kube-proxy (iptables mode): ClusterIPs answer on this machine. It leaves the conntrack sysctls
        // alone and opens no localhost NodePorts; its rules are removed at stop with everything else new.
        const [proxyHealthz, proxyMetrics] = [await freePort(), await freePort()];
        fs.writeFileSync(
            this.p("kube-proxy.yaml"),
            JSON.stringify(
                {
                    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
                    kind: "KubeProxyConfiguration",
                    clientConnection: { kubeconfig: this.p("proxy.kubeconfig") },
                    hostnameOverride: this.nodeName,
                    mode: "iptables",
                    clusterCIDR: this.podSubnet,
                    healthzBindAddress: `127.0.0.1:${proxyHealthz}`,
                    metricsBindAddress: `127.0.0.1:${proxyMetrics}`,
                    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
                    iptables: { localhostNodePorts: false, masqueradeAll: false },
                    nodePortAddresses: [`${this.nodeIP}/32`],
                },
                null,
                2,
            ),
        );
        const proxy = this.spawn("kube-proxy", kubeBinary("kube-proxy"), [`--config=${this.p("kube-proxy.yaml")}`]);
        await this.waitUp(kubelet, `node ${this.nodeName} Ready`, 180_000, () => {
            for (const p of this.procs) if (p.exited) throw new Error(`${p.name} exited (code ${p.child.exitCode}):\n${tail(p.log)}`);
            const node = this.kubectlJson(["get", "node", this.nodeName]);
            return node.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
        });
        await this.waitUp(proxy, "kube-proxy healthy", 60_000, async () => (await fetch(`http://127.0.0.1:${proxyHealthz}/healthz`)).ok);
        // The service-account controller has made the default namespace's account (pods need it to be admitted).
        await waitFor(
            "the default service account",
            60_000,
            () => this.kubectlJson(["get", "serviceaccount", "default", "-n", "default"]).metadata?.name === "default",
        );
    }

    /** The machine as the node found it (taken once it held the machine-wide node lock). */
    get machineBefore(): HostSnapshot {
        if (!this.hostBefore) throw new Error("the node has not started");
        return this.hostBefore;
    }

    /** A process's log (for diagnosing a failed test). */
    log(name: "containerd" | "kubelet" | "kube-scheduler" | "kube-controller-manager" | "kube-proxy"): string {
        return tail(this.p("logs", `${name}.log`), 80);
    }

    private async stopProc(proc: Proc, graceMs = 10_000): Promise<void> {
        if (proc.exited || proc.child.pid === undefined) return;
        proc.child.kill("SIGTERM");
        const deadline = Date.now() + graceMs;
        while (!proc.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (!proc.exited) {
            proc.child.kill("SIGKILL");
            while (!proc.exited) await new Promise((r) => setTimeout(r, 50));
        }
    }

    /** Shim processes of this node's containerd (their command line names its socket). */
    private shimPids(): number[] {
        const sock = this.p("containerd", "containerd.sock");
        const pids: number[] = [];
        for (const e of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(e)) continue;
            try {
                const cmd = fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
                if (cmd[0].endsWith("containerd-shim-runc-v2") && cmd.includes(sock)) pids.push(Number(e));
            } catch {
                /* gone */
            }
        }
        return pids;
    }

    /**
     * Tears the node down in order (pods through the API so kubelet stops them and the CNI releases their
     * network; kubelet; what containers remain through containerd; containerd and its shims; the control
     * plane), then restores the machine: mounts, cgroups, the bridge, sysctls, iptables, the fixed
     * directories. Returns what it could not restore (empty: the machine is as it was). Idempotent.
     */
    async stop(): Promise<string[]> {
        if (this.stopped) return [];
        this.stopped = true;
        const errors: string[] = [];
        const proc = (name: string) => this.procs.find((p) => p.name === name);
        const running = (name: string) => {
            const p = proc(name);
            return p !== undefined && !p.exited;
        };
        for (const name of ["kube-controller-manager", "kube-scheduler", "kube-proxy"]) {
            const p = proc(name);
            if (p) await this.stopProc(p);
        }
        if (this.api && running("kubelet")) {
            try {
                this.kubectl(["delete", "pods", "--all", "--all-namespaces", "--grace-period=2", "--wait=false"]);
                await waitFor("pods to be gone", 90_000, () => this.kubectlJson(["get", "pods", "--all-namespaces"]).items.length === 0);
            } catch (e) {
                errors.push(`pods not deleted cleanly: ${(e as Error).message.split("\n")[0]}`);
            }
        }
        const kubelet = proc("kubelet");
        if (kubelet) await this.stopProc(kubelet);
        const sock = this.p("containerd", "containerd.sock");
        if (running("containerd")) {
            const ctr = (...args: string[]) => spawnSync("ctr", ["--address", sock, "-n", "k8s.io", ...args], { encoding: "utf8" });
            for (const line of (ctr("tasks", "ls", "-q").stdout ?? "").split("\n").filter(Boolean)) {
                ctr("tasks", "kill", "-a", "-s", "SIGKILL", line);
            }
            await new Promise((r) => setTimeout(r, 500));
            for (const line of (ctr("tasks", "ls", "-q").stdout ?? "").split("\n").filter(Boolean)) ctr("tasks", "delete", "-f", line);
            for (const line of (ctr("containers", "ls", "-q").stdout ?? "").split("\n").filter(Boolean)) ctr("containers", "delete", line);
            await this.stopProc(proc("containerd")!);
        }
        for (const pid of this.shimPids()) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                /* gone */
            }
        }
        for (const p of this.procs) await this.stopProc(p);
        await this.dns?.stop();
        await this.api?.stop();
        errors.push(...unmountAll(this.root));
        // Cgroups: deepest first; a cgroup directory is removed with rmdir once it holds no process.
        for (const dir of this.cgroupDirs) {
            const all: string[] = [];
            const walk = (d: string) => {
                for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
                all.push(d);
            };
            try {
                walk(dir);
            } catch {
                continue;
            }
            for (const d of all) {
                try {
                    fs.rmdirSync(d);
                } catch (e) {
                    errors.push(`rmdir ${d}: ${(e as Error).message}`);
                }
            }
        }
        if (spawnSync("ip", ["link", "show", this.bridge], { stdio: "ignore" }).status === 0) {
            const r = spawnSync("ip", ["link", "delete", this.bridge], { encoding: "utf8" });
            if (r.status !== 0) errors.push(`ip link delete ${this.bridge}: ${r.stderr.trim()}`);
        }
        if (this.hostBefore) {
            errors.push(...restore(this.hostBefore));
            errors.push(...diff(this.hostBefore).map((d) => `still differs: ${d}`));
        }
        if (spawnSync("ip", ["link", "show", this.bridge], { stdio: "ignore" }).status === 0) errors.push(`bridge ${this.bridge} still exists`);
        try {
            fs.rmSync(this.root, { recursive: true, force: true });
        } catch (e) {
            errors.push(`rm ${this.root}: ${(e as Error).message}`);
        }
        this.lock?.kill("SIGTERM");
        return errors;
    }
}
