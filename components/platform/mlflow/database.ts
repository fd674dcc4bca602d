/**
 * The MLflow backend database, a child of MlflowTracking: a generated password (a Pulumi secret),
 * Postgres on RDS or in-cluster (dev), and the Secret holding the tracking store's URI.
 *
 * These were children of MlflowTracking before; each direct child aliases it as its former parent
 * (movedChildOptions). The children of RdsPostgres and InClusterPostgres (the RDS instance, its KMS key,
 * the StatefulSet and its volume claims) need no alias of their own: the engine finds a child of a
 * component that was found at an alias under that component's old URN (test/statefulUrns.test.ts and
 * test/mlflowUrns.test.ts match the program against the old URNs as the engine does, engine/aliases.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DatabaseSettings } from "../../../stacks/config/schema";
import type { LabelContext } from "../../shared/naming";
import { InClusterPostgres } from "../inClusterPostgres";
import { DATABASE_USER, MLFLOW_NAME, postgresUri, TRACKING_DATABASE, uriSafePassword } from "../mlflowTracking";
import { POSTGRES_PORT, RdsPostgres } from "../rdsPostgres";
import { movedChildOptions } from "./childOptions";

/** Arguments of {@link MlflowDatabase}. */
export interface MlflowDatabaseArgs {
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Labels of the URI Secret. */
    readonly secretLabels: Readonly<Record<string, string>>;
    /** Namespace of the server (and of the in-cluster Postgres). */
    readonly namespace: pulumi.Input<string>;
    /** The backend database settings. */
    readonly database: DatabaseSettings;
    /** RDS instance identifier (kind `rds`). */
    readonly identifier: string;
    /** The VPC: the RDS instance's subnets, and the CIDR MLflow pods reach RDS in. */
    readonly network: { readonly vpcId: string; readonly vpcCidr: string; readonly privateSubnetIds: readonly string[] };
    /** Security group of the nodes, admitted by RDS. */
    readonly clientSecurityGroupId: string;
    /** Performance Insights on RDS. */
    readonly performanceInsights: boolean;
    /** Apply RDS modifications immediately. */
    readonly applyImmediately: boolean;
    /** Protect and retain the database. */
    readonly protect: boolean;
    /** The component these resources were children of before (MlflowTracking): each aliases it, keeping its URN's history. */
    readonly formerParent?: pulumi.Resource;
}

/** The MLflow backend database: password, Postgres (RDS or in-cluster) and the URI Secret. */
export class MlflowDatabase extends pulumi.ComponentResource {
    /** Host name of the database (not secret). */
    public readonly host: pulumi.Output<string>;
    /** Where the database is, for NetworkPolicy egress: the VPC CIDR (RDS) or the Postgres pods. */
    public readonly peer: k8s.types.input.networking.v1.NetworkPolicyPeer;
    /** Name of the Secret holding `username`, `password` and `backend-store-uri`. */
    public readonly secretName: pulumi.Output<string>;
    private readonly password: pulumi.Output<string>;
    private readonly sslMode: "require" | "disable";

    /** `name` is MlflowTracking's: the resources keep the names they had as its children (`<name>-db-password`, ...). */
    constructor(name: string, args: MlflowDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops:index:MlflowDatabase", name, {}, opts);
        const child = movedChildOptions(this, args.formerParent);
        const db = args.database;

        this.password = new random.RandomPassword(`${name}-db-password`, uriSafePassword(32), child).result;
        if (db.kind === "rds") {
            const rds = new RdsPostgres(
                `${name}-db`,
                {
                    identifier: args.identifier,
                    databaseName: TRACKING_DATABASE,
                    username: DATABASE_USER,
                    password: this.password,
                    engineVersion: db.engineVersion,
                    instanceClass: db.instanceClass,
                    allocatedStorageGiB: db.storageGiB,
                    backupRetentionDays: db.backupRetentionDays,
                    multiAz: db.multiAz,
                    deletionProtection: db.deletionProtection,
                    vpcId: args.network.vpcId,
                    subnetIds: args.network.privateSubnetIds,
                    clientSecurityGroupId: args.clientSecurityGroupId,
                    applyImmediately: args.applyImmediately,
                    performanceInsights: args.performanceInsights,
                    protect: args.protect,
                },
                child,
            );
            this.host = rds.address;
            this.sslMode = "require";
            this.peer = { ipBlock: { cidr: args.network.vpcCidr } };
        } else {
            const postgres = new InClusterPostgres(
                `${name}-postgres`,
                {
                    namespace: args.namespace,
                    objectName: `${MLFLOW_NAME}-postgres`,
                    image: `docker.io/library/postgres:${db.engineVersion}`,
                    databaseName: TRACKING_DATABASE,
                    username: DATABASE_USER,
                    password: this.password,
                    storageGiB: db.storageGiB,
                    // Pods of the server and the gc job: the only database clients.
                    clientSelector: { "app.kubernetes.io/name": MLFLOW_NAME, "app.kubernetes.io/instance": MLFLOW_NAME },
                    labels: args.labels,
                    protect: args.protect,
                },
                child,
            );
            this.host = postgres.host;
            // In-cluster traffic in a dev cluster; the official image serves no TLS.
            this.sslMode = "disable";
            this.peer = { podSelector: { matchLabels: postgres.podSelector } };
        }
        const secret = new k8s.core.v1.Secret(
            `${name}-db-secret`,
            {
                metadata: { name: `${MLFLOW_NAME}-db`, namespace: args.namespace, labels: args.secretLabels },
                type: "Opaque",
                stringData: pulumi.secret({ username: DATABASE_USER, password: this.password, "backend-store-uri": this.uriOf(TRACKING_DATABASE) }),
            },
            child,
        );
        this.secretName = secret.metadata.name;
        this.registerOutputs({ host: this.host, secretName: this.secretName });
    }

    /** The URI (a secret) of a database on this server, for the MLflow user. */
    uriOf(database: string): pulumi.Output<string> {
        const sslMode = this.sslMode;
        // The password is a secret, so the URI is one too.
        return pulumi
            .all([this.password, this.host])
            .apply(([password, host]) => postgresUri({ user: DATABASE_USER, password, host, port: POSTGRES_PORT, database, sslMode }));
    }
}
