/**
 * The parts of the machine a real node changes outside its own temporary directory, recorded before it
 * starts and put back when it stops: the kernel tunables kubelet sets (kernel.panic, kernel.panic_on_oops,
 * vm.overcommit_memory, vm.panic_on_oom, the root key quotas), the bridge CNI sets (ip_forward) and
 * kube-proxy may set (route_localnet, bridge-nf-call-*, conntrack limits), the iptables chains and rules
 * of every table (IPv4 and IPv6; kube-proxy's Service rules), and the entries under the fixed directories
 * containerd and the CNI plugins write to (/run/containerd, /run/netns, /var/lib/cni), and the mount
 * propagation of the root mount (a node for add-ons makes it shared: HostToContainer mounts need it).
 * `restore` undoes exactly what appeared or changed since `snapshot`, and `diff` says what still differs.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The sysctls a node changes (kubelet's setupKernelTunables, the bridge plugin's gateway). */
export const NODE_SYSCTLS = [
    "kernel/panic",
    "kernel/panic_on_oops",
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/forwarding",
    // kube-proxy's (it leaves the conntrack limits alone: conntrack.maxPerCore 0, timeouts 0).
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables",
    "net/netfilter/nf_conntrack_max",
    "net/netfilter/nf_conntrack_tcp_timeout_established",
    "net/netfilter/nf_conntrack_tcp_timeout_close_wait",
];

/** Fixed directories the node's software writes entries under (outside its own temp root). */
export const NODE_DIRS = ["/run/containerd", "/run/netns", "/var/lib/cni", "/var/lib/kubelet", "/var/log/pods", "/var/log/containers"];

const TABLES = ["filter", "nat", "mangle", "raw"];

export interface HostSnapshot {
    readonly sysctls: Record<string, string | undefined>;
    /** "<iptables|ip6tables> <table>" -> the table's `-S` lines. */
    readonly iptables: Record<string, string[]>;
    /** Directory -> entries, recursively (undefined: the directory did not exist). */
    readonly dirs: Record<string, string[] | undefined>;
    /** The propagation of the root mount: shared, slave or private. */
    readonly rootPropagation: string;
}

/** The propagation of the mount at `/` (the topmost one): shared, slave (a master's) or private. */
export function rootPropagation(): string {
    const root = fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter((l) => l.split(" ")[4] === "/")
        .pop();
    const optional = (root ?? "").split(" - ")[0].split(" ").slice(6);
    return optional.some((f) => f.startsWith("shared:")) ? "shared" : optional.some((f) => f.startsWith("master:")) ? "slave" : "private";
}

function readSysctl(key: string): string | undefined {
    try {
        return fs.readFileSync(path.join("/proc/sys", key), "utf8").trim();
    } catch {
        return undefined;
    }
}

function iptablesRules(cmd: string, table: string): string[] {
    try {
        return execFileSync(cmd, ["-w", "5", "-t", table, "-S"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
            .split("\n")
            .filter((l) => l.trim() !== "");
    } catch {
        return [];
    }
}

function listTree(dir: string): string[] | undefined {
    if (!fs.existsSync(dir)) return undefined;
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            out.push(p);
            if (e.isDirectory() && !e.isSymbolicLink()) {
                try {
                    walk(p);
                } catch {
                    /* vanished or unreadable */
                }
            }
        }
    };
    walk(dir);
    return out.sort();
}

/** Records the machine state a node may change. */
export function snapshot(): HostSnapshot {
    const sysctls: Record<string, string | undefined> = {};
    for (const k of NODE_SYSCTLS) sysctls[k] = readSysctl(k);
    const iptables: Record<string, string[]> = {};
    for (const cmd of ["iptables", "ip6tables"]) for (const t of TABLES) iptables[`${cmd} ${t}`] = iptablesRules(cmd, t);
    const dirs: Record<string, string[] | undefined> = {};
    for (const d of NODE_DIRS) dirs[d] = listTree(d);
    return { sysctls, iptables, dirs, rootPropagation: rootPropagation() };
}

/** What differs between a snapshot and the machine now, one line each (empty: nothing). */
export function diff(before: HostSnapshot, after: HostSnapshot = snapshot()): string[] {
    const out: string[] = [];
    for (const k of NODE_SYSCTLS) {
        if (before.sysctls[k] !== after.sysctls[k]) out.push(`sysctl ${k.replace(/\//g, ".")}: ${before.sysctls[k]} -> ${after.sysctls[k]}`);
    }
    for (const key of Object.keys(before.iptables)) {
        const b = new Set(before.iptables[key]);
        const a = new Set(after.iptables[key] ?? []);
        for (const r of a) if (!b.has(r)) out.push(`${key}: added ${r}`);
        for (const r of b) if (!a.has(r)) out.push(`${key}: removed ${r}`);
    }
    if (before.rootPropagation !== after.rootPropagation) out.push(`mount propagation of /: ${before.rootPropagation} -> ${after.rootPropagation}`);
    for (const d of NODE_DIRS) {
        const b = new Set(before.dirs[d] ?? []);
        if (before.dirs[d] === undefined && after.dirs[d] !== undefined) out.push(`created ${d}`);
        for (const e of after.dirs[d] ?? []) if (!b.has(e)) out.push(`created ${e}`);
    }
    return out;
}

/** The mount points at or under `dir` (deepest first). */
export function mountsUnder(dir: string): string[] {
    const prefix = dir.endsWith("/") ? dir : `${dir}/`;
    return fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((l) => l.split(" ")[4])
        .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(prefix)))
        .map((m) => m.replace(/\\040/g, " "))
        .sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or under `dir`, deepest first (lazily, so a busy mount cannot block teardown). */
export function unmountAll(dir: string): string[] {
    const errors: string[] = [];
    for (const m of mountsUnder(dir)) {
        try {
            execFileSync("umount", ["-l", m], { stdio: ["ignore", "ignore", "pipe"] });
        } catch (e) {
            errors.push(`umount ${m}: ${String((e as Error).message).split("\n")[0]}`);
        }
    }
    return errors;
}

/**
 * Puts back what changed since `before`: sysctls to their old values, iptables rules and chains that
 * appeared are deleted (and ones that vanished re-added), new entries under the fixed directories are
 * unmounted and removed (directories that did not exist are removed whole). Returns what it could not do.
 */
export function restore(before: HostSnapshot): string[] {
    const errors: string[] = [];
    for (const k of NODE_SYSCTLS) {
        const old = before.sysctls[k];
        if (old !== undefined && readSysctl(k) !== old) {
            try {
                fs.writeFileSync(path.join("/proc/sys", k), old);
            } catch (e) {
                errors.push(`sysctl ${k}: ${(e as Error).message}`);
            }
        }
    }
    for (const [key, rules] of Object.entries(before.iptables)) {
        const [cmd, table] = key.split(" ");
        const was = new Set(rules);
        const now = iptablesRules(cmd, table);
        const run = (args: string[]) => {
            try {
                execFileSync(cmd, ["-w", "5", "-t", table, ...args], { stdio: ["ignore", "ignore", "pipe"] });
            } catch (e) {
                errors.push(`${cmd} -t ${table} ${args.join(" ")}: ${String((e as Error).message).split("\n")[0]}`);
            }
        };
        // Rules first (they may jump to new chains), then the chains themselves.
        for (const r of now) if (r.startsWith("-A ") && !was.has(r)) run(["-D", ...splitRule(r.slice(3))]);
        for (const r of now) if (r.startsWith("-N ") && !was.has(r)) run(["-X", r.slice(3).trim()]);
        for (const r of rules) if (r.startsWith("-N ") && !now.includes(r)) run(["-N", r.slice(3).trim()]);
        for (const r of rules) if (r.startsWith("-A ") && !now.includes(r)) run(["-A", ...splitRule(r.slice(3))]);
    }
    if (rootPropagation() !== before.rootPropagation && before.rootPropagation !== "slave") {
        try {
            execFileSync("mount", [`--make-${before.rootPropagation}`, "/"], { stdio: ["ignore", "ignore", "pipe"] });
        } catch (e) {
            errors.push(`mount --make-${before.rootPropagation} /: ${String((e as Error).message).split("\n")[0]}`);
        }
    }
    for (const d of NODE_DIRS) {
        const was = before.dirs[d];
        if (was === undefined) {
            if (fs.existsSync(d)) {
                errors.push(...unmountAll(d));
                try {
                    fs.rmSync(d, { recursive: true, force: true });
                } catch (e) {
                    errors.push(`rm ${d}: ${(e as Error).message}`);
                }
            }
            continue;
        }
        const keep = new Set(was);
        // Shallowest new entries: removing one removes what it holds.
        const added = (listTree(d) ?? []).filter((e) => !keep.has(e) && (path.dirname(e) === d || keep.has(path.dirname(e))));
        for (const e of added) {
            errors.push(...unmountAll(e));
            try {
                fs.rmSync(e, { recursive: true, force: true });
            } catch (err) {
                errors.push(`rm ${e}: ${(err as Error).message}`);
            }
        }
    }
    return errors;
}

/** Splits an `iptables -S` rule into arguments (quoted comments stay one argument). */
export function splitRule(rule: string): string[] {
    const args: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(rule)) !== null) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
    return args;
}
