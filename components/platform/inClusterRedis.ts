/**
 * A single-instance Redis inside the cluster, the feature store's online store in dev (ElastiCache would
 * be needless cost there): a StatefulSet with a persistent volume (append-only file), a headless Service,
 * its configuration with the generated password in a Secret (never in argv: `redis-server
 * /etc/redis/redis.conf`), and a NetworkPolicy that admits only the named client pods. It runs under the
 * `restricted` Pod Security Standard with a read-only root filesystem.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceSettings } from "../shared/resources";
import { REDIS_PORT } from "../contract";
import { containerResources, ephemeralStorage, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../shared/k8sHelpers";
import { type LabelContext, selectorLabels, standardLabels } from "../shared/naming";

/** uid and gid of the `redis` user of the official image. */
export const REDIS_UID = 999;
/** Where the configuration Secret is mounted. */
export const REDIS_CONF_DIR = "/etc/redis";
/** Where the data volume is mounted. */
export const REDIS_DATA_DIR = "/data";

/** Arguments of {@link InClusterRedis}. */
export interface InClusterRedisArgs {
    /** Namespace of the database (created by the caller). */
    readonly namespace: pulumi.Input<string>;
    /** Base name of the Kubernetes objects, e.g. `feast-redis`. */
    readonly objectName: string;
    /** Pinned Redis image, e.g. `docker.io/library/redis:7.2.5`. */
    readonly image: string;
    /** The password clients authenticate with: pass a secret (`random.RandomPassword.result`). */
    readonly password: pulumi.Input<string>;
    /** Size of the data volume in GiB. */
    readonly storageGiB: number;
    /** Memory Redis may use for data before it evicts nothing and refuses writes (`maxmemory`), in MiB. */
    readonly maxMemoryMiB: number;
    /** Requests and limits. */
    readonly resources: ResourceSettings;
    /** Labels of the only pods (same namespace) allowed to connect. */
    readonly clientSelector: Readonly<Record<string, string>>;
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Protect the StatefulSet (and so its volume claim template) from deletion. Default false. */
    readonly protect?: boolean;
}

/**
 * redis.conf of the in-cluster Redis: password required, persistence to the volume (append-only file),
 * a memory ceiling with no eviction (the online store must not drop features silently: writes fail
 * instead), and no commands that reconfigure or empty the server from a client.
 */
export function redisConf(o: { password: string; dataDir: string; port: number; maxMemoryMiB: number }): string {
    if (!/^[A-Za-z0-9]{16,128}$/.test(o.password)) throw new Error("the Redis password must be 16-128 letters and digits");
    return [
        "bind 0.0.0.0",
        `port ${o.port}`,
        "protected-mode yes",
        `requirepass ${o.password}`,
        `dir ${o.dataDir}`,
        "appendonly yes",
        "appendfsync everysec",
        'save ""',
        `maxmemory ${o.maxMemoryMiB}mb`,
        "maxmemory-policy noeviction",
        'rename-command CONFIG ""',
        'rename-command FLUSHALL ""',
        'rename-command FLUSHDB ""',
        'rename-command DEBUG ""',
        "",
    ].join("\n");
}

/** A Redis StatefulSet with its headless Service, configuration Secret and NetworkPolicy. */
export class InClusterRedis extends pulumi.ComponentResource {
    /** In-cluster DNS name of the server. */
    public readonly host: pulumi.Output<string>;
    /** Port of the server. */
    public readonly port: number;
    /** Labels selecting the server pod. */
    public readonly podSelector: Record<string, string>;
    /** The StatefulSet. */
    public readonly statefulSet: k8s.apps.v1.StatefulSet;

    constructor(name: string, args: InClusterRedisArgs, opts?: pulumi.ComponentResourceOptions) {
        validateInClusterRedisArgs(args);
        super("mlops:index:InClusterRedis", name, {}, opts);

        const ns = args.namespace;
        const version = args.image.match(/:([\w][\w.-]*)(@|$)/)?.[1];
        const labels = standardLabels(args.labels, { name: "redis", instance: args.objectName, component: "online-store", version });
        this.podSelector = selectorLabels({ name: "redis", instance: args.objectName, component: "online-store" });
        const child: pulumi.CustomResourceOptions = { parent: this };

        const config = new k8s.core.v1.Secret(
            `${name}-config`,
            {
                metadata: { name: `${args.objectName}-config`, namespace: ns, labels },
                type: "Opaque",
                stringData: pulumi.secret({
                    "redis.conf": pulumi
                        .output(args.password)
                        .apply((password) => redisConf({ password, dataDir: REDIS_DATA_DIR, port: REDIS_PORT, maxMemoryMiB: args.maxMemoryMiB })),
                    password: args.password,
                }),
            },
            child,
        );

        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: args.objectName, namespace: ns, labels },
                spec: { clusterIP: "None", selector: this.podSelector, ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis", protocol: "TCP" }] },
            },
            child,
        );

        // PING with the password from the environment (REDISCLI_AUTH), never from argv.
        const ping = ["sh", "-c", `redis-cli -h 127.0.0.1 -p ${REDIS_PORT} ping | grep -q PONG`];
        this.statefulSet = new k8s.apps.v1.StatefulSet(
            `${name}-statefulset`,
            {
                metadata: { name: args.objectName, namespace: ns, labels },
                spec: {
                    serviceName: service.metadata.name,
                    replicas: 1,
                    selector: { matchLabels: this.podSelector },
                    updateStrategy: { type: "RollingUpdate" },
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            terminationGracePeriodSeconds: 30,
                            securityContext: { ...restrictedPodSecurityContext(REDIS_UID), fsGroupChangePolicy: "OnRootMismatch" },
                            containers: [
                                {
                                    name: "redis",
                                    image: args.image,
                                    imagePullPolicy: "IfNotPresent",
                                    command: ["redis-server", `${REDIS_CONF_DIR}/redis.conf`],
                                    ports: [{ name: "redis", containerPort: REDIS_PORT, protocol: "TCP" }],
                                    env: [{ name: "REDISCLI_AUTH", valueFrom: { secretKeyRef: { name: config.metadata.name, key: "password" } } }],
                                    resources: containerResources(args.resources, ephemeralStorage("64Mi", ["64Mi"])),
                                    startupProbe: { exec: { command: ping }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
                                    readinessProbe: { exec: { command: ping }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
                                    livenessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
                                    securityContext: restrictedContainerSecurityContext(REDIS_UID),
                                    volumeMounts: [
                                        { name: "data", mountPath: REDIS_DATA_DIR },
                                        { name: "config", mountPath: REDIS_CONF_DIR, readOnly: true },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                },
                            ],
                            volumes: [
                                {
                                    name: "config",
                                    secret: { secretName: config.metadata.name, defaultMode: 0o400, items: [{ key: "redis.conf", path: "redis.conf" }] },
                                },
                                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                            ],
                        },
                    },
                    volumeClaimTemplates: [
                        {
                            metadata: { name: "data", labels },
                            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${args.storageGiB}Gi` } } },
                        },
                    ],
                },
            },
            { parent: this, protect: args.protect === true, retainOnDelete: args.protect === true },
        );

        new k8s.networking.v1.NetworkPolicy(
            `${name}-network-policy`,
            {
                metadata: { name: args.objectName, namespace: ns, labels },
                spec: {
                    podSelector: { matchLabels: this.podSelector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [{ from: [{ podSelector: { matchLabels: { ...args.clientSelector } } }], ports: [{ protocol: "TCP", port: REDIS_PORT }] }],
                    // Redis opens no connections of its own (no replicas).
                    egress: [],
                },
            },
            child,
        );

        this.host = pulumi.interpolate`${service.metadata.name}.${ns}.svc.cluster.local`;
        this.port = REDIS_PORT;
        this.registerOutputs({ host: this.host, port: this.port });
    }
}

/** Checks the arguments before anything is registered. */
export function validateInClusterRedisArgs(args: InClusterRedisArgs): void {
    const problems: string[] = [];
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.objectName) || args.objectName.length > 52) {
        problems.push(`objectName "${args.objectName}" must be a DNS label of at most 52 characters`);
    }
    if (!/:[\w][\w.-]*(@sha256:[a-f0-9]{64})?$|@sha256:[a-f0-9]{64}$/.test(args.image) || /:latest(@|$)/.test(args.image)) {
        problems.push(`image "${args.image}" must be pinned by a tag other than latest, or by digest`);
    }
    if (!Number.isInteger(args.storageGiB) || args.storageGiB < 1 || args.storageGiB > 1024)
        problems.push(`storageGiB must be an integer from 1 to 1024, got ${args.storageGiB}`);
    if (!Number.isInteger(args.maxMemoryMiB) || args.maxMemoryMiB < 16)
        problems.push(`maxMemoryMiB must be an integer of at least 16, got ${args.maxMemoryMiB}`);
    if (Object.keys(args.clientSelector).length === 0)
        problems.push("clientSelector must name at least one label: an empty selector would admit every pod of the namespace");
    if (problems.length > 0) throw new Error(`InClusterRedis "${args.objectName}": ${problems.join("; ")}.`);
}
