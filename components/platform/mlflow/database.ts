/**
 * The MLflow backend database: a generated password (a Pulumi secret), Postgres on RDS or in-cluster
 * (dev), and the Secret holding the tracking store's URI.
 *
 * Unlike auth, server and gc, these are not moved under a child component: they stay children of
 * MlflowTracking. RdsPostgres and InClusterPostgres are components whose stateful children (the RDS
 * instance, its KMS key, the StatefulSet) would change URN with them, and those children would need
 * aliases of their own that the database components do not take today.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DatabaseSettings } from "../../../stacks/config/schema";
import type { LabelContext } from "../../shared/naming";
import { InClusterPostgres } from "../inClusterPostgres";
import { DATABASE_USER, MLFLOW_NAME, postgresUri, TRACKING_DATABASE, uriSafePassword } from "../mlflowTracking";
import { POSTGRES_PORT, RdsPostgres } from "../rdsPostgres";

/** Arguments of {@link mlflowDatabase}. */
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
}

/** What the server and the gc job need of the database. */
export interface MlflowDatabase {
    /** Host name of the database (not secret). */
    readonly host: pulumi.Output<string>;
    /** Where the database is, for NetworkPolicy egress: the VPC CIDR (RDS) or the Postgres pods. */
    readonly peer: k8s.types.input.networking.v1.NetworkPolicyPeer;
    /** Name of the Secret holding `username`, `password` and `backend-store-uri`. */
    readonly secretName: pulumi.Output<string>;
    /** The URI (a secret) of a database on this server, for the MLflow user. */
    uriOf(database: string): pulumi.Output<string>;
}

/** Registers the database resources as children of `parent` (MlflowTracking), with names `<name>-...`. */
export function mlflowDatabase(name: string, args: MlflowDatabaseArgs, parent: pulumi.Resource): MlflowDatabase {
    const child: pulumi.CustomResourceOptions = { parent };
    const db = args.database;
    const password = new random.RandomPassword(`${name}-db-password`, uriSafePassword(32), child);
    let host: pulumi.Output<string>;
    let sslMode: "require" | "disable";
    let peer: k8s.types.input.networking.v1.NetworkPolicyPeer;
    if (db.kind === "rds") {
        const rds = new RdsPostgres(
            `${name}-db`,
            {
                identifier: args.identifier,
                databaseName: TRACKING_DATABASE,
                username: DATABASE_USER,
                password: password.result,
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
        host = rds.address;
        sslMode = "require";
        peer = { ipBlock: { cidr: args.network.vpcCidr } };
    } else {
        const postgres = new InClusterPostgres(
            `${name}-postgres`,
            {
                namespace: args.namespace,
                objectName: `${MLFLOW_NAME}-postgres`,
                image: `docker.io/library/postgres:${db.engineVersion}`,
                databaseName: TRACKING_DATABASE,
                username: DATABASE_USER,
                password: password.result,
                storageGiB: db.storageGiB,
                // Pods of the server and the gc job: the only database clients.
                clientSelector: { "app.kubernetes.io/name": MLFLOW_NAME, "app.kubernetes.io/instance": MLFLOW_NAME },
                labels: args.labels,
                protect: args.protect,
            },
            child,
        );
        host = postgres.host;
        // In-cluster traffic in a dev cluster; the official image serves no TLS.
        sslMode = "disable";
        peer = { podSelector: { matchLabels: postgres.podSelector } };
    }
    const uriOf = (database: string) =>
        pulumi
            .all([password.result, host])
            .apply(([pw, h]) => postgresUri({ user: DATABASE_USER, password: pw, host: h, port: POSTGRES_PORT, database, sslMode }));
    const secret = new k8s.core.v1.Secret(
        `${name}-db-secret`,
        {
            metadata: { name: `${MLFLOW_NAME}-db`, namespace: args.namespace, labels: args.secretLabels },
            type: "Opaque",
            stringData: pulumi.secret({ username: DATABASE_USER, password: password.result, "backend-store-uri": uriOf(TRACKING_DATABASE) }),
        },
        child,
    );
    return { host, peer, secretName: secret.metadata.name, uriOf };
}
