/**
 * The real node's cluster DNS (e2e/lib/clusterDns.ts), its records and wire format, asked by Node's own
 * resolver (c-ares) over UDP on loopback: a Service's ClusterIP, a headless Service's ready endpoints and
 * a StatefulSet pod's stable name, an empty answer for AAAA, NXDOMAIN for anything else.
 */
import * as dgram from "dgram";
import { promises as dns } from "dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answer, clusterRecords } from "../e2e/lib/clusterDns";

const services = [
    { metadata: { name: "mlflow", namespace: "mlflow" }, spec: { clusterIP: "10.0.0.17" } },
    { metadata: { name: "mlflow-postgres", namespace: "mlflow" }, spec: { clusterIP: "None" } },
];
const slices = [
    {
        metadata: { namespace: "mlflow", labels: { "kubernetes.io/service-name": "mlflow-postgres" } },
        addressType: "IPv4",
        endpoints: [
            { addresses: ["10.217.3.5"], hostname: "mlflow-postgres-0", conditions: { ready: true } },
            { addresses: ["10.217.3.6"], hostname: "mlflow-postgres-1", conditions: { ready: false } },
        ],
    },
];

describe("the node's cluster DNS", () => {
    let socket: dgram.Socket;
    let resolver: dns.Resolver;

    beforeAll(async () => {
        const records = clusterRecords("cluster.local", services, slices);
        socket = dgram.createSocket("udp4");
        socket.on("message", (msg, r) => socket.send(answer(msg, records), r.port, r.address));
        await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
        resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
        resolver.setServers([`127.0.0.1:${socket.address().port}`]);
    });
    afterAll(() => socket.close());

    it("answers a Service's name with its ClusterIP", async () => {
        expect(await resolver.resolve4("mlflow.mlflow.svc.cluster.local")).toEqual(["10.0.0.17"]);
        expect(await resolver.resolve4("MLflow.mlflow.svc.cluster.local")).toEqual(["10.0.0.17"]);
    });

    it("answers a headless Service with its ready endpoints, and a StatefulSet pod's own name", async () => {
        expect(await resolver.resolve4("mlflow-postgres.mlflow.svc.cluster.local")).toEqual(["10.217.3.5"]);
        expect(await resolver.resolve4("mlflow-postgres-0.mlflow-postgres.mlflow.svc.cluster.local")).toEqual(["10.217.3.5"]);
        await expect(resolver.resolve4("mlflow-postgres-1.mlflow-postgres.mlflow.svc.cluster.local")).rejects.toMatchObject({ code: "ENOTFOUND" });
    });

    it("gives a known name no IPv6 address, and every other name NXDOMAIN", async () => {
        await expect(resolver.resolve6("mlflow.mlflow.svc.cluster.local")).rejects.toMatchObject({ code: "ENODATA" });
        await expect(resolver.resolve4("mlflow.mlflow.svc.cluster.local.ml-fraud.svc.cluster.local")).rejects.toMatchObject({ code: "ENOTFOUND" });
        await expect(resolver.resolve4("s3.eu-west-1.amazonaws.com")).rejects.toMatchObject({ code: "ENOTFOUND" });
    });
});
