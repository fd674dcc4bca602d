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
import * as dgram from "dgram";
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
        const own = slices.filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.["kubernetes.io/service-name"] === name && s.addressType === "IPv4");
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
        if (len === 0) { off += 1; break; }
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
        ip.split(".").forEach((o, i) => { rr[12 + i] = Number(o); });
        return rr;
    });
    return Buffer.concat([header, msg.subarray(12, q.end), ...rrs]);
}

/** A running cluster DNS. */
export class ClusterDns {
    private records: DnsRecords = new Map();
    private timer?: NodeJS.Timeout;
    /** Queries answered, per name (what the pods asked: the suite prints it). */
    readonly asked = new Map<string, number>();

    private constructor(private readonly socket: dgram.Socket, private readonly api: ApiServer, readonly domain: string) {}

    /** Listens on `address`:53 (UDP) and refreshes its records from the API server every second. */
    static async start(api: ApiServer, address: string, domain = "cluster.local"): Promise<ClusterDns> {
        const socket = dgram.createSocket("udp4");
        const dns = new ClusterDns(socket, api, domain);
        await dns.refresh();
        socket.on("message", (msg, rinfo) => {
            const q = parseQuestion(msg);
            if (q) dns.asked.set(q.name, (dns.asked.get(q.name) ?? 0) + 1);
            socket.send(answer(msg, dns.records), rinfo.port, rinfo.address);
        });
        await new Promise<void>((resolve, reject) => {
            socket.once("error", reject);
            socket.bind(53, address, () => { socket.off("error", reject); resolve(); });
        });
        dns.timer = setInterval(() => { dns.refresh().catch(() => { /* the next refresh tries again */ }); }, 1000);
        return dns;
    }

    /** Reads Services and EndpointSlices of every namespace. */
    async refresh(): Promise<void> {
        const [svcs, slices] = await Promise.all([
            this.api.request("GET", "/api/v1/services"),
            this.api.request("GET", "/apis/discovery.k8s.io/v1/endpointslices"),
        ]);
        if (svcs.status !== 200 || slices.status !== 200) throw new Error(`cluster DNS: listing failed (${svcs.status}, ${slices.status})`);
        this.records = clusterRecords(this.domain, svcs.body.items ?? [], slices.body.items ?? []);
    }

    /** What a name resolves to now. */
    lookup(name: string): string[] | undefined {
        return this.records.get(name.toLowerCase().replace(/\.$/, ""));
    }

    async stop(): Promise<void> {
        if (this.timer) clearInterval(this.timer);
        await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    }
}
