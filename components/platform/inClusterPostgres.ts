/**
 * A single-instance Postgres inside the cluster, for development environments where RDS would be
 * needless cost: a StatefulSet with a persistent volume, a headless Service, and a NetworkPolicy that
 * admits only the named client pods. It runs under the `restricted` Pod Security Standard.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceSettings } from "../shared/resources";
import { containerResources, ephemeralStorage } from "../shared/k8sHelpers";
import { type LabelContext, selectorLabels, standardLabels } from "../shared/naming";
import { POSTGRES_PORT } from "./rdsPostgres";

/** uid and gid of the `postgres` user of the official image. */
export const POSTGRES_UID = 999;

/** Arguments of {@link InClusterPostgres}. */
export interface InClusterPostgresArgs {
    /** Namespace of the database (created by the caller). */
    readonly namespace: pulumi.Input<string>;
    /** Base name of the Kubernetes objects (`<objectName>` Service and StatefulSet), e.g. `mlflow-postgres`. */
    readonly objectName: string;
    /** Pinned Postgres image, e.g. `docker.io/library/postgres:16.4` (a digest is better still). */
    readonly image: string;
    /** Database created on first start. */
    readonly databaseName: string;
    /** Owner of the database; the application connects as this user. */
    readonly username: string;
    /** Its password: pass a secret (e.g. `random.RandomPassword.result`). */
    readonly password: pulumi.Input<string>;
    /** Size of the data volume in GiB. */
    readonly storageGiB: number;
    /** StorageClass of the data volume; default the cluster's default class. */
    readonly storageClassName?: string;
    /** Requests and limits. Default 100m/256Mi requested, 1 CPU/1Gi limit. */
    readonly resources?: ResourceSettings;
    /** Labels of the only pods (same namespace) allowed to connect. */
    readonly clientSelector: Readonly<Record<string, string>>;
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Team label value. Default the platform owner. */
    readonly team?: string;
    /** Protect the StatefulSet (and so its volume claim template) from deletion. Default false. */
    readonly protect?: boolean;
}

/** A Postgres StatefulSet with its headless Service, credentials Secret and NetworkPolicy. */
export class InClusterPostgres extends pulumi.ComponentResource {
    /** In-cluster DNS name of the database. */
    public readonly host: pulumi.Output<string>;
    /** Port of the database. */
    public readonly port: number;
    /** Name of the database. */
    public readonly databaseName: string;
    /** User the application connects as. */
    public readonly username: string;
    /** Labels selecting the database pod. */
    public readonly podSelector: Record<string, string>;
    /** The StatefulSet. */
    public readonly statefulSet: k8s.apps.v1.StatefulSet;

    constructor(name: string, args: InClusterPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): a bad argument fails before anything is registered.
        validateInClusterPostgresArgs(args);
        super("mlops:index:InClusterPostgres", name, {}, opts);

        const ns = args.namespace;
        const version = args.image.match(/:([\w][\w.-]*)(@|$)/)?.[1];
        const labels = standardLabels(args.labels, { name: "postgres", instance: args.objectName, component: "database", version, team: args.team });
        this.podSelector = selectorLabels({ name: "postgres", instance: args.objectName, component: "database" });
        const resources = args.resources ?? { cpuRequest: "100m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "1Gi" };
        const child: pulumi.CustomResourceOptions = { parent: this };

        const credentials = new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: { name: `${args.objectName}-credentials`, namespace: ns, labels },
                type: "Opaque",
                stringData: pulumi.secret({ username: args.username, password: args.password }),
            },
            child,
        );

        const service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: args.objectName, namespace: ns, labels },
                spec: {
                    clusterIP: "None",
                    selector: this.podSelector,
                    ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }],
                },
            },
            child,
        );

        const pgIsReady = ["pg_isready", "--host", "127.0.0.1", "--port", String(POSTGRES_PORT), "--username", args.username, "--dbname", args.databaseName];
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
                            terminationGracePeriodSeconds: 60,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: POSTGRES_UID,
                                runAsGroup: POSTGRES_UID,
                                fsGroup: POSTGRES_UID,
                                fsGroupChangePolicy: "OnRootMismatch",
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "postgres",
                                    image: args.image,
                                    imagePullPolicy: "IfNotPresent",
                                    ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
                                    env: [
                                        { name: "POSTGRES_DB", value: args.databaseName },
                                        { name: "POSTGRES_USER", valueFrom: { secretKeyRef: { name: credentials.metadata.name, key: "username" } } },
                                        { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: credentials.metadata.name, key: "password" } } },
                                        // A subdirectory: the volume's root holds lost+found, which initdb refuses.
                                        { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                                    ],
                                    // Data is on the volume; /tmp and /var/run/postgresql are the disk-backed scratch.
                                    resources: containerResources(resources, ephemeralStorage("128Mi", ["256Mi", "16Mi"])),
                                    startupProbe: { exec: { command: pgIsReady }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
                                    readinessProbe: { exec: { command: pgIsReady }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
                                    livenessProbe: { exec: { command: pgIsReady }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
                                    securityContext: {
                                        runAsNonRoot: true,
                                        runAsUser: POSTGRES_UID,
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                        seccompProfile: { type: "RuntimeDefault" },
                                    },
                                    volumeMounts: [
                                        { name: "data", mountPath: "/var/lib/postgresql/data" },
                                        { name: "run", mountPath: "/var/run/postgresql" },
                                        { name: "tmp", mountPath: "/tmp" },
                                        { name: "shm", mountPath: "/dev/shm" },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "run", emptyDir: { sizeLimit: "16Mi" } },
                                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                                // Postgres' parallel workers use POSIX shared memory; the runtime default is 64Mi.
                                { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
                            ],
                        },
                    },
                    volumeClaimTemplates: [
                        {
                            metadata: { name: "data", labels },
                            spec: {
                                accessModes: ["ReadWriteOnce"],
                                ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
                                resources: { requests: { storage: `${args.storageGiB}Gi` } },
                            },
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
                    ingress: [
                        {
                            from: [{ podSelector: { matchLabels: { ...args.clientSelector } } }],
                            ports: [{ protocol: "TCP", port: POSTGRES_PORT }],
                        },
                    ],
                    // The database opens no connections of its own.
                    egress: [],
                },
            },
            child,
        );

        this.host = pulumi.interpolate`${service.metadata.name}.${ns}.svc.cluster.local`;
        this.port = POSTGRES_PORT;
        this.databaseName = args.databaseName;
        this.username = args.username;
        this.registerOutputs({ host: this.host, port: this.port });
    }
}

/** Checks the arguments before anything is registered. */
export function validateInClusterPostgresArgs(args: InClusterPostgresArgs): void {
    const problems: string[] = [];
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.objectName) || args.objectName.length > 52) {
        problems.push(`objectName "${args.objectName}" must be a DNS label of at most 52 characters (StatefulSet pod names add a suffix)`);
    }
    if (!/:[\w][\w.-]*(@sha256:[a-f0-9]{64})?$|@sha256:[a-f0-9]{64}$/.test(args.image) || /:latest(@|$)/.test(args.image)) {
        problems.push(`image "${args.image}" must be pinned by a tag other than latest, or by digest`);
    }
    for (const [key, value] of [
        ["databaseName", args.databaseName],
        ["username", args.username],
    ] as const) {
        if (!/^[a-z][a-z0-9_]{0,62}$/.test(value)) problems.push(`${key} "${value}" must be 1-63 lower-case letters, digits and _, starting with a letter`);
    }
    if (!Number.isInteger(args.storageGiB) || args.storageGiB < 1 || args.storageGiB > 65536) {
        problems.push(`storageGiB must be an integer from 1 to 65536, got ${args.storageGiB}`);
    }
    if (Object.keys(args.clientSelector).length === 0) {
        problems.push("clientSelector must name at least one label: an empty selector would admit every pod of the namespace");
    }
    if (problems.length > 0) throw new Error(`InClusterPostgres "${args.objectName}": ${problems.join("; ")}.`);
}
