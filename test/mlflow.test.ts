/**
 * The MLflow tracking server of each stack, as the engine would receive it: the database (RDS in
 * test/prod, a StatefulSet in dev), secrets that stay secret, IRSA scoped to the MLflow prefix, the
 * server's pod spec, auth, network policies, the gc job and the stack outputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parsePlatformConfig, type PlatformConfig } from "../stacks/config";
import { REGISTRY_NAMESPACES_DIR, registryNamespacesConfigMapName, registryNamespacesFiles } from "../components/platform/mlflowRegistryNamespaces";
import {
    AUTH_SCHEMA_SCRIPT,
    MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT,
    mlflowAccessLabel,
    postgresUri,
    READINESS_SCRIPT,
    TRACKING_SCHEMA_SCRIPT,
} from "../components/platform/mlflowTracking";
import { standardLabels } from "../components/shared/naming";
import { validateObjects } from "../engine/kubernetes";
import { configNamespace } from "../engine/project";
import { secretPaths } from "../engine/values";
import { policyOf, runStack, type StackRun, STACKS } from "./harness";

const NS = "mlflow";

/** What the `restricted` Pod Security Standard requires of a pod spec; the list of violations. */
export function restrictedViolations(pod: any): string[] {
    const problems: string[] = [];
    const psc = pod.securityContext ?? {};
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push("host namespaces");
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
        const sc = c.securityContext ?? {};
        const where = `container ${c.name}`;
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
        if (sc.privileged) problems.push(`${where}: privileged`);
        if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot`);
        const uid = sc.runAsUser ?? psc.runAsUser;
        if (typeof uid !== "number" || uid === 0) problems.push(`${where}: numeric non-zero runAsUser`);
        const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
        if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problems.push(`${where}: seccompProfile`);
        if (!(sc.capabilities?.drop ?? []).includes("ALL")) problems.push(`${where}: capabilities must drop ALL`);
        if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== "NET_BIND_SERVICE")) problems.push(`${where}: adds capabilities`);
        // Beyond the standard: the platform's own rules.
        if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem`);
        for (const key of ["cpu", "memory"]) {
            if (!c.resources?.requests?.[key] || !c.resources?.limits?.[key]) problems.push(`${where}: ${key} request and limit`);
        }
        if (!/(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/.test(c.image) || /:latest$/.test(c.image)) problems.push(`${where}: unpinned image ${c.image}`);
    }
    for (const v of pod.volumes ?? []) if (v.hostPath) problems.push(`volume ${v.name}: hostPath`);
    if (pod.automountServiceAccountToken !== false) problems.push("automountServiceAccountToken must be false");
    return problems;
}

const envOf = (container: any, name: string) => container.env?.find((e: any) => e.name === name);

/** The one object of a kind and name in the MLflow namespace (other components have objects of the same names). */
function mlflowObject(run: StackRun, kind: string, name: string): any {
    const found = run.k8sOfKind(kind).filter((o) => o.metadata.name === name && (kind === "Namespace" || o.metadata.namespace === NS));
    if (found.length !== 1) throw new Error(`expected one ${kind} ${NS}/${name}, found ${found.length}`);
    return found[0];
}

describe.each(STACKS)("MLflow tracking in %s", (stack) => {
    let run: StackRun;
    let cfg: PlatformConfig;
    let bucket: string;
    beforeAll(async () => {
        run = await runStack(stack);
        cfg = parsePlatformConfig(configNamespace(run.recording.stackConfig.config, "mlops"), stack);
        bucket = run.one("aws:s3/bucket:Bucket").outputs.bucket as string;
    });
    const isProd = stack === "prod";
    const usesRds = stack !== "dev";
    const authOn = stack !== "dev";
    const deployment = () => mlflowObject(run, "Deployment", "mlflow") as any;
    const podSpec = () => deployment().spec.template.spec;
    const server = () => podSpec().containers.find((c: any) => c.name === "mlflow");
    const dbPassword = () => run.one("random:index/randomPassword:RandomPassword", "mlflow-db-password").outputs.result as string;
    const labels = () => ({ labelDomain: "acme.io", owner: "ml-platform", environment: stack, costCentre: "CC-4410" }) as const;

    describe("namespace", () => {
        it("is its own, labelled, and enforces the restricted Pod Security Standard", () => {
            const ns = mlflowObject(run, "Namespace", NS);
            expect(ns.metadata.labels).toEqual({
                ...standardLabels(labels(), { name: "mlflow", component: "tracking-server" }),
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            });
            const resource = run.one("kubernetes:core/v1:Namespace", "mlflow-namespace");
            expect(resource.options).toMatchObject({ protect: isProd, retainOnDelete: isProd });
        });

        it("holds every object of the component, each with the standard labels", () => {
            const objects = run
                .k8s()
                .filter((o) => o.resource.urn.includes("mlops:index:MlflowTracking"))
                .map((o) => o.object);
            expect(objects.length).toBeGreaterThan(8);
            for (const o of objects) {
                if (o.kind !== "Namespace") expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NS);
                expect(o.metadata.labels?.["mlops.acme.io/team"]).toBe("ml-platform");
                expect(o.metadata.labels?.["mlops.acme.io/environment"]).toBe(stack);
                expect(o.metadata.labels?.["app.kubernetes.io/part-of"]).toBe("mlops-platform");
            }
        });

        it("every object passes the upstream Kubernetes schemas", async () => {
            const objects = run
                .k8s()
                .filter((o) => o.resource.urn.includes("mlops:index:MlflowTracking"))
                .map((o) => o.object);
            expect(await validateObjects(objects)).toEqual([]);
        });

        it("every pod of the namespace complies with the restricted standard", () => {
            const pods: any[] = [podSpec(), (mlflowObject(run, "CronJob", "mlflow-gc") as any).spec.jobTemplate.spec.template.spec];
            if (!usesRds) pods.push((mlflowObject(run, "StatefulSet", "mlflow-postgres") as any).spec.template.spec);
            for (const pod of pods) expect(restrictedViolations(pod)).toEqual([]);
        });
    });

    describe("database", () => {
        it(usesRds ? "is RDS Postgres, with no in-cluster StatefulSet" : "is an in-cluster StatefulSet, with no RDS", () => {
            expect(run.ofType("aws:rds/instance:Instance")).toHaveLength(usesRds ? 1 : 0);
            expect(run.k8sOfKind("StatefulSet", NS)).toHaveLength(usesRds ? 0 : 1);
        });

        it("keeps the generated password a secret into the Kubernetes Secret, with the backend URI", () => {
            const password = run.one("random:index/randomPassword:RandomPassword", "mlflow-db-password");
            expect(run.inputs(password)).toMatchObject({ length: 32, special: false });
            const secret = run.one("kubernetes:core/v1:Secret", "mlflow-db-secret");
            expect(run.isSecretInput(secret, "stringData")).toBe(true);
            const host = usesRds ? (run.one("aws:rds/instance:Instance").outputs.address as string) : "mlflow-postgres.mlflow.svc.cluster.local";
            expect(run.inputs(secret).stringData).toEqual({
                username: "mlflow",
                password: dbPassword(),
                "backend-store-uri": postgresUri({
                    user: "mlflow",
                    password: dbPassword(),
                    host,
                    port: 5432,
                    database: "mlflow",
                    sslMode: usesRds ? "require" : "disable",
                }),
            });
            expect(run.inputs(secret).stringData["backend-store-uri"]).toBe(
                `postgresql://mlflow:${dbPassword()}@${host}:5432/mlflow?sslmode=${usesRds ? "require" : "disable"}`,
            );
        });

        it("exports the database host, which is not secret", () => {
            const stackOutputs = run.one("pulumi:pulumi:Stack").outputs;
            expect(secretPaths(stackOutputs)).not.toContain("mlflowDatabaseEndpoint");
            expect(run.outputs().mlflowDatabaseEndpoint).toBe(
                usesRds ? run.one("aws:rds/instance:Instance").outputs.address : "mlflow-postgres.mlflow.svc.cluster.local",
            );
        });

        if (usesRds) {
            it("RDS: private, encrypted with its own rotating key, TLS-only, backed up and kept on deletion", () => {
                const db = cfg.mlflow.database;
                const instance = run.one("aws:rds/instance:Instance");
                const key = run.one("aws:kms/key:Key", "mlflow-db-key");
                expect(run.inputs(key)).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
                expect(key.outputs.arn).not.toBe(run.one("aws:kms/key:Key", "artifacts-key").outputs.arn);
                const subnets = run.one("aws:rds/subnetGroup:SubnetGroup");
                const sg = run.one("aws:ec2/securityGroup:SecurityGroup", "mlflow-db-sg");
                const params = run.one("aws:rds/parameterGroup:ParameterGroup");
                expect(run.inputs(instance)).toMatchObject({
                    identifier: `acme-${stack}-mlflow`,
                    engine: "postgres",
                    engineVersion: db.engineVersion.split(".")[0],
                    autoMinorVersionUpgrade: true,
                    allowMajorVersionUpgrade: false,
                    instanceClass: db.instanceClass,
                    allocatedStorage: db.storageGiB,
                    storageEncrypted: true,
                    kmsKeyId: key.outputs.arn,
                    dbName: "mlflow",
                    username: "mlflow",
                    port: 5432,
                    publiclyAccessible: false,
                    vpcSecurityGroupIds: [sg.id],
                    dbSubnetGroupName: `acme-${stack}-mlflow`,
                    parameterGroupName: `acme-${stack}-mlflow-postgres16`,
                    backupRetentionPeriod: db.backupRetentionDays,
                    multiAz: db.multiAz,
                    deletionProtection: db.deletionProtection,
                    skipFinalSnapshot: false,
                    finalSnapshotIdentifier: `acme-${stack}-mlflow-final`,
                    copyTagsToSnapshot: true,
                    deleteAutomatedBackups: false,
                    applyImmediately: !isProd,
                    performanceInsightsEnabled: isProd,
                    enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
                });
                expect(instance.propertyDependencies.dbSubnetGroupName).toEqual([subnets.urn]);
                expect(instance.propertyDependencies.parameterGroupName).toEqual([params.urn]);
                if (isProd) {
                    expect(run.inputs(instance)).toMatchObject({ multiAz: true, deletionProtection: true, performanceInsightsKmsKeyId: key.outputs.arn });
                }
                expect(run.inputs(params)).toMatchObject({ name: `acme-${stack}-mlflow-postgres16`, family: "postgres16" });
                expect(run.inputs(params).parameters).toContainEqual({ name: "rds.force_ssl", value: "1", applyMethod: "immediate" });
                expect(run.inputs(subnets).subnetIds).toEqual(cfg.network.privateSubnetIds);
            });

            it("RDS: the master password is the generated one, and a secret", () => {
                const instance = run.one("aws:rds/instance:Instance");
                expect(run.isSecretInput(instance, "password")).toBe(true);
                expect(run.inputs(instance).password).toBe(dbPassword());
            });

            it("RDS: the security group admits TCP 5432 from the node security group only", () => {
                const sg = run.one("aws:ec2/securityGroup:SecurityGroup", "mlflow-db-sg");
                expect(run.inputs(sg)).toEqual({ description: expect.any(String), vpcId: cfg.network.vpcId });
                // The database's rules (the feature store's ElastiCache has its own group and rule).
                const ingress = run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.name.startsWith("mlflow-"));
                expect(ingress.map((r) => run.inputs(r))).toEqual([
                    {
                        securityGroupId: sg.id,
                        description: expect.any(String),
                        ipProtocol: "tcp",
                        fromPort: 5432,
                        toPort: 5432,
                        referencedSecurityGroupId: cfg.cluster.nodeSecurityGroupId,
                    },
                ]);
                expect(run.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([]);
                expect(run.ofType("aws:ec2/securityGroupRule:SecurityGroupRule")).toEqual([]);
            });

            it(isProd ? "RDS: instance and key are protected and retained" : "RDS: nothing is protected outside prod", () => {
                for (const r of [run.one("aws:rds/instance:Instance"), run.one("aws:kms/key:Key", "mlflow-db-key")]) {
                    expect(r.options).toMatchObject({ protect: isProd, retainOnDelete: isProd });
                }
            });

            it("MLflow pods reach Postgres in the VPC CIDR only", () => {
                const policy = mlflowObject(run, "NetworkPolicy", "mlflow") as any;
                expect(policy.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: cfg.network.vpcCidr } }], ports: [{ protocol: "TCP", port: 5432 }] });
            });
        } else {
            it("in-cluster: a pinned Postgres with a volume claim template, restricted security context and pg_isready probes", () => {
                const sts = mlflowObject(run, "StatefulSet", "mlflow-postgres") as any;
                expect(sts.spec.serviceName).toBe("mlflow-postgres");
                expect(sts.spec.replicas).toBe(1);
                expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
                expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
                expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: `${cfg.mlflow.database.storageGiB}Gi` } },
                });
                const pod = sts.spec.template.spec;
                expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
                const [pg] = pod.containers;
                expect(pg.image).toBe(`docker.io/library/postgres:${cfg.mlflow.database.engineVersion}`);
                const mounts = Object.fromEntries(pg.volumeMounts.map((m: any) => [m.mountPath, m.name]));
                expect(mounts).toEqual({ "/var/lib/postgresql/data": "data", "/var/run/postgresql": "run", "/tmp": "tmp", "/dev/shm": "shm" });
                expect(envOf(pg, "PGDATA").value).toBe("/var/lib/postgresql/data/pgdata");
                expect(envOf(pg, "POSTGRES_PASSWORD").valueFrom.secretKeyRef).toEqual({ name: "mlflow-postgres-credentials", key: "password" });
                for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
                    expect(pg[probe].exec.command.slice(0, 1)).toEqual(["pg_isready"]);
                    expect(pg[probe].exec.command).toEqual(expect.arrayContaining(["--username", "mlflow", "--dbname", "mlflow"]));
                }
            });

            it("in-cluster: its credentials Secret holds the generated password as a secret", () => {
                const secret = run.one("kubernetes:core/v1:Secret", "mlflow-postgres-credentials");
                expect(run.isSecretInput(secret, "stringData")).toBe(true);
                expect(run.inputs(secret).stringData).toEqual({ username: "mlflow", password: dbPassword() });
            });

            it("in-cluster: a headless Service, and a NetworkPolicy admitting MLflow pods only", () => {
                const svc = mlflowObject(run, "Service", "mlflow-postgres") as any;
                expect(svc.spec.clusterIP).toBe("None");
                expect(svc.spec.ports).toEqual([{ name: "postgres", port: 5432, targetPort: "postgres", protocol: "TCP" }]);
                const policy = mlflowObject(run, "NetworkPolicy", "mlflow-postgres") as any;
                expect(policy.spec).toEqual({
                    podSelector: { matchLabels: svc.spec.selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [
                        {
                            from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "mlflow" } } }],
                            ports: [{ protocol: "TCP", port: 5432 }],
                        },
                    ],
                    egress: [],
                });
                // The MLflow pods (server and gc) carry exactly those labels.
                const serverLabels = deployment().spec.template.metadata.labels;
                expect(serverLabels).toMatchObject(policy.spec.ingress[0].from[0].podSelector.matchLabels);
            });

            it("MLflow pods reach the Postgres pods only", () => {
                const policy = mlflowObject(run, "NetworkPolicy", "mlflow") as any;
                const svc = mlflowObject(run, "Service", "mlflow-postgres") as any;
                expect(policy.spec.egress).toContainEqual({
                    to: [{ podSelector: { matchLabels: svc.spec.selector } }],
                    ports: [{ protocol: "TCP", port: 5432 }],
                });
            });
        }
    });

    describe("identity", () => {
        it("the IRSA role trusts exactly the mlflow/mlflow service account of this cluster", () => {
            const role = run.one("aws:iam/role:Role", "mlflow-role");
            const issuer = cfg.cluster.oidcProviderArn.split(":oidc-provider/")[1];
            expect(run.inputs(role).name).toBe(`acme-${stack}-mlflow`);
            expect(policyOf(run.inputs(role).assumeRolePolicy)).toEqual({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ServiceAccountWebIdentity",
                        Effect: "Allow",
                        Principal: { Federated: cfg.cluster.oidcProviderArn },
                        Action: "sts:AssumeRoleWithWebIdentity",
                        Condition: { StringEquals: { [`${issuer}:sub`]: "system:serviceaccount:mlflow:mlflow", [`${issuer}:aud`]: "sts.amazonaws.com" } },
                    },
                ],
            });
        });

        it("its only policy reads and writes objects under mlflow/ of the artifact bucket, with the bucket key", () => {
            const role = run.one("aws:iam/role:Role", "mlflow-role");
            const policies = run.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => run.inputs(p).role === role.outputs.name);
            expect(policies).toHaveLength(1);
            expect(run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((p) => run.inputs(p).role === role.outputs.name)).toEqual([]);
            const doc = policyOf(run.inputs(policies[0]).policy);
            const artifactKey = run.one("aws:kms/key:Key", "artifacts-key").outputs.arn;
            const objects = doc.Statement.find((s) => s.Sid === "ReadWriteObjects");
            expect(objects.Resource).toEqual([`arn:aws:s3:::${bucket}/mlflow/*`]);
            expect(objects.Action).toContain("s3:PutObject");
            expect(objects.Action).toContain("s3:DeleteObject");
            const list = doc.Statement.find((s) => s.Sid === "ListPrefixes");
            expect(list).toMatchObject({ Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": ["mlflow", "mlflow/*"] } } });
            const key = doc.Statement.find((s) => s.Sid === "UseBucketKey");
            expect(key.Resource).toBe(artifactKey);
            const resources = doc.Statement.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
            expect(new Set(resources)).toEqual(new Set([`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/mlflow/*`, artifactKey]));
        });

        it("the service account carries the role and mounts no API token", () => {
            const sa = mlflowObject(run, "ServiceAccount", "mlflow") as any;
            expect(sa.metadata.annotations["eks.amazonaws.com/role-arn"]).toBe(run.one("aws:iam/role:Role", "mlflow-role").outputs.arn);
            expect(sa.automountServiceAccountToken).toBe(false);
            expect(podSpec().serviceAccountName).toBe("mlflow");
            expect(podSpec().automountServiceAccountToken).toBe(false);
        });
    });

    describe("server", () => {
        it("migrates the schema in an init container before the server starts", () => {
            const [first] = podSpec().initContainers;
            // Create-or-upgrade (TRACKING_SCHEMA_SCRIPT), not `mlflow db upgrade`, which fails on an empty database.
            expect(first).toMatchObject({ name: "db-upgrade", command: ["python", "-c", TRACKING_SCHEMA_SCRIPT] });
            expect(first.args).toBeUndefined();
            expect(first.image).toBe(server().image);
            expect(envOf(first, "MLFLOW_BACKEND_STORE_URI").valueFrom.secretKeyRef).toEqual({ name: "mlflow-db", key: "backend-store-uri" });
        });

        it("no MLflow container has the database URI in its command or arguments (it is read from the environment)", () => {
            const containers = [...podSpec().initContainers, ...podSpec().containers];
            for (const c of containers) {
                const argv = JSON.stringify([...(c.command ?? []), ...(c.args ?? [])]);
                expect(argv, c.name).not.toMatch(/\$\(MLFLOW_[A-Z_]*URI\)|postgresql:\/\//);
            }
        });

        it("serves artifacts from s3://<bucket>/mlflow with the backend URI from the Secret, never a literal", () => {
            const args: string[] = server().args;
            expect(server().command).toEqual(["mlflow"]);
            expect(args.slice(0, 5)).toEqual(["server", "--host", "0.0.0.0", "--port", "5000"]);
            const flag = (name: string) => args[args.indexOf(name) + 1];
            expect(args).toContain("--serve-artifacts");
            expect(flag("--artifacts-destination")).toBe(`s3://${bucket}/mlflow`);
            expect(flag("--default-artifact-root")).toBe("mlflow-artifacts:/");
            // `mlflow server` reads MLFLOW_BACKEND_STORE_URI itself (click envvar).
            expect(args).not.toContain("--backend-store-uri");
            expect(Number(flag("--workers"))).toBeGreaterThanOrEqual(1);
            expect(envOf(server(), "MLFLOW_BACKEND_STORE_URI")).toEqual({
                name: "MLFLOW_BACKEND_STORE_URI",
                valueFrom: { secretKeyRef: { name: "mlflow-db", key: "backend-store-uri" } },
            });
            const everything = JSON.stringify(deployment());
            expect(everything).not.toContain("postgresql://");
            expect(everything).not.toContain(dbPassword());
        });

        it("probes: startup on /health, readiness the real check (server and database), liveness a tolerant TCP connect", () => {
            const c = server();
            expect(c.ports).toEqual([{ name: "http", containerPort: 5000, protocol: "TCP" }]);
            expect(c.startupProbe.httpGet).toEqual({ path: "/health", port: "http" });
            expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(120);
            expect(c.readinessProbe.exec.command).toEqual(["python", "-c", READINESS_SCRIPT, "5000"]);
            expect(c.livenessProbe).toEqual({ tcpSocket: { port: "http" }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 9 });
            // Not the same check: an overloaded server leaves the endpoints before it would be restarted.
            expect(JSON.stringify(c.livenessProbe)).not.toBe(JSON.stringify(c.readinessProbe));
            expect(c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold).toBeGreaterThan(
                c.readinessProbe.periodSeconds * c.readinessProbe.failureThreshold,
            );
        });

        it("runs read-only as uid 10001 with a writable /tmp as HOME, with the configured resources", () => {
            const c = server();
            expect(podSpec().securityContext).toEqual({
                runAsNonRoot: true,
                runAsUser: 10001,
                runAsGroup: 10001,
                fsGroup: 10001,
                seccompProfile: { type: "RuntimeDefault" },
            });
            expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
            expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
            expect(podSpec().volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "1Gi" } });
            expect(envOf(c, "HOME").value).toBe("/tmp");
            const r = cfg.mlflow.resources;
            expect(c.resources).toEqual({
                requests: { cpu: r.cpuRequest, memory: r.memoryRequest, "ephemeral-storage": "512Mi" },
                limits: { cpu: r.cpuLimit, memory: r.memoryLimit, "ephemeral-storage": "1280Mi" },
            });
            for (const init of podSpec().initContainers) expect(init.resources).toEqual(c.resources);
        });

        it("works in a writable emptyDir (registering a logged model makes MLflow create ./mlruns in its working directory)", () => {
            const c = server();
            expect(c.workingDir).toBe("/tmp");
            const mount = c.volumeMounts.find((m: any) => m.mountPath === c.workingDir);
            expect(mount.readOnly).toBeFalsy();
            expect(podSpec().volumes.find((v: any) => v.name === mount.name).emptyDir).toBeDefined();
            // The root filesystem stays read-only: the working directory is the only writable place it needs.
            expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        });

        it("rolls out without losing capacity, with the configured replicas", () => {
            const spec = deployment().spec;
            expect(spec.replicas).toBe(cfg.mlflow.replicas);
            expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
            expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
        });

        it(isProd ? "spreads replicas across zones" : "does not require spreading across zones", () => {
            const constraints = podSpec().topologySpreadConstraints ?? [];
            const zones = constraints.find((c: any) => c.topologyKey === "topology.kubernetes.io/zone");
            if (isProd) {
                expect(zones).toEqual({
                    maxSkew: 1,
                    topologyKey: "topology.kubernetes.io/zone",
                    whenUnsatisfiable: "DoNotSchedule",
                    labelSelector: { matchLabels: deployment().spec.selector.matchLabels },
                });
            } else {
                expect(zones).toBeUndefined();
            }
        });

        it("is reachable through a ClusterIP Service on port 80, and the stack exports its URL", () => {
            const svc = mlflowObject(run, "Service", "mlflow") as any;
            expect(svc.spec).toEqual({
                type: "ClusterIP",
                selector: deployment().spec.selector.matchLabels,
                ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
            });
            expect(run.outputs()).toMatchObject({
                mlflowTrackingUri: "http://mlflow.mlflow.svc.cluster.local",
                mlflowNamespace: "mlflow",
                mlflowServiceAccount: "mlflow",
                mlflowRoleArn: run.one("aws:iam/role:Role", "mlflow-role").outputs.arn,
                mlflowImage: server().image,
            });
        });

        it(stack === "dev" ? "has no PodDisruptionBudget with one replica" : "keeps all but one replica through voluntary disruptions", () => {
            const pdbs = run.k8sOfKind("PodDisruptionBudget", NS) as any[];
            if (cfg.mlflow.replicas > 1) {
                expect(pdbs).toHaveLength(1);
                expect(pdbs[0].spec).toEqual({
                    maxUnavailable: 1,
                    selector: { matchLabels: deployment().spec.selector.matchLabels },
                    // Drains do not hang on a stuck (not ready) pod.
                    unhealthyPodEvictionPolicy: "AlwaysAllow",
                });
            } else {
                expect(pdbs).toEqual([]);
            }
            expect(pdbs.length).toBe(stack === "dev" ? 0 : 1);
        });
    });

    describe("basic auth", () => {
        if (authOn) {
            it("generates the admin password and writes the whole basic_auth.ini as a secret", () => {
                const admin = run.one("random:index/randomPassword:RandomPassword", "mlflow-admin-password").outputs.result as string;
                const secret = run.one("kubernetes:core/v1:Secret", "mlflow-auth-secret");
                expect(run.isSecretInput(secret, "stringData")).toBe(true);
                const data = run.inputs(secret).stringData;
                const host = run.one("aws:rds/instance:Instance").outputs.address;
                const authDb = `postgresql://mlflow:${dbPassword()}@${host}:5432/mlflow_auth?sslmode=require`;
                expect(data["basic_auth.ini"]).toBe(
                    [
                        "[mlflow]",
                        `default_permission = ${cfg.mlflow.authDefaultPermission}`,
                        `database_uri = ${authDb}`,
                        "admin_username = admin",
                        `admin_password = ${admin}`,
                        // The registry namespaces' function (mlflowRegistryNamespaces.ts), which authenticates as basic auth does.
                        "authorization_function = mlops_registry_namespaces:authenticate_request",
                        "",
                    ].join("\n"),
                );
                expect(data).toMatchObject({ "admin-username": "admin", "admin-password": admin, "database-uri": authDb });
                expect(data["flask-secret-key"]).toMatch(/^[A-Za-z0-9]{48}$/);
            });

            it("runs the basic-auth app with the mounted ini and a shared Flask secret key", () => {
                const c = server();
                const args: string[] = c.args;
                expect(args.slice(-2)).toEqual(["--app-name", "basic-auth"]);
                expect(envOf(c, "MLFLOW_AUTH_CONFIG_PATH").value).toBe("/etc/mlflow/auth/basic_auth.ini");
                expect(envOf(c, "MLFLOW_FLASK_SERVER_SECRET_KEY").valueFrom.secretKeyRef).toEqual({ name: "mlflow-auth", key: "flask-secret-key" });
                expect(c.volumeMounts).toContainEqual({ name: "auth-config", mountPath: "/etc/mlflow/auth", readOnly: true });
                expect(podSpec().volumes).toContainEqual({
                    name: "auth-config",
                    secret: { secretName: "mlflow-auth", items: [{ key: "basic_auth.ini", path: "basic_auth.ini" }], defaultMode: 0o440 },
                });
            });

            it("loads the registry namespaces' authorization function from a ConfigMap named by its content, on PYTHONPATH", () => {
                const name = registryNamespacesConfigMapName();
                const cm = mlflowObject(run, "ConfigMap", name);
                expect(cm.data).toEqual(registryNamespacesFiles());
                expect(Object.keys(cm.data).sort()).toEqual(["mlops_registry_namespaces.py", "registry_namespaces.json"]);
                expect(JSON.parse(cm.data["registry_namespaces.json"])).toMatchObject({
                    teamUserPattern: "^team-([a-z][a-z0-9-]{0,18}[a-z0-9])$",
                    modelNamePrefix: "{team}-",
                });
                expect(cm.metadata.labels).toEqual(standardLabels(labels(), { name: "mlflow", component: "tracking-server" }));
                expect(podSpec().volumes).toContainEqual({ name: "registry-namespaces", configMap: { name, defaultMode: 0o444 } });
                const c = server();
                expect(c.volumeMounts).toContainEqual({ name: "registry-namespaces", mountPath: REGISTRY_NAMESPACES_DIR, readOnly: true });
                expect(envOf(c, "PYTHONPATH").value).toBe(REGISTRY_NAMESPACES_DIR);
                // Only the server loads it: the init containers run no auth app.
                for (const init of podSpec().initContainers) expect(envOf(init, "PYTHONPATH"), init.name).toBeUndefined();
            });

            it("creates and migrates the auth database before the server starts", () => {
                const names = podSpec().initContainers.map((c: any) => c.name);
                expect(names).toEqual(["db-upgrade", "auth-db-create", "auth-db-upgrade"]);
                const upgrade = podSpec().initContainers[2];
                expect(upgrade.command).toEqual(["python", "-c", AUTH_SCHEMA_SCRIPT]);
                expect(upgrade.args).toBeUndefined();
                expect(envOf(upgrade, "MLFLOW_AUTH_DATABASE_URI").valueFrom.secretKeyRef).toEqual({ name: "mlflow-auth", key: "database-uri" });
                expect(envOf(podSpec().initContainers[1], "MLFLOW_AUTH_DATABASE").value).toBe("mlflow_auth");
            });

            it("exports the admin Secret's name, and the admin password only as a secret", () => {
                expect(secretPaths(run.one("pulumi:pulumi:Stack").outputs)).toContain("mlflowAdminPassword");
                expect(secretPaths(run.recording.outputs)).toContain("mlflowAdminPassword");
                expect(run.outputs().mlflowAdminSecretName).toBe("mlflow-auth");
                expect(run.outputs().mlflowAdminPassword).toBe(run.one("random:index/randomPassword:RandomPassword", "mlflow-admin-password").outputs.result);
            });
        } else {
            it("is off: no auth Secret, no auth app, no admin password output", () => {
                expect(run.k8sOfKind("Secret", NS).map((s) => s.metadata.name)).not.toContain("mlflow-auth");
                expect(
                    run
                        .ofType("random:index/randomPassword:RandomPassword")
                        .filter((p) => p.urn.includes("MlflowTracking"))
                        .map((p) => p.name),
                ).toEqual(["mlflow-db-password"]);
                expect(server().args).not.toContain("--app-name");
                expect(envOf(server(), "MLFLOW_AUTH_CONFIG_PATH")).toBeUndefined();
                expect(envOf(server(), "PYTHONPATH")).toBeUndefined();
                expect(run.k8sOfKind("ConfigMap", NS).map((c) => c.metadata.name)).not.toContain(registryNamespacesConfigMapName());
                expect(podSpec().initContainers.map((c: any) => c.name)).toEqual(["db-upgrade"]);
                expect(run.outputs().mlflowAdminPassword).toBeUndefined();
                expect(run.outputs().mlflowAdminSecretName).toBeUndefined();
            });
        }
    });

    describe("network policies", () => {
        it("deny everything in the namespace by default", () => {
            expect((mlflowObject(run, "NetworkPolicy", "default-deny") as any).spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        });

        it("admit the server port only from access-labelled namespaces, the gateway, monitoring, the gc job and (auth on) the team-users job", () => {
            const policy = mlflowObject(run, "NetworkPolicy", "mlflow") as any;
            const gc = mlflowObject(run, "CronJob", "mlflow-gc") as any;
            expect(policy.spec.podSelector).toEqual({ matchLabels: deployment().spec.selector.matchLabels });
            expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
            expect(policy.spec.ingress).toEqual([
                {
                    from: [
                        { namespaceSelector: { matchLabels: { "mlops.acme.io/mlflow-access": "true" } } },
                        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": cfg.cluster.gatewayNamespace } } },
                        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
                        {
                            podSelector: {
                                matchLabels: {
                                    "app.kubernetes.io/name": "mlflow",
                                    "app.kubernetes.io/instance": "mlflow",
                                    "app.kubernetes.io/component": "garbage-collector",
                                },
                            },
                        },
                        // With auth on, the Job that creates the team users (test/mlflowTeamAccess.test.ts).
                        ...(authOn
                            ? [
                                  {
                                      podSelector: {
                                          matchLabels: {
                                              "app.kubernetes.io/name": "mlflow",
                                              "app.kubernetes.io/instance": "mlflow",
                                              "app.kubernetes.io/component": "team-users",
                                          },
                                      },
                                  },
                              ]
                            : []),
                    ],
                    ports: [{ protocol: "TCP", port: 5000 }],
                },
            ]);
            expect(gc.spec.jobTemplate.spec.template.metadata.labels).toMatchObject(policy.spec.ingress[0].from[3].podSelector.matchLabels);
            expect(mlflowAccessLabel("acme.io")).toEqual(policy.spec.ingress[0].from[0].namespaceSelector.matchLabels);
        });

        it("let the server out only to DNS, Postgres and HTTPS", () => {
            const egress = (mlflowObject(run, "NetworkPolicy", "mlflow") as any).spec.egress;
            expect(egress).toHaveLength(3);
            expect(egress[0]).toEqual({
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                    },
                ],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            });
            expect(egress[1].ports).toEqual([{ protocol: "TCP", port: 5432 }]);
            expect(egress[2]).toEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] });
            const ports = egress.flatMap((e: any) => e.ports.map((p: any) => p.port));
            expect(new Set(ports)).toEqual(new Set([53, 5432, 443]));
        });

        it("admit nothing into the gc job and let it out to DNS, Postgres, the server and HTTPS", () => {
            const policy = mlflowObject(run, "NetworkPolicy", "mlflow-gc") as any;
            expect(policy.spec.ingress).toEqual([]);
            expect(policy.spec.egress).toContainEqual({
                to: [{ podSelector: { matchLabels: deployment().spec.selector.matchLabels } }],
                ports: [{ protocol: "TCP", port: 5000 }],
            });
            const ports = policy.spec.egress.flatMap((e: any) => e.ports.map((p: any) => p.port));
            expect(new Set(ports)).toEqual(new Set([53, 5432, 5000, 443]));
        });
    });

    describe("garbage collection", () => {
        it("runs mlflow gc on the configured schedule, one at a time, bounded in time and history", () => {
            const cron = mlflowObject(run, "CronJob", "mlflow-gc") as any;
            expect(cron.spec).toMatchObject({
                schedule: cfg.mlflow.gcSchedule,
                timeZone: "Etc/UTC",
                concurrencyPolicy: "Forbid",
                startingDeadlineSeconds: 3600,
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 3,
            });
            expect(cron.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 10800 });
            const pod = cron.spec.jobTemplate.spec.template.spec;
            expect(pod).toMatchObject({ restartPolicy: "Never", serviceAccountName: "mlflow", automountServiceAccountToken: false });
            const [c] = pod.containers;
            // The wrapper adds --backend-store-uri from the environment: no URI in argv.
            expect(c.command).toEqual(["python", "-c", MLFLOW_CLI_WITH_BACKEND_STORE_SCRIPT]);
            expect(c.args).toEqual(["gc", "--artifacts-destination", `s3://${bucket}/mlflow`, "--older-than", `${cfg.mlflow.gcOlderThanDays}d`]);
            expect(envOf(c, "MLFLOW_BACKEND_STORE_URI").valueFrom.secretKeyRef).toEqual({ name: "mlflow-db", key: "backend-store-uri" });
            // Proxied artifacts (mlflow-artifacts:/) are deleted through the server.
            expect(envOf(c, "MLFLOW_TRACKING_URI").value).toBe("http://mlflow.mlflow.svc.cluster.local");
            if (authOn) {
                expect(envOf(c, "MLFLOW_TRACKING_USERNAME").valueFrom.secretKeyRef).toEqual({ name: "mlflow-auth", key: "admin-username" });
                expect(envOf(c, "MLFLOW_TRACKING_PASSWORD").valueFrom.secretKeyRef).toEqual({ name: "mlflow-auth", key: "admin-password" });
            } else {
                expect(envOf(c, "MLFLOW_TRACKING_PASSWORD")).toBeUndefined();
            }
        });
    });
});
