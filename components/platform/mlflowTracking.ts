/**
 * The MLflow tracking server and model registry of the platform.
 *
 * In its own namespace (Pod Security `restricted`): a Postgres backend (RDS, or an in-cluster StatefulSet
 * in dev) whose generated password stays a Pulumi secret into a Kubernetes Secret, a service account
 * with an IRSA role limited to the artifact bucket's MLflow prefix, a Deployment that migrates the schema
 * in an init container and proxies artifacts to S3 (`--serve-artifacts`), optional basic auth, a
 * ClusterIP Service, a PodDisruptionBudget, NetworkPolicies that admit only the namespaces that need it,
 * and an `mlflow gc` CronJob.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import type { DatabaseSettings } from "../../stacks/config/schema";
import type { ResourceSettings } from "../shared/resources";
import { normalizePrefix } from "../shared/s3Prefix";
import { type LabelContext, selectorLabels, standardLabels } from "../shared/naming";
import { ephemeralStorage } from "../shared/k8sHelpers";
import { MLFLOW_PORT, ORG_LABELS, orgKey } from "../contract";
import { MlflowAuth } from "./mlflow/auth";
import { MlflowDatabase } from "./mlflow/database";
import { MlflowGc } from "./mlflow/gc";
import { MlflowServer } from "./mlflow/server";

/** Port the server listens on inside the pod (the contract's: serving namespaces' NetworkPolicies name it). */
export { MLFLOW_PORT };
/** Port of the ClusterIP Service (`http://mlflow.<namespace>.svc.cluster.local`). */
export const MLFLOW_SERVICE_PORT = 80;
/** Ephemeral storage of the server and its init containers: 512Mi reserved (proxied artifact uploads pass through /tmp), the 1Gi /tmp covered. */
export const MLFLOW_STORAGE = ephemeralStorage("512Mi", ["1Gi"]);
/** Ephemeral storage of the gc container (its /tmp is 1Gi too). */
export const MLFLOW_GC_STORAGE = ephemeralStorage("256Mi", ["1Gi"]);
/**
 * Working directory of the server container: its writable /tmp volume (the root filesystem is read-only).
 * Registering a logged model (`models:/m-<id>` source) makes MLflow 3.1's registry store read the
 * model through `MlflowClient()`, whose tracking store for the backend URI is built with the default
 * artifact root `./mlruns`, which it creates in the working directory (empty, never written to
 * otherwise): on a read-only working directory the registration fails with `[Errno 30]`.
 */
export const MLFLOW_WORKING_DIR = "/tmp";
/** uid/gid of the `mlflow` user of `images/mlflow/Dockerfile`. */
export const MLFLOW_UID = 10001;
/** Name of the server's Service, Deployment and service account. */
export const MLFLOW_NAME = "mlflow";
/** Database (and user) of the tracking store; the auth store is a second database beside it. */
export const TRACKING_DATABASE = "mlflow";
export const AUTH_DATABASE = "mlflow_auth";
export const DATABASE_USER = "mlflow";
/** User name of the basic-auth administrator. */
export const ADMIN_USERNAME = "admin";
/** Pod labels of the Job that creates the team users (mlflowTeamAccess.ts); admitted to the server with auth on. */
export const MLFLOW_TEAM_USERS_SELECTOR: Readonly<Record<string, string>> = selectorLabels({ name: MLFLOW_NAME, component: "team-users" });

/** What MLflow needs of the artifact store: the bucket, and a policy for read-write under a prefix. */
export interface ArtifactStoreAccess {
    /** Name of the bucket. */
    readonly bucketName: pulumi.Input<string>;
    /** IAM policy JSON granting read-write under `prefixes` (and use of the bucket's KMS key). */
    readWritePolicy(prefixes: readonly string[]): pulumi.Input<string>;
}

/** Basic-auth permission a user gets on resources nobody granted them. */
export type MlflowPermission = "READ" | "EDIT" | "MANAGE" | "NO_PERMISSIONS";
/** Default permissions that keep a team's models its own (EDIT or MANAGE would let anyone edit them). */
export const MLFLOW_DEFAULT_PERMISSIONS: readonly MlflowPermission[] = ["READ", "NO_PERMISSIONS"];

/** Arguments of {@link MlflowTracking}. */
export interface MlflowTrackingArgs {
    /** Ownership labels of the stack. */
    readonly labels: LabelContext;
    /** Namespace to create for the server, its database (dev) and its gc job. */
    readonly namespace: string;
    /** MLflow version the image carries (for the version label). */
    readonly version: string;
    /** Server image, pinned (by digest outside dev): a `ContainerImage.imageRef` or a prebuilt reference. */
    readonly image: pulumi.Input<string>;
    /** Server replicas; more than one gets a PodDisruptionBudget. */
    readonly replicas: number;
    /** Server requests and limits. */
    readonly resources: ResourceSettings;
    /** The artifact store; MLflow gets read-write under `artifactPrefix` only. */
    readonly artifactStore: ArtifactStoreAccess;
    /** Prefix of the bucket MLflow owns: artifacts go to `s3://<bucket>/<artifactPrefix>`. */
    readonly artifactPrefix: string;
    /** Switch on MLflow basic auth (a generated admin password, kept secret) and the registry namespaces per team (mlflowRegistryNamespaces.ts). */
    readonly auth: boolean;
    /** Permission of users on what nobody granted them, with auth on: READ or NO_PERMISSIONS. Default READ. */
    readonly authDefaultPermission?: MlflowPermission;
    /** Cron schedule of `mlflow gc`. */
    readonly gcSchedule: string;
    /** Days a deleted run or experiment is kept before `mlflow gc` removes it. */
    readonly gcOlderThanDays: number;
    /** The backend database settings. */
    readonly database: DatabaseSettings;
    /** RDS instance identifier (kind `rds`). */
    readonly databaseIdentifier: string;
    /** Name of the IRSA role. */
    readonly iamRoleName: string;
    /** The cluster: OIDC provider trusted by IRSA, node security group admitted by RDS, peer namespaces. */
    readonly cluster: {
        readonly oidcProviderArn: string;
        readonly nodeSecurityGroupId: string;
        /** Namespace of the ingress gateway, admitted to the server. */
        readonly gatewayNamespace: string;
        /** Namespace of Prometheus, admitted to the server for scraping. */
        readonly monitoringNamespace: string;
    };
    /** The VPC: the RDS instance's subnets, and the CIDR MLflow pods may reach Postgres in. */
    readonly network: { readonly vpcId: string; readonly vpcCidr: string; readonly privateSubnetIds: readonly string[] };
    /** Spread server pods across availability zones (hard constraint). Default false. */
    readonly spreadAcrossZones?: boolean;
    /** Performance Insights on RDS. Default false. */
    readonly performanceInsights?: boolean;
    /** Apply RDS modifications immediately instead of in the maintenance window. Default false. */
    readonly applyImmediately?: boolean;
    /** Protect and retain the stateful resources: namespace, database, keys (prod). Default false. */
    readonly protect?: boolean;
}

/** The MLflow tracking server and model registry. */
export class MlflowTracking extends pulumi.ComponentResource {
    /** In-cluster URL of the tracking server: `http://mlflow.<namespace>.svc.cluster.local`. */
    public readonly trackingUri: pulumi.Output<string>;
    /** Namespace of the server. */
    public readonly namespace: pulumi.Output<string>;
    /** Service account of the server (and gc job). */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** ARN of the IRSA role of that service account. */
    public readonly roleArn: pulumi.Output<string>;
    /** The image the server runs. */
    public readonly image: pulumi.Output<string>;
    /** Host name of the backend database (not secret). */
    public readonly databaseEndpoint: pulumi.Output<string>;
    /** Name of the Secret holding the basic-auth admin credentials; undefined with auth off. */
    public readonly adminSecretName: pulumi.Output<string> | undefined;
    /** The basic-auth admin password (a secret); undefined with auth off. */
    public readonly adminPassword: pulumi.Output<string> | undefined;
    /** Labels selecting the server pods. */
    public readonly serverSelector: Record<string, string>;

    constructor(name: string, args: MlflowTrackingArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): a bad argument fails before anything is registered.
        validateMlflowTrackingArgs(args);
        super("mlops:index:MlflowTracking", name, {}, opts);

        const protect = args.protect === true;
        const commonLabels = standardLabels(args.labels, { name: MLFLOW_NAME, component: "tracking-server" });
        const artifactsDestination = pulumi.interpolate`s3://${args.artifactStore.bucketName}/${normalizePrefix(args.artifactPrefix)}`;

        // --- Namespace (stateful: protected and retained in prod) -------------------------------------
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: args.namespace, labels: { ...commonLabels, ...podSecurityLabels("restricted") } } },
            { parent: this, protect, retainOnDelete: protect },
        );
        const ns = namespace.metadata.name;

        // --- Database: password, Postgres (RDS or in-cluster), URI Secret --------------------------------
        const db = new MlflowDatabase(
            name,
            {
                labels: args.labels,
                secretLabels: commonLabels,
                namespace: ns,
                database: args.database,
                identifier: args.databaseIdentifier,
                network: args.network,
                clientSecurityGroupId: args.cluster.nodeSecurityGroupId,
                performanceInsights: args.performanceInsights ?? false,
                applyImmediately: args.applyImmediately ?? false,
                protect,
                // The database resources were children of this component before it was split: they alias it.
                formerParent: this,
            },
            { parent: this },
        );
        this.databaseEndpoint = db.host;

        // --- Basic auth ------------------------------------------------------------------------------
        const auth = args.auth
            ? new MlflowAuth(
                  name,
                  {
                      namespace: ns,
                      labels: commonLabels,
                      databaseUri: db.uriOf(AUTH_DATABASE),
                      defaultPermission: args.authDefaultPermission ?? "READ",
                      formerParent: this,
                  },
                  { parent: this },
              )
            : undefined;
        this.adminSecretName = auth?.secretName;
        this.adminPassword = auth?.adminPassword;

        // --- Tracking server -----------------------------------------------------------------------
        const server = new MlflowServer(
            name,
            {
                labels: args.labels,
                namespaceName: args.namespace,
                namespace: ns,
                version: args.version,
                image: args.image,
                replicas: args.replicas,
                resources: args.resources,
                artifactStore: args.artifactStore,
                artifactPrefix: args.artifactPrefix,
                artifactsDestination,
                iamRoleName: args.iamRoleName,
                cluster: args.cluster,
                spreadAcrossZones: args.spreadAcrossZones === true,
                databaseSecretName: db.secretName,
                databasePeer: db.peer,
                auth: auth ? { secretName: auth.secretName, registryNamespacesConfigMapName: auth.registryNamespacesConfigMapName } : undefined,
                // The server and gc resources were children of this component before it was split: they alias it.
                formerParent: this,
            },
            { parent: this },
        );
        this.serverSelector = server.selector;

        // --- Garbage collection --------------------------------------------------------------------
        new MlflowGc(
            name,
            {
                labels: args.labels,
                namespace: ns,
                version: args.version,
                image: args.image,
                schedule: args.gcSchedule,
                olderThanDays: args.gcOlderThanDays,
                artifactsDestination,
                trackingUri: mlflowTrackingUri(args.namespace),
                serviceAccountName: server.serviceAccountName,
                databaseSecretName: db.secretName,
                databasePeer: db.peer,
                serverSelector: server.selector,
                authSecretName: auth?.secretName,
                // The server and gc resources were children of this component before it was split: they alias it.
                formerParent: this,
            },
            { parent: this },
        );

        this.namespace = ns;
        this.serviceAccountName = server.serviceAccountName;
        this.roleArn = server.roleArn;
        this.image = pulumi.output(args.image);
        this.trackingUri = pulumi.interpolate`http://${server.serviceName}.${ns}.svc.cluster.local`;
        this.registerOutputs({
            trackingUri: this.trackingUri,
            namespace: this.namespace,
            serviceAccountName: this.serviceAccountName,
            roleArn: this.roleArn,
            image: this.image,
            databaseEndpoint: this.databaseEndpoint,
            adminSecretName: this.adminSecretName,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Pure helpers.
// ---------------------------------------------------------------------------------------------

/** File name of the basic-auth configuration in the auth Secret and in the pod. */
export const BASIC_AUTH_INI = "basic_auth.ini";
/** Directory the auth Secret is mounted at. */
export const AUTH_CONFIG_DIR = "/etc/mlflow/auth";

/**
 * Postgres advisory lock keys (`pg_advisory_lock(hashtext(key))`) that serialise the schema steps of
 * replicas starting together: one creates or migrates, the others wait and then find the schema current.
 */
export const SCHEMA_LOCK_KEYS = { tracking: "mlflow-tracking-schema", auth: "mlflow-auth-schema" } as const;
/** Advisory lock key of {@link CREATE_DATABASE_SCRIPT}. */
export const AUTH_DATABASE_LOCK_KEY = "mlflow-auth-database";

/**
 * Creates the auth database beside the tracking database if it does not exist yet. Idempotent, and
 * safe for replicas starting together: the check and the create run under a Postgres advisory lock
 * (two concurrent `CREATE DATABASE` of one name fail with a unique violation, not DuplicateDatabase);
 * closing the connection releases the lock. Runs in an init container with psycopg2.
 */
export const CREATE_DATABASE_SCRIPT = [
    "import os, psycopg2",
    "from psycopg2 import errors, sql",
    'name = os.environ["MLFLOW_AUTH_DATABASE"]',
    'conn = psycopg2.connect(os.environ["MLFLOW_BACKEND_STORE_URI"])',
    "conn.autocommit = True",
    "with conn.cursor() as cur:",
    `    cur.execute("SELECT pg_advisory_lock(hashtext(%s))", ("${AUTH_DATABASE_LOCK_KEY}",))`,
    '    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))',
    "    if cur.fetchone() is None:",
    "        try:",
    '            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))',
    '            print(f"created database {name}")',
    "        except (errors.DuplicateDatabase, errors.UniqueViolation):",
    "            pass",
    "conn.close()",
].join("\n");

/**
 * The `db-upgrade` init container: creates the tracking store's schema on an empty database, migrates an
 * existing one to MLflow's head revision. `mlflow db upgrade` alone only migrates: on an empty database
 * its first migration fails (`relation "metrics" does not exist`), because the base tables are created by
 * the tracking store itself. So, as `SqlAlchemyStore` does on first use: when the `experiments` table is
 * missing, create MLflow's initial tables; then run the migrations to head (a no-op when current). Under
 * a Postgres advisory lock, so concurrent replicas take turns. A failed migration leaves the base tables
 * (Postgres DDL is transactional) and the next try migrates from there. The URI is read from
 * `MLFLOW_BACKEND_STORE_URI`, never from argv; the log names no URI.
 */
export const TRACKING_SCHEMA_SCRIPT = [
    "import os, sqlalchemy",
    "from mlflow.store.db.utils import _get_schema_version, _upgrade_db, create_sqlalchemy_engine_with_retry",
    "from mlflow.store.tracking.dbmodels.initial_models import Base",
    'engine = create_sqlalchemy_engine_with_retry(os.environ["MLFLOW_BACKEND_STORE_URI"])',
    `key = "${SCHEMA_LOCK_KEYS.tracking}"`,
    "with engine.connect() as lock:",
    '    lock.execute(sqlalchemy.text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})',
    "    try:",
    '        if not sqlalchemy.inspect(engine).has_table("experiments"):',
    '            print("empty database: creating the base tables", flush=True)',
    "            Base.metadata.create_all(engine)",
    "        before = _get_schema_version(engine)",
    "        _upgrade_db(engine)",
    '        print(f"schema {before} -> {_get_schema_version(engine)}", flush=True)',
    "    finally:",
    '        lock.execute(sqlalchemy.text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})',
    "        lock.commit()",
    "engine.dispose()",
].join("\n");

/**
 * The `auth-db-upgrade` init container: migrates the basic-auth store (its first migration creates its
 * tables, so an empty database works) under an advisory lock. The URI is read from
 * `MLFLOW_AUTH_DATABASE_URI`, never from argv (`python -m mlflow.server.auth db upgrade --url` takes it
 * as an argument).
 */
export const AUTH_SCHEMA_SCRIPT = [
    "import os, sqlalchemy",
    "from mlflow.server.auth.db.utils import migrate",
    'engine = sqlalchemy.create_engine(os.environ["MLFLOW_AUTH_DATABASE_URI"])',
    `key = "${SCHEMA_LOCK_KEYS.auth}"`,
    "with engine.connect() as lock:",
    '    lock.execute(sqlalchemy.text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})',
    "    try:",
    '        migrate(engine, "head")',
    '        print("auth schema at head", flush=True)',
    "    finally:",
    '        lock.execute(sqlalchemy.text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})',
    "        lock.commit()",
    "engine.dispose()",
].join("\n");

/**
 * Runs the `mlflow` CLI with its arguments (`python -c <this> gc ...`) plus `--backend-store-uri` taken
 * from `MLFLOW_BACKEND_STORE_URI`: `mlflow gc` reads the URI only from that flag, and a flag would put
 * the database password in the process list. The argv the process starts with holds no URI.
 */
export const MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT = [
    "import os, sys",
    "from mlflow.cli import cli",
    'cli.main(args=sys.argv[1:] + ["--backend-store-uri", os.environ["MLFLOW_BACKEND_STORE_URI"]], prog_name="mlflow")',
].join("\n");

/**
 * The server's readiness check (an exec probe, `python -c <this> <port>`): the server answers `/health`
 * on the port and the tracking database answers a query on its schema table. Prints the failing part's
 * error type only (never a URI). Exit 0 when ready.
 */
export const READINESS_SCRIPT = [
    "import os, sys, urllib.request",
    "try:",
    '    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=3) as r:',
    "        assert r.status == 200, r.status",
    "except Exception as e:",
    '    sys.exit(f"server not ready: {type(e).__name__}")',
    "import psycopg2",
    "try:",
    '    conn = psycopg2.connect(os.environ["MLFLOW_BACKEND_STORE_URI"], connect_timeout=3)',
    "    with conn, conn.cursor() as cur:",
    '        cur.execute("SELECT version_num FROM alembic_version")',
    "        cur.fetchone()",
    "    conn.close()",
    "except Exception as e:",
    '    sys.exit(f"database not ready: {type(e).__name__}")',
].join("\n");

/**
 * The server's probes. Startup: `/health` (up to 5 minutes for a first start). Readiness, the real check
 * ({@link READINESS_SCRIPT}): a gunicorn worker answers and the database is reachable; a busy or
 * cut-off pod leaves the Service's endpoints and comes back by itself. Liveness, cheap and tolerant: a
 * TCP connect to the port, which gunicorn's master accepts even when every worker is busy, failing for
 * 3 minutes before a restart: an overloaded server is not restarted (which would make it worse).
 */
export function mlflowProbes(): Pick<k8s.types.input.core.v1.Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
    return {
        startupProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
        readinessProbe: {
            exec: { command: ["python", "-c", READINESS_SCRIPT, String(MLFLOW_PORT)] },
            periodSeconds: 10,
            timeoutSeconds: 8,
            failureThreshold: 3,
        },
        livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 9 },
    };
}

/** In-cluster URL of the tracking server of a namespace. */
export function mlflowTrackingUri(namespace: string): string {
    return `http://${MLFLOW_NAME}.${namespace}.svc.cluster.local`;
}

/**
 * The namespace label that admits a namespace's pods to the tracking server:
 * `mlops.<domain>/mlflow-access: "true"`. Serving and team namespaces carry it.
 */
export function mlflowAccessLabel(labelDomain: string): Record<string, string> {
    return { [orgKey(labelDomain, ORG_LABELS.mlflowAccess)]: "true" };
}

/** Pod Security Admission labels enforcing, auditing and warning at one level. */
export function podSecurityLabels(level: "restricted" | "baseline"): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": level,
        "pod-security.kubernetes.io/warn": level,
    };
}

/** Options of a generated password that is safe in a URI and an ini file: letters and digits only. */
export function uriSafePassword(length: number): random.RandomPasswordArgs {
    return { length, special: false, upper: true, lower: true, numeric: true, minUpper: 2, minLower: 2, minNumeric: 2 };
}

/** Parts of a Postgres connection URI. */
export interface PostgresUriParts {
    readonly user: string;
    readonly password: string;
    readonly host: string;
    readonly port: number;
    readonly database: string;
    /** `require` for RDS (TLS; the parameter group refuses plain connections), `disable` in-cluster. */
    readonly sslMode: "require" | "verify-full" | "disable";
}

/** `postgresql://user:password@host:port/database?sslmode=...`, with user and password URL-encoded. */
export function postgresUri(p: PostgresUriParts): string {
    return `postgresql://${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}@${p.host}:${p.port}/${p.database}?sslmode=${p.sslMode}`;
}

/** Settings of the MLflow basic-auth app. */
export interface BasicAuthSettings {
    readonly adminUsername: string;
    readonly adminPassword: string;
    /** SQLAlchemy URI of the auth store. */
    readonly databaseUri: string;
    readonly defaultPermission: MlflowPermission;
    /** `module:function` authenticating each request; default MLflow's basic auth. */
    readonly authorizationFunction?: string;
}

/**
 * `basic_auth.ini` of the basic-auth app. Python's configparser treats `%` as interpolation, so every
 * `%` (a URL-encoded character) is doubled. The result contains the admin and database passwords.
 */
export function basicAuthIni(s: BasicAuthSettings): string {
    const value = (v: string) => {
        if (/[\r\n]/.test(v)) throw new Error("basic_auth.ini values must be single-line");
        return v.replace(/%/g, "%%");
    };
    return [
        "[mlflow]",
        `default_permission = ${s.defaultPermission}`,
        `database_uri = ${value(s.databaseUri)}`,
        `admin_username = ${value(s.adminUsername)}`,
        `admin_password = ${value(s.adminPassword)}`,
        `authorization_function = ${value(s.authorizationFunction ?? BASIC_AUTH_FUNCTION)}`,
        "",
    ].join("\n");
}

/** MLflow's own basic-auth authorization function. */
export const BASIC_AUTH_FUNCTION = "mlflow.server.auth:authenticate_request_basic_auth";

/** CPU cores of a Kubernetes quantity (`500m` is 0.5). */
export function cpuCores(quantity: string): number {
    const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
    if (!m) throw new Error(`not a CPU quantity: "${quantity}" (expected e.g. 500m or 2)`);
    return Number(m[1]) / (m[2] ? 1000 : 1);
}

const MEMORY_UNITS: Record<string, number> = {
    "": 1 / 2 ** 20,
    k: 1000 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
    T: 1e12 / 2 ** 20,
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 1024 ** 2,
};

/** MiB of a Kubernetes memory quantity (`1Gi` is 1024). */
export function memoryMiB(quantity: string): number {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
    if (!m) throw new Error(`not a memory quantity: "${quantity}" (expected e.g. 512Mi or 4Gi)`);
    return Number(m[1]) * MEMORY_UNITS[m[2] ?? ""];
}

/** Memory one gunicorn worker of the MLflow server takes, with headroom. */
export const WORKER_MEMORY_MIB = 300;
/** Most workers per pod: scale out with replicas beyond this. */
export const MAX_WORKERS = 8;

/**
 * gunicorn workers for a pod's limits: the usual `2 x cores + 1`, but never more than the memory limit
 * holds at {@link WORKER_MEMORY_MIB} each (the pod would be OOM-killed), at least 1, at most {@link MAX_WORKERS}.
 */
export function gunicornWorkers(resources: Pick<ResourceSettings, "cpuLimit" | "memoryLimit">): number {
    const byCpu = 2 * Math.ceil(cpuCores(resources.cpuLimit)) + 1;
    const byMemory = Math.floor(memoryMiB(resources.memoryLimit) / WORKER_MEMORY_MIB);
    return Math.max(1, Math.min(MAX_WORKERS, byCpu, byMemory));
}

/**
 * Arguments of `mlflow server`: listen on all interfaces, artifacts proxied to S3 (clients need no AWS
 * credentials), basic auth when on. No `--backend-store-uri`: `mlflow server` reads
 * `MLFLOW_BACKEND_STORE_URI` from the environment (the Secret) and hands it to gunicorn in the
 * environment too, so the password is in no process's argv.
 * The gunicorn timeout allows large artifact uploads through the proxy.
 */
export function mlflowServerArgs(o: { artifactsDestination: pulumi.Input<string>; workers: number; auth: boolean }): pulumi.Input<string>[] {
    return [
        "server",
        "--host",
        "0.0.0.0",
        "--port",
        String(MLFLOW_PORT),
        "--serve-artifacts",
        "--artifacts-destination",
        o.artifactsDestination,
        "--default-artifact-root",
        "mlflow-artifacts:/",
        "--workers",
        String(o.workers),
        "--gunicorn-opts",
        "--timeout 120 --graceful-timeout 30 --keep-alive 5 --access-logfile -",
        "--expose-prometheus",
        "/tmp/prometheus",
        ...(o.auth ? ["--app-name", "basic-auth"] : []),
    ];
}

/**
 * Arguments of `mlflow gc` (after {@link MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT}, which adds
 * `--backend-store-uri` from the environment): runs and experiments deleted more than `olderThanDays` ago.
 */
export function mlflowGcArgs(o: { artifactsDestination: pulumi.Input<string>; olderThanDays: number }): pulumi.Input<string>[] {
    return ["gc", "--artifacts-destination", o.artifactsDestination, "--older-than", `${o.olderThanDays}d`];
}

/** Spread replicas over nodes (soft) and, when asked, over zones (hard). */
export function topologySpread(selector: Record<string, string>, replicas: number, acrossZones: boolean): k8s.types.input.core.v1.TopologySpreadConstraint[] {
    const constraints: k8s.types.input.core.v1.TopologySpreadConstraint[] = [];
    if (acrossZones) {
        constraints.push({
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchLabels: selector },
        });
    }
    if (replicas > 1) {
        constraints.push({ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } });
    }
    return constraints;
}

/** Checks the arguments before anything is registered. */
export function validateMlflowTrackingArgs(args: MlflowTrackingArgs): void {
    const problems: string[] = [];
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace) || args.namespace.length > 63) {
        problems.push(`namespace "${args.namespace}" must be a DNS label (lower-case letters, digits and -, at most 63)`);
    }
    if (
        ["kube-system", "kube-public", "kube-node-lease", "default", args.cluster.gatewayNamespace, args.cluster.monitoringNamespace].includes(args.namespace)
    ) {
        problems.push(`namespace "${args.namespace}" is a system or shared namespace; MLflow needs a namespace of its own`);
    }
    if (!Number.isInteger(args.replicas) || args.replicas < 1 || args.replicas > 20) {
        problems.push(`replicas must be an integer from 1 to 20, got ${args.replicas}`);
    }
    try {
        normalizePrefix(args.artifactPrefix);
    } catch (e) {
        problems.push(`artifactPrefix: ${(e as Error).message}`);
    }
    try {
        cpuCores(args.resources.cpuRequest);
        cpuCores(args.resources.cpuLimit);
        memoryMiB(args.resources.memoryRequest);
        if (memoryMiB(args.resources.memoryLimit) < WORKER_MEMORY_MIB) {
            problems.push(`resources.memoryLimit ${args.resources.memoryLimit} is below the ${WORKER_MEMORY_MIB}Mi one server worker needs`);
        }
        if (cpuCores(args.resources.cpuRequest) > cpuCores(args.resources.cpuLimit)) {
            problems.push(`resources.cpuRequest ${args.resources.cpuRequest} exceeds cpuLimit ${args.resources.cpuLimit}`);
        }
        if (memoryMiB(args.resources.memoryRequest) > memoryMiB(args.resources.memoryLimit)) {
            problems.push(`resources.memoryRequest ${args.resources.memoryRequest} exceeds memoryLimit ${args.resources.memoryLimit}`);
        }
    } catch (e) {
        problems.push(`resources: ${(e as Error).message}`);
    }
    if (args.auth && args.authDefaultPermission !== undefined && !MLFLOW_DEFAULT_PERMISSIONS.includes(args.authDefaultPermission)) {
        problems.push(
            `authDefaultPermission ${args.authDefaultPermission} would let every user edit every team's models; use ${MLFLOW_DEFAULT_PERMISSIONS.join(" or ")}`,
        );
    }
    if (!/^(\S+\s+){4}\S+$/.test(args.gcSchedule)) problems.push(`gcSchedule "${args.gcSchedule}" must be a five-field cron expression like 0 3 * * *`);
    if (!Number.isInteger(args.gcOlderThanDays) || args.gcOlderThanDays < 1) {
        problems.push(`gcOlderThanDays must be a positive integer, got ${args.gcOlderThanDays}`);
    }
    if (typeof args.image === "string" && !/(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/.test(args.image)) {
        problems.push(`image "${args.image}" must be pinned by tag or digest`);
    }
    if (problems.length > 0) throw new Error(`MlflowTracking "${args.namespace}": ${problems.join("; ")}.`);
}
