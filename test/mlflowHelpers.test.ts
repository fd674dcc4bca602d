/**
 * The pure parts of the MLflow component and its databases: URIs, the basic-auth ini, worker sizing,
 * server and gc arguments, argument validation (failing before anything is registered), the RDS
 * helpers, the image's Dockerfile, and the mlflow config keys.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ENVIRONMENT_DEFAULTS, parsePlatformConfig } from "../stacks/config";
import { type InClusterPostgresArgs, validateInClusterPostgresArgs } from "../components/platform/inClusterPostgres";
import {
    basicAuthIni,
    cpuCores,
    AUTH_SCHEMA_SCRIPT,
    CREATE_DATABASE_SCRIPT,
    MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT,
    READINESS_SCRIPT,
    TRACKING_SCHEMA_SCRIPT,
    gunicornWorkers,
    MAX_WORKERS,
    memoryMiB,
    MLFLOW_UID,
    mlflowAccessLabel,
    mlflowGcArgs,
    mlflowServerArgs,
    MlflowTracking,
    type MlflowTrackingArgs,
    podSecurityLabels,
    postgresUri,
    topologySpread,
    uriSafePassword,
    validateMlflowTrackingArgs,
    WORKER_MEMORY_MIB,
} from "../components/platform/mlflowTracking";
import {
    finalSnapshotIdentifier,
    postgresParameterFamily,
    postgresParameters,
    rdsEngineVersion,
    type RdsPostgresArgs,
    validateRdsPostgresArgs,
} from "../components/platform/rdsPostgres";
import { configNamespace, readProject, readStackConfig } from "../engine/project";
import { ROOT, runProgram } from "./harness";

/** Reads an ini the way Python's configparser does with its default BasicInterpolation (`%%` is `%`). */
function readIni(text: string): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    let section = "";
    for (const line of text.split("\n")) {
        const header = /^\[(.+)\]$/.exec(line);
        if (header) {
            section = header[1];
            out[section] = {};
            continue;
        }
        const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
        if (!kv) continue;
        if (/%(?!%)/.test(kv[2].replace(/%%/g, ""))) throw new Error(`configparser would fail on a lone % in ${kv[1]}`);
        out[section][kv[1]] = kv[2].replace(/%%/g, "%");
    }
    return out;
}

const singleLine = fc.string({ unit: "grapheme-ascii", maxLength: 60 }).filter((s) => !/[\r\n]/.test(s) && s.trim() === s);

describe("postgresUri", () => {
    it("builds the URI MLflow and psycopg2 expect", () => {
        expect(postgresUri({ user: "mlflow", password: "s3cret", host: "db.example", port: 5432, database: "mlflow", sslMode: "require" })).toBe(
            "postgresql://mlflow:s3cret@db.example:5432/mlflow?sslmode=require",
        );
    });

    it("round-trips any password through URL parsing", () => {
        fc.assert(
            fc.property(fc.string({ maxLength: 40 }), (password) => {
                const uri = postgresUri({ user: "mlflow", password, host: "db.internal", port: 5432, database: "mlflow", sslMode: "require" });
                const url = new URL(uri);
                expect(decodeURIComponent(url.password)).toBe(password);
                expect(url.hostname).toBe("db.internal");
                expect(url.port).toBe("5432");
                expect(url.pathname).toBe("/mlflow");
                expect(url.searchParams.get("sslmode")).toBe("require");
            }),
        );
    });
});

describe("basicAuthIni", () => {
    const settings = {
        adminUsername: "admin",
        adminPassword: "pw",
        databaseUri: "postgresql://u:p@h:5432/mlflow_auth?sslmode=require",
        defaultPermission: "READ" as const,
    };

    it("holds the keys the basic-auth app reads", () => {
        expect(readIni(basicAuthIni(settings))).toEqual({
            mlflow: {
                default_permission: "READ",
                database_uri: settings.databaseUri,
                admin_username: "admin",
                admin_password: "pw",
                authorization_function: "mlflow.server.auth:authenticate_request_basic_auth",
            },
        });
    });

    it("escapes % for configparser, so URL-encoded passwords survive", () => {
        fc.assert(
            fc.property(singleLine, singleLine, (password, db) => {
                fc.pre(password.length > 0 && db.length > 0);
                const ini = readIni(basicAuthIni({ ...settings, adminPassword: password, databaseUri: db }));
                expect(ini.mlflow.admin_password).toBe(password);
                expect(ini.mlflow.database_uri).toBe(db);
            }),
        );
        expect(basicAuthIni({ ...settings, adminPassword: "a%2Fb" })).toContain("admin_password = a%%2Fb\n");
    });

    it("names the authorization function it is given (the registry namespaces' one)", () => {
        expect(
            readIni(basicAuthIni({ ...settings, authorizationFunction: "mlops_registry_namespaces:authenticate_request" })).mlflow.authorization_function,
        ).toBe("mlops_registry_namespaces:authenticate_request");
    });

    it("refuses multi-line values, which would inject keys", () => {
        expect(() => basicAuthIni({ ...settings, adminPassword: "x\ndefault_permission = MANAGE" })).toThrow("single-line");
    });
});

describe("resource quantities and gunicorn workers", () => {
    it("parses CPU and memory quantities", () => {
        expect(cpuCores("500m")).toBe(0.5);
        expect(cpuCores("2")).toBe(2);
        expect(memoryMiB("512Mi")).toBe(512);
        expect(memoryMiB("4Gi")).toBe(4096);
        expect(memoryMiB("1G")).toBeCloseTo(953.67, 1);
        expect(() => cpuCores("1Gi")).toThrow('not a CPU quantity: "1Gi"');
        expect(() => memoryMiB("lots")).toThrow('not a memory quantity: "lots"');
    });

    it("sizes the environments' defaults sensibly", () => {
        const workers = (env: "dev" | "test" | "prod") => gunicornWorkers(ENVIRONMENT_DEFAULTS[env].mlflow!.resources as any);
        expect([workers("dev"), workers("test"), workers("prod")]).toEqual([3, 3, 5]);
    });

    const cpu = fc.oneof(
        fc.integer({ min: 1, max: 16000 }).map((m) => `${m}m`),
        fc.integer({ min: 1, max: 16 }).map(String),
    );
    const mem = fc.oneof(
        fc.integer({ min: 64, max: 65536 }).map((m) => `${m}Mi`),
        fc.integer({ min: 1, max: 64 }).map((g) => `${g}Gi`),
    );

    it("never exceeds what the memory limit holds, and stays within 1..MAX_WORKERS", () => {
        fc.assert(
            fc.property(cpu, mem, (cpuLimit, memoryLimit) => {
                const w = gunicornWorkers({ cpuLimit, memoryLimit });
                expect(Number.isInteger(w)).toBe(true);
                expect(w).toBeGreaterThanOrEqual(1);
                expect(w).toBeLessThanOrEqual(MAX_WORKERS);
                if (memoryMiB(memoryLimit) >= WORKER_MEMORY_MIB) expect(w * WORKER_MEMORY_MIB).toBeLessThanOrEqual(memoryMiB(memoryLimit));
                expect(w).toBeLessThanOrEqual(2 * Math.ceil(cpuCores(cpuLimit)) + 1);
            }),
        );
    });

    it("does not shrink when a limit grows", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 1, max: 16 }),
                fc.integer({ min: 1, max: 16 }),
                fc.integer({ min: 256, max: 16384 }),
                fc.integer({ min: 0, max: 16384 }),
                (c, dc, m, dm) => {
                    const base = gunicornWorkers({ cpuLimit: String(c), memoryLimit: `${m}Mi` });
                    expect(gunicornWorkers({ cpuLimit: String(c + dc), memoryLimit: `${m}Mi` })).toBeGreaterThanOrEqual(base);
                    expect(gunicornWorkers({ cpuLimit: String(c), memoryLimit: `${m + dm}Mi` })).toBeGreaterThanOrEqual(base);
                },
            ),
        );
    });
});

describe("server and gc arguments", () => {
    const dest = "s3://bucket/mlflow";

    it("proxies artifacts to S3, reads the backend store from the environment, and adds basic auth only when on", () => {
        const withAuth = mlflowServerArgs({ artifactsDestination: dest, workers: 3, auth: true }) as string[];
        const withoutAuth = mlflowServerArgs({ artifactsDestination: dest, workers: 3, auth: false }) as string[];
        expect(withoutAuth).toEqual([
            "server",
            "--host",
            "0.0.0.0",
            "--port",
            "5000",
            "--serve-artifacts",
            "--artifacts-destination",
            dest,
            "--default-artifact-root",
            "mlflow-artifacts:/",
            "--workers",
            "3",
            "--gunicorn-opts",
            "--timeout 120 --graceful-timeout 30 --keep-alive 5 --access-logfile -",
            "--expose-prometheus",
            "/tmp/prometheus",
        ]);
        expect(withAuth).toEqual([...withoutAuth, "--app-name", "basic-auth"]);
    });

    it("gc removes what was deleted more than N days ago, artifacts included", () => {
        expect(mlflowGcArgs({ artifactsDestination: dest, olderThanDays: 30 })).toEqual(["gc", "--artifacts-destination", dest, "--older-than", "30d"]);
    });

    it.skipIf(!hasPython())("the init, wrapper and probe scripts are valid Python", () => {
        for (const script of [CREATE_DATABASE_SCRIPT, TRACKING_SCHEMA_SCRIPT, AUTH_SCHEMA_SCRIPT, MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT, READINESS_SCRIPT]) {
            expect(() => execFileSync("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], { input: script })).not.toThrow();
        }
        expect(CREATE_DATABASE_SCRIPT).toContain("sql.Identifier(name)");
    });

    it("the schema scripts take their URI from the environment and serialise on an advisory lock", () => {
        expect(TRACKING_SCHEMA_SCRIPT).toContain('os.environ["MLFLOW_BACKEND_STORE_URI"]');
        expect(AUTH_SCHEMA_SCRIPT).toContain('os.environ["MLFLOW_AUTH_DATABASE_URI"]');
        expect(CREATE_DATABASE_SCRIPT).toContain('cur.execute("SELECT pg_advisory_lock(hashtext(%s))", ("mlflow-auth-database",))');
        expect(CREATE_DATABASE_SCRIPT.indexOf("pg_advisory_lock")).toBeLessThan(CREATE_DATABASE_SCRIPT.indexOf("SELECT 1 FROM pg_database"));
        for (const s of [TRACKING_SCHEMA_SCRIPT, AUTH_SCHEMA_SCRIPT]) {
            expect(s).toContain("pg_advisory_lock(hashtext(:k))");
            expect(s).toContain("pg_advisory_unlock(hashtext(:k))");
        }
        // An empty database gets the base tables before the migrations (what `mlflow db upgrade` lacks).
        expect(TRACKING_SCHEMA_SCRIPT.indexOf("Base.metadata.create_all")).toBeLessThan(TRACKING_SCHEMA_SCRIPT.indexOf("_upgrade_db(engine)"));
        expect(MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT).toContain('"--backend-store-uri", os.environ["MLFLOW_BACKEND_STORE_URI"]');
    });
});

describe("labels, passwords and scheduling", () => {
    it("names the namespace label that admits callers, in the organisation's domain", () => {
        expect(mlflowAccessLabel("acme.io")).toEqual({ "mlops.acme.io/mlflow-access": "true" });
    });

    it("enforces, audits and warns at the same Pod Security level", () => {
        expect(podSecurityLabels("restricted")).toEqual({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        });
    });

    it("generates passwords of letters and digits only (safe in a URI and an ini)", () => {
        expect(uriSafePassword(32)).toMatchObject({ length: 32, special: false, upper: true, lower: true, numeric: true });
    });

    it("spreads over zones only when asked and over nodes only with several replicas", () => {
        const sel = { app: "x" };
        expect(topologySpread(sel, 1, false)).toEqual([]);
        expect(topologySpread(sel, 3, true).map((c) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
            ["topology.kubernetes.io/zone", "DoNotSchedule"],
            ["kubernetes.io/hostname", "ScheduleAnyway"],
        ]);
        expect(topologySpread(sel, 2, false).map((c) => c.topologyKey)).toEqual(["kubernetes.io/hostname"]);
    });
});

const validArgs: MlflowTrackingArgs = {
    labels: { labelDomain: "acme.io", owner: "ml-platform", environment: "test", costCentre: "CC-4410" },
    namespace: "mlflow",
    version: "3.1.1",
    image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow@sha256:${"a".repeat(64)}`,
    replicas: 2,
    resources: { cpuRequest: "250m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" },
    artifactStore: { bucketName: "acme-artifacts", readWritePolicy: () => "{}" },
    artifactPrefix: "mlflow",
    auth: true,
    gcSchedule: "0 3 * * *",
    gcOlderThanDays: 30,
    database: {
        kind: "rds",
        instanceClass: "db.t4g.medium",
        storageGiB: 50,
        engineVersion: "16.4",
        backupRetentionDays: 7,
        multiAz: false,
        deletionProtection: false,
    },
    databaseIdentifier: "acme-test-mlflow",
    iamRoleName: "acme-test-mlflow",
    cluster: {
        oidcProviderArn: "arn:aws:iam::310987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/7A2B4C6D8E0F1A3B5C7D9E1F3A5B7C92",
        nodeSecurityGroupId: "sg-0a2b3c4d5e6f70891",
        gatewayNamespace: "ingress-nginx",
        monitoringNamespace: "monitoring",
    },
    network: { vpcId: "vpc-0b2c3d4e5f6071829", vpcCidr: "10.20.0.0/16", privateSubnetIds: ["subnet-0e2f3a4b5c6d7e801", "subnet-0e2f3a4b5c6d7e802"] },
};

describe("validateMlflowTrackingArgs", () => {
    it("accepts valid arguments", () => {
        expect(() => validateMlflowTrackingArgs(validArgs)).not.toThrow();
    });

    it.each([
        [{ namespace: "MLflow" }, 'namespace "MLflow" must be a DNS label'],
        [{ namespace: "kube-system" }, 'namespace "kube-system" is a system or shared namespace'],
        [{ namespace: "monitoring" }, 'namespace "monitoring" is a system or shared namespace'],
        [{ replicas: 0 }, "replicas must be an integer from 1 to 20, got 0"],
        [{ artifactPrefix: "*" }, "artifactPrefix: S3 prefix must be a non-empty path without wildcards"],
        [
            { resources: { ...validArgs.resources, memoryLimit: "256Mi", memoryRequest: "128Mi" } },
            "resources.memoryLimit 256Mi is below the 300Mi one server worker needs",
        ],
        [{ resources: { ...validArgs.resources, cpuRequest: "2" } }, "resources.cpuRequest 2 exceeds cpuLimit 1"],
        [{ resources: { ...validArgs.resources, cpuLimit: "lots" } }, 'resources: not a CPU quantity: "lots"'],
        [{ gcSchedule: "daily" }, 'gcSchedule "daily" must be a five-field cron expression'],
        [{ gcOlderThanDays: 0 }, "gcOlderThanDays must be a positive integer, got 0"],
        [{ image: "ghcr.io/mlflow/mlflow" }, 'image "ghcr.io/mlflow/mlflow" must be pinned by tag or digest'],
        [{ authDefaultPermission: "EDIT" }, "authDefaultPermission EDIT would let every user edit every team's models; use READ or NO_PERMISSIONS"],
        [{ authDefaultPermission: "MANAGE" }, "authDefaultPermission MANAGE would let every user edit every team's models; use READ or NO_PERMISSIONS"],
    ] as const)("rejects %j", (change, message) => {
        expect(() => validateMlflowTrackingArgs({ ...validArgs, ...(change as Partial<MlflowTrackingArgs>) })).toThrow(message);
    });

    it("fails before the component registers anything", async () => {
        const failure = await runProgram(() => {
            const providers = [
                new aws.Provider("aws", { region: "eu-west-1" }),
                new k8s.Provider("k8s", { kubeconfig: "{}" }),
                new random.Provider("random", {}),
            ];
            new MlflowTracking("mlflow", { ...validArgs, replicas: 0 }, { providers });
        }).catch((e) => e);
        expect(failure).toBeInstanceOf(Error);
        expect(failure.resources.map((r: { type: string }) => r.type).filter((t: string) => !t.startsWith("pulumi:"))).toEqual([]);
        expect(String(failure.message)).toContain("replicas must be an integer from 1 to 20, got 0");
    });
});

describe("RDS helpers", () => {
    it("gives RDS the major version when it upgrades minors itself, so there is no drift to undo", () => {
        expect(rdsEngineVersion("16.4", true)).toBe("16");
        expect(rdsEngineVersion("16.4", false)).toBe("16.4");
        expect(postgresParameterFamily("16.4")).toBe("postgres16");
        fc.assert(
            fc.property(fc.integer({ min: 10, max: 30 }), fc.integer({ min: 0, max: 20 }), (major, minor) => {
                expect(postgresParameterFamily(`${major}.${minor}`)).toBe(`postgres${rdsEngineVersion(`${major}.${minor}`, true)}`);
            }),
        );
    });

    it("forces TLS", () => {
        expect(postgresParameters()).toContainEqual({ name: "rds.force_ssl", value: "1", applyMethod: "immediate" });
    });

    it("names the final snapshot with a valid snapshot identifier", () => {
        fc.assert(
            fc.property(fc.array(fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/), { minLength: 1, maxLength: 5 }), (segments) => {
                const identifier = segments.join("-");
                expect(finalSnapshotIdentifier(identifier)).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$/);
            }),
        );
    });

    const rds: RdsPostgresArgs = {
        identifier: "acme-test-mlflow",
        databaseName: "mlflow",
        username: "mlflow",
        password: "x",
        engineVersion: "16.4",
        instanceClass: "db.t4g.medium",
        allocatedStorageGiB: 50,
        backupRetentionDays: 7,
        multiAz: false,
        deletionProtection: false,
        vpcId: "vpc-0b2c3d4e5f6071829",
        subnetIds: ["subnet-0e2f3a4b5c6d7e801", "subnet-0e2f3a4b5c6d7e802"],
        clientSecurityGroupId: "sg-0a2b3c4d5e6f70891",
    };

    it.each([
        [{ identifier: "Acme" }, 'identifier "Acme" must be 1-63 lower-case letters'],
        [{ identifier: "acme--db" }, 'identifier "acme--db"'],
        [{ identifier: "acme-" }, 'identifier "acme-"'],
        [{ username: "postgres" }, 'username "postgres" must be'],
        [{ username: "rdsadmin" }, 'username "rdsadmin" must be'],
        [{ allocatedStorageGiB: 10 }, "allocatedStorageGiB must be an integer from 20 to 65536 (gp3 needs at least 20), got 10"],
        [{ maxAllocatedStorageGiB: 40 }, "maxAllocatedStorageGiB must be an integer from allocatedStorageGiB (50) to 65536, got 40"],
        [{ backupRetentionDays: 0 }, "backupRetentionDays must be an integer from 1 to 35 (0 would switch backups off), got 0"],
        [{ subnetIds: ["subnet-0e2f3a4b5c6d7e801", "subnet-0e2f3a4b5c6d7e801"] }, "subnetIds must hold at least two distinct private subnets"],
        [{ clientSecurityGroupId: "0.0.0.0/0" }, 'clientSecurityGroupId "0.0.0.0/0" must be a security group id'],
        [{ engineVersion: "latest" }, 'engineVersion "latest" must be a Postgres version'],
    ] as const)("rejects %j", (change, message) => {
        expect(() => validateRdsPostgresArgs({ ...rds, ...(change as Partial<RdsPostgresArgs>) })).toThrow(message);
    });

    it("accepts valid arguments", () => {
        expect(() => validateRdsPostgresArgs(rds)).not.toThrow();
    });
});

describe("validateInClusterPostgresArgs", () => {
    const pg: InClusterPostgresArgs = {
        namespace: "mlflow",
        objectName: "mlflow-postgres",
        image: "docker.io/library/postgres:16.4",
        databaseName: "mlflow",
        username: "mlflow",
        password: "x",
        storageGiB: 10,
        clientSelector: { "app.kubernetes.io/name": "mlflow" },
        labels: { labelDomain: "acme.io", owner: "ml-platform", environment: "dev", costCentre: "CC-4410" },
    };

    it("accepts valid arguments, a digest too", () => {
        expect(() => validateInClusterPostgresArgs(pg)).not.toThrow();
        expect(() => validateInClusterPostgresArgs({ ...pg, image: `postgres@sha256:${"b".repeat(64)}` })).not.toThrow();
    });

    it.each([
        [{ image: "postgres" }, 'image "postgres" must be pinned'],
        [{ image: "postgres:latest" }, 'image "postgres:latest" must be pinned'],
        [{ clientSelector: {} }, "clientSelector must name at least one label"],
        [{ storageGiB: 0 }, "storageGiB must be an integer from 1 to 65536, got 0"],
        [{ objectName: "Postgres" }, 'objectName "Postgres" must be a DNS label'],
        [{ username: "Mlflow" }, 'username "Mlflow" must be'],
    ] as const)("rejects %j", (change, message) => {
        expect(() => validateInClusterPostgresArgs({ ...pg, ...(change as Partial<InClusterPostgresArgs>) })).toThrow(message);
    });
});

describe("images/mlflow/Dockerfile", () => {
    const dir = path.join(ROOT, "images", "mlflow");
    const dockerfile = fs.readFileSync(path.join(dir, "Dockerfile"), "utf8");

    it("installs exactly the hash-pinned lock on Python 3.11, and fails unless the lock pins the configured MLflow version", () => {
        expect(dockerfile).toMatch(/^FROM python:3\.11-slim-bookworm$/m);
        expect(dockerfile).toContain("pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps -r /tmp/requirements.lock");
        expect(dockerfile).toContain("assert mlflow.__version__ == '${MLFLOW_VERSION}'");
        expect(dockerfile).toMatch(/^ARG MLFLOW_VERSION=\d+\.\d+\.\d+$/m);
    });

    it("runs as the numeric non-root user the pod spec expects", () => {
        expect(dockerfile).toMatch(new RegExp(`^ARG APP_UID=${MLFLOW_UID}$`, "m"));
        expect(dockerfile).toMatch(/^USER \$\{APP_UID\}:\$\{APP_UID\}$/m);
    });
});

describe("mlflow configuration keys", () => {
    const raw = (stack: string) => configNamespace(readStackConfig(readProject(ROOT), stack).config, "mlops");
    const withMlflow = (stack: string, change: Record<string, unknown>) => {
        const r: Record<string, unknown> = { ...raw(stack) };
        r.mlflow = JSON.stringify({ ...JSON.parse(r.mlflow as string), ...change });
        return r;
    };

    it("defaults the namespace to mlflow and the auth default permission to READ", () => {
        const r = raw("test");
        const mlflow = JSON.parse(r.mlflow);
        delete mlflow.namespace;
        delete mlflow.authDefaultPermission;
        const cfg = parsePlatformConfig({ ...r, mlflow: JSON.stringify(mlflow) }, "test");
        expect(cfg.mlflow.namespace).toBe("mlflow");
        expect(cfg.mlflow.authDefaultPermission).toBe("READ");
    });

    it("names the key, the value and what is allowed", () => {
        expect(() => parsePlatformConfig(withMlflow("test", { namespace: "ML_flow" }), "test")).toThrow(
            'mlops:mlflow.namespace: got "ML_flow"; expected a Kubernetes namespace name (lower-case letters, digits and -).',
        );
        expect(() => parsePlatformConfig(withMlflow("test", { authDefaultPermission: "ALL" }), "test")).toThrow(
            'mlops:mlflow.authDefaultPermission: got "ALL"; expected one of READ, NO_PERMISSIONS (EDIT or MANAGE would let every user edit every team\'s models).',
        );
        // EDIT or MANAGE by default would let any team edit another team's models: refused.
        for (const permission of ["EDIT", "MANAGE"]) {
            expect(() => parsePlatformConfig(withMlflow("test", { authDefaultPermission: permission }), "test")).toThrow(
                `mlops:mlflow.authDefaultPermission: got "${permission}"; expected one of READ, NO_PERMISSIONS`,
            );
        }
    });
});

function hasPython(): boolean {
    try {
        execFileSync("python3", ["--version"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}
