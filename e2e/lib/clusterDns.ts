/**
 * The real node's cluster DNS: a small DNS server (UDP, RFC 1035 wire format) for the cluster domain,
 * answering from the API server what CoreDNS's kubernetes plugin answers for the names the platform
 * uses: `<service>.<namespace>.svc.<domain>` (the ClusterIP; for a headless Service its ready
 * endpoints' addresses) and `<hostname>.<service>.<namespace>.svc.<domain>` (a StatefulSet pod's stable
 * name: the endpoint with that hostname). A known name asked for another type gets an empty answer; every
 * other name is NXDOMAIN (pods here reach nothing outside the machine, so nothing is forwarded).
 * kubelet points pods at it (clusterDNS, clusterDomain), so their resolv.conf is the one a cluster gives.
 * It is not CoreDNS (not buildable here without minutes of CPU): docs/e2e.md says what it leaves out.
 */
import { type ChildProcess, spawn } from "child_process";
import * as dgram from "dgram";
import { promises as dnsPromises } from "dns";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import type { ApiServer } from "./apiserver";

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_FORMERR = 1;
/** Answers live briefly: Services and endpoints change during a test. */
const TTL_SECONDS = 5;

/** The addresses each in-cluster name resolves to (lower-case names, no trailing dot). */
export type DnsRecords = Map<string, string[]>;

/** The records CoreDNS's kubernetes plugin would serve for these Services and EndpointSlices. */
export function clusterRecords(domain: string, services: readonly any[], slices: readonly any[]): DnsRecords {
    const records: DnsRecords = new Map();
    const add = (name: string, ip: string) => {
        const key = name.toLowerCase();
        const list = records.get(key) ?? [];
        if (!list.includes(ip)) list.push(ip);
        records.set(key, list);
    };
    for (const svc of services) {
        const { name, namespace } = svc.metadata;
        const fqdn = `${name}.${namespace}.svc.${domain}`;
        const clusterIP = svc.spec?.clusterIP;
        if (clusterIP && clusterIP !== "None") {
            add(fqdn, clusterIP);
            continue;
        }
        records.set(fqdn.toLowerCase(), records.get(fqdn.toLowerCase()) ?? []);
        const own = slices.filter(
            (s) => s.metadata.namespace === namespace && s.metadata.labels?.["kubernetes.io/service-name"] === name && s.addressType === "IPv4",
        );
        for (const slice of own) {
            for (const ep of slice.endpoints ?? []) {
                const ready = ep.conditions?.ready !== false || svc.spec?.publishNotReadyAddresses === true;
                if (!ready) continue;
                for (const ip of ep.addresses ?? []) {
                    add(fqdn, ip);
                    if (ep.hostname) add(`${ep.hostname}.${fqdn}`, ip);
                }
            }
        }
    }
    return records;
}

interface Question {
    readonly name: string;
    readonly type: number;
    readonly qclass: number;
    /** Offset just past the question section. */
    readonly end: number;
}

function parseQuestion(msg: Buffer): Question | undefined {
    if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
    const labels: string[] = [];
    let off = 12;
    for (;;) {
        if (off >= msg.length) return undefined;
        const len = msg[off];
        if (len === 0) {
            off += 1;
            break;
        }
        if (len > 63 || off + 1 + len > msg.length) return undefined;
        labels.push(msg.toString("latin1", off + 1, off + 1 + len));
        off += 1 + len;
    }
    if (off + 4 > msg.length) return undefined;
    return { name: labels.join(".").toLowerCase(), type: msg.readUInt16BE(off), qclass: msg.readUInt16BE(off + 2), end: off + 4 };
}

/** The response to one query (exported for unit checks of the wire format). */
export function answer(msg: Buffer, records: DnsRecords): Buffer {
    const q = parseQuestion(msg);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.length >= 2 ? msg.readUInt16BE(0) : 0, 0);
    // QR=1, the query's opcode and RD, AA=1 (authoritative for the cluster domain), RA=0.
    const rd = msg.length >= 3 ? msg[2] & 0x01 : 0;
    const opcode = msg.length >= 3 ? msg[2] & 0x78 : 0;
    if (!q) {
        header[2] = 0x80 | opcode | rd;
        header[3] = RCODE_FORMERR;
        return header;
    }
    const ips = records.get(q.name);
    const answers = ips && q.type === TYPE_A && q.qclass === CLASS_IN ? ips : [];
    header[2] = 0x80 | opcode | 0x04 | rd;
    header[3] = ips ? 0 : RCODE_NXDOMAIN;
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((ip) => {
        const rr = Buffer.alloc(16);
        rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
        rr.writeUInt16BE(TYPE_A, 2);
        rr.writeUInt16BE(CLASS_IN, 4);
        rr.writeUInt32BE(TTL_SECONDS, 6);
        rr.writeUInt16BE(4, 10);
        ip.split(".").forEach((o, i) => {
            rr[12 + i] = Number(o);
        });
        return rr;
    });
    return Buffer.concat([header, msg.subarray(12, q.end), ...rrs]);
}

/** Lists Services and EndpointSlices from the API server (token authentication, the server's CA). */
function listAll(apiUrl: string, ca: Buffer, token: string): Promise<[any[], any[]]> {
    const get = (p: string) =>
        new Promise<any[]>((resolve, reject) => {
            const req = https.request(`${apiUrl}${p}`, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c) => chunks.push(c));
                res.on("end", () => {
                    if (res.statusCode !== 200) return reject(new Error(`GET ${p}: ${res.statusCode}`));
                    resolve(JSON.parse(Buffer.concat(chunks).toString()).items ?? []);
                });
            });
            req.on("error", reject);
            req.on("timeout", () => req.destroy(new Error(`GET ${p}: timeout`)));
            req.end();
        });
    return Promise.all([get("/api/v1/services"), get("/apis/discovery.k8s.io/v1/endpointslices")]);
}

/**
 * Serves the cluster domain on `address`:53 until killed, refreshing from the API server every second.
 * It runs in a process of its own (see {@link ClusterDns}): the test process's event loop is blocked
 * whenever it waits for kubectl, and a DNS server that stops answering then makes pods' lookups fail.
 */
async function serve(address: string, apiUrl: string, caFile: string, tokenFile: string, domain: string): Promise<void> {
    const ca = fs.readFileSync(caFile);
    const token = fs.readFileSync(tokenFile, "utf8").trim();
    let records: DnsRecords = new Map();
    const refresh = async () => {
        const [services, slices] = await listAll(apiUrl, ca, token);
        records = clusterRecords(domain, services, slices);
    };
    await refresh();
    const socket = dgram.createSocket("udp4");
    socket.on("message", (msg, rinfo) => socket.send(answer(msg, records), rinfo.port, rinfo.address));
    await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(53, address, () => resolve());
    });
    setInterval(() => {
        refresh().catch((e) => console.error(`cluster DNS: ${String(e)}`));
    }, 1000);
    console.log("cluster DNS: listening");
}

if (typeof require !== "undefined" && typeof module !== "undefined" && require.main === module) {
    const [address, apiUrl, caFile, tokenFile, domain] = process.argv.slice(2);
    serve(address, apiUrl, caFile, tokenFile, domain ?? "cluster.local").catch((e) => {
        console.error(`cluster DNS: ${String(e)}`);
        process.exit(1);
    });
}

/** A running cluster DNS: this file run as its own process (tsx), listening on the node's address. */
export class ClusterDns {
    private constructor(
        private readonly child: ChildProcess,
        readonly address: string,
        readonly domain: string,
    ) {}

    /** Starts it on `address`:53 (UDP), reading the API server with the administrator's token (from a 0600 file). */
    static async start(api: ApiServer, address: string, workdir: string, domain = "cluster.local"): Promise<ClusterDns> {
        const tokenFile = path.join(workdir, "dns.token");
        fs.writeFileSync(tokenFile, api.adminToken, { mode: 0o600 });
        const log = path.join(workdir, "cluster-dns.log");
        const fd = fs.openSync(log, "a");
        const tsx = path.resolve(__dirname, "..", "..", "node_modules", ".bin", "tsx");
        const child = spawn(tsx, [__filename, address, api.url, api.caFile, tokenFile, domain], { stdio: ["ignore", fd, fd] });
        fs.closeSync(fd);
        const dns = new ClusterDns(child, address, domain);
        const deadline = Date.now() + 60_000;
        while (!fs.readFileSync(log, "utf8").includes("cluster DNS: listening")) {
            if (child.exitCode !== null || Date.now() > deadline) {
                child.kill("SIGKILL");
                throw new Error(`the cluster DNS did not start:\n${fs.readFileSync(log, "utf8")}`);
            }
            await new Promise((r) => setTimeout(r, 200));
        }
        return dns;
    }

    /** Asks it, as a pod's resolver would (UDP to its address). */
    async lookup(name: string): Promise<string[]> {
        const resolver = new dnsPromises.Resolver({ timeout: 3000, tries: 2 });
        resolver.setServers([this.address]);
        return resolver.resolve4(name);
    }

    async stop(): Promise<void> {
        if (this.child.exitCode !== null || this.child.signalCode !== null) return;
        const exited = new Promise((r) => this.child.once("exit", r));
        this.child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    }
}
