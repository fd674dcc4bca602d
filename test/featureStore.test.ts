/**
 * The feature store (Feast) under the recording engine: what feature_store.yaml, `feast serve` and the
 * materialization job receive, the online store per kind (in-cluster Redis hardened and password-protected;
 * ElastiCache encrypted at rest and in transit, authenticated, private, protected in prod), the IRSA and CI
 * roles scoped to exactly the project's prefixes, the hardened feature server with its PDB and ServiceMonitor,
 * the network policies, and the stack configuration's rules.
 */
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { ConfigError, ENVIRONMENT_DEFAULTS, parsePlatformConfig } from "../stacks/config";
import { FEATURE_SERVER_METRICS_PORT, FEATURE_SERVER_PORT, featureOfflinePrefix, featureRegistryKey, REDIS_PORT } from "../components/contract";
import {
    ciTrustPolicy,
    FeatureStore,
    type FeatureStoreArgs,
    featureServerName,
    featureServerUrl,
    validateFeatureStoreArgs,
} from "../components/platform/featureStore";
import {
    featureApplyPolicy,
    featureServeArgs,
    featureServerPolicy,
    featureStoreYaml,
    materializerPolicy,
    materializeScript,
    REDIS_PASSWORD_ENV,
    redisConnectionString,
} from "../components/platform/featureStoreConfig";
import { redisConf } from "../components/platform/inClusterRedis";
import { configNamespace, readProject, readStackConfig } from "../engine/project";
import { reveal } from "../engine/values";
import { policyOf, ROOT, runProgram } from "./harness";

const BUCKET = { bucketArn: "arn:aws:s3:::acme-dev-artifacts", kmsKeyArn: "arn:aws:kms:eu-west-1:210987654321:key/k" };
const RESOURCES = { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" };

function args(overrides: Partial<FeatureStoreArgs> = {}): FeatureStoreArgs {
    return {
        labels: { labelDomain: "acme.io", owner: "platform", environment: "dev", costCentre: "CC-1" },
        namespace: "feast",
        version: "0.67.0",
        image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/mlops/feast:0.67.0",
        projects: [
            { team: "fraud", servingNamespace: "ml-fraud", ciRoleArns: ["arn:aws:iam::210987654321:role/fraud-ci"] },
            { team: "recsys", servingNamespace: "ml-recsys", ciRoleArns: [] },
        ],
        artifactStore: { bucketName: "acme-dev-artifacts", ...BUCKET },
        server: { replicas: 2, workers: 2, resources: RESOURCES },
        registryCacheTtlSeconds: 60,
        onlineKeyTtlSeconds: 86400,
        materialize: { schedule: "*/30 * * * *", resources: RESOURCES },
        onlineStore: {
            kind: "in-cluster",
            image: "docker.io/library/redis:7.2.5",
            storageGiB: 5,
            maxMemoryMiB: 384,
            resources: { ...RESOURCES, memoryLimit: "512Mi" },
        },
        roleName: (purpose) => `acme-dev-${purpose}`,
        cluster: {
            oidcProviderArn: "arn:aws:iam::210987654321:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789",
            nodeSecurityGroupId: "sg-0123456789abcdef0",
            monitoringNamespace: "monitoring",
        },
        network: { vpcId: "vpc-0123456789abcdef0", vpcCidr: "10.20.0.0/16", privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] },
        ...overrides,
    };
}

const ELASTICACHE = {
    kind: "elasticache",
    replicationGroupId: "acme-prod-feast",
    nodeType: "cache.m7g.large",
    engineVersion: "7.1",
    nodes: 2,
    snapshotRetentionDays: 7,
} as const;

describe("feature_store.yaml", () => {
    const settings = {
        project: "fraud",
        bucket: "acme-dev-artifacts",
        redisHost: "feast-redis.feast.svc.cluster.local",
        redisPort: REDIS_PORT,
        redisTls: false,
        registryCacheTtlSeconds: 60,
        onlineKeyTtlSeconds: 86400,
    };

    it("puts the registry and offline store on the artifact store and the online store on Redis, with the password as an environment reference", () => {
        const doc = yaml.load(featureStoreYaml(settings)) as Record<string, any>;
        expect(doc).toEqual({
            project: "fraud",
            provider: "local",
            registry: { registry_type: "file", path: `s3://acme-dev-artifacts/${featureRegistryKey("fraud")}`, cache_ttl_seconds: 60 },
            online_store: {
                type: "redis",
                redis_type: "redis",
                connection_string: `feast-redis.feast.svc.cluster.local:6379,password=\${${REDIS_PASSWORD_ENV}}`,
                key_ttl_seconds: 86400,
                full_scan_for_deletion: false,
            },
            offline_store: { type: "file" },
            entity_key_serialization_version: 3,
        });
        expect(featureRegistryKey("fraud")).toBe("feast/registry/fraud/registry.db");
        expect(featureOfflinePrefix("fraud")).toBe("feast/offline/fraud");
    });

    it("asks for TLS to ElastiCache", () => {
        expect(redisConnectionString("master.acme-prod-feast.abc.euw1.cache.amazonaws.com", 6379, true)).toBe(
            `master.acme-prod-feast.abc.euw1.cache.amazonaws.com:6379,ssl=true,password=\${${REDIS_PASSWORD_ENV}}`,
        );
    });

    it("refuses values that would break the file or the connection string", () => {
        expect(() => featureStoreYaml({ ...settings, project: "Fraud_1" })).toThrow(/project/);
        expect(() => redisConnectionString("a,b", 6379, false)).toThrow(/host/);
        expect(() => redisConnectionString("redis", 0, false)).toThrow(/port/);
        expect(() => featureStoreYaml({ ...settings, onlineKeyTtlSeconds: 0 })).toThrow(/onlineKeyTtlSeconds/);
    });

    it("serves with metrics on all interfaces from the mounted repo directory, and materializes up to now", () => {
        expect(featureServeArgs({ workers: 2, registryTtlSeconds: 60 })).toEqual([
            "-c",
            "/etc/feast",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            String(FEATURE_SERVER_PORT),
            "--workers",
            "2",
            "--registry_ttl_sec",
            "60",
            "--metrics",
        ]);
        expect(() => featureServeArgs({ workers: 0, registryTtlSeconds: 60 })).toThrow(/workers/);
        expect(materializeScript()).toBe('exec feast -c /etc/feast materialize-incremental "$(date -u +%Y-%m-%dT%H:%M:%S)"');
    });

    it("redis.conf requires the password, keeps data, never evicts, and disables reconfiguration", () => {
        const conf = redisConf({ password: "A".repeat(8) + "b1".repeat(8), dataDir: "/data", port: 6379, maxMemoryMiB: 384 });
        expect(conf).toContain(`requirepass ${"A".repeat(8)}${"b1".repeat(8)}`);
        for (const line of [
            "protected-mode yes",
            "appendonly yes",
            "maxmemory 384mb",
            "maxmemory-policy noeviction",
            'rename-command CONFIG ""',
            'rename-command FLUSHALL ""',
        ])
            expect(conf).toContain(line);
        expect(() => redisConf({ password: "short", dataDir: "/data", port: 6379, maxMemoryMiB: 384 })).toThrow(/password/);
    });
});

describe("feature store identities", () => {
    it("the feature server reads its project's registry only", () => {
        const doc = featureServerPolicy(BUCKET, "fraud");
        expect(doc.Statement.find((s) => s.Sid === "ReadObjects")?.Resource).toEqual(["arn:aws:s3:::acme-dev-artifacts/feast/registry/fraud/*"]);
        expect(JSON.stringify(doc)).not.toMatch(/PutObject|offline|recsys/);
    });

    it("every Feast role may check the bucket (HeadBucket: s3:ListBucket without a prefix), and read objects only under its prefixes", () => {
        for (const doc of [featureServerPolicy(BUCKET, "fraud"), materializerPolicy(BUCKET, "fraud"), featureApplyPolicy(BUCKET, "fraud")]) {
            expect(doc.Statement).toContainEqual({ Sid: "FeastRegistryHeadBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: BUCKET.bucketArn });
            const objectStatements = doc.Statement.filter((s) => (s.Action as string[]).includes?.("s3:GetObject"));
            for (const s of objectStatements) for (const r of s.Resource as string[]) expect(r).toMatch(/\/feast\/(registry|offline)\/fraud\/\*$/);
        }
    });

    it("the materialization job reads the offline data and writes only the registry (where it records its progress)", () => {
        const doc = materializerPolicy(BUCKET, "fraud");
        const write = doc.Statement.find((s) => (s.Action as string[]).includes("s3:PutObject"));
        expect(write?.Resource).toEqual(["arn:aws:s3:::acme-dev-artifacts/feast/registry/fraud/*"]);
        expect(JSON.stringify(doc.Statement.filter((s) => s !== write))).not.toMatch(/PutObject|DeleteObject/);
        expect(JSON.stringify(doc)).toContain("feast/offline/fraud/*");
    });

    it("a team's CI writes its project's registry and offline data, and no other project's", () => {
        const doc = featureApplyPolicy(BUCKET, "fraud");
        const objects = doc.Statement.find((s) => s.Sid === "ReadWriteObjects");
        expect(objects?.Resource).toEqual(["arn:aws:s3:::acme-dev-artifacts/feast/registry/fraud/*", "arn:aws:s3:::acme-dev-artifacts/feast/offline/fraud/*"]);
        expect(ciTrustPolicy(["arn:aws:iam::210987654321:role/fraud-ci"]).Statement).toEqual([
            { Sid: "TeamCiRoles", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::210987654321:role/fraud-ci"] }, Action: "sts:AssumeRole" },
        ]);
    });
});

describe("FeatureStore with the in-cluster Redis (dev)", async () => {
    const run = await runProgram(() => new FeatureStore("feature-store", args()));
    const objects = run.k8s().map((o) => o.object as any);
    const obj = (kind: string, name: string) => {
        const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
        expect(found, `${kind} ${name}`).toHaveLength(1);
        return found[0];
    };

    it("renders each team's feature_store.yaml into a ConfigMap, with no secret in it", () => {
        const cm = obj("ConfigMap", "feast-fraud");
        const doc = yaml.load(cm.data["feature_store.yaml"]) as any;
        expect(doc.registry.path).toBe("s3://acme-dev-artifacts/feast/registry/fraud/registry.db");
        expect(doc.online_store.connection_string).toBe("feast-redis.feast.svc.cluster.local:6379,password=${FEAST_REDIS_PASSWORD}");
        const password = reveal<any>(run.one("random:index/randomPassword:RandomPassword", "online-store-password").outputs).result;
        expect(password).toMatch(/^[A-Za-z0-9]{48}$/);
        expect(cm.data["feature_store.yaml"]).not.toContain(password);
    });

    it("runs a hardened feature server per team with the rendered arguments, the password from the Secret, probes, resources and a PDB", () => {
        const d = obj("Deployment", featureServerName("fraud"));
        const pod = d.spec.template.spec;
        const c = pod.containers[0];
        expect(c.command).toEqual(["feast"]);
        expect(c.args).toEqual(featureServeArgs({ workers: 2, registryTtlSeconds: 60 }));
        expect(c.env).toContainEqual({ name: REDIS_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: "feast-online-store", key: "password" } } });
        expect(c.securityContext).toMatchObject({
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        });
        expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(c.readinessProbe.httpGet).toEqual({ path: "/health", port: "http" });
        expect(c.livenessProbe.tcpSocket).toEqual({ port: "http" });
        expect(c.resources.limits).toMatchObject({ cpu: "1", memory: "1Gi" });
        expect(c.ports).toEqual([
            { name: "http", containerPort: FEATURE_SERVER_PORT, protocol: "TCP" },
            { name: "metrics", containerPort: FEATURE_SERVER_METRICS_PORT, protocol: "TCP" },
        ]);
        expect(c.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/feast", readOnly: true });
        expect(obj("PodDisruptionBudget", featureServerName("fraud")).spec.maxUnavailable).toBe(1);
        expect(featureServerUrl("feast", "fraud")).toBe("http://feature-server-fraud.feast.svc.cluster.local:6566");
    });

    it("is scraped by Prometheus through a ServiceMonitor on the metrics port", () => {
        const sm = obj("ServiceMonitor", featureServerName("fraud"));
        expect(sm.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }]);
        expect(sm.spec.selector.matchLabels).toEqual(obj("Service", featureServerName("fraud")).spec.selector);
    });

    it("materializes each project on a schedule, one run at a time, as the hardened feast user", () => {
        const cj = obj("CronJob", "feast-materialize-fraud");
        expect(cj.spec).toMatchObject({ schedule: "*/30 * * * *", concurrencyPolicy: "Forbid" });
        expect(cj.spec.jobTemplate.spec.backoffLimit).toBe(2);
        const pod = cj.spec.jobTemplate.spec.template.spec;
        expect(pod.serviceAccountName).toBe("feast-materialize-fraud");
        expect(pod.containers[0].command).toEqual(["sh", "-c", materializeScript()]);
        expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    });

    it("runs Redis with its configuration and password in a Secret (never argv), hardened, admitting only Feast pods", () => {
        const sts = obj("StatefulSet", "feast-redis");
        const c = sts.spec.template.spec.containers[0];
        expect(c.command).toEqual(["redis-server", "/etc/redis/redis.conf"]);
        expect(JSON.stringify(c.command)).not.toMatch(/requirepass|--pass/);
        expect(c.env).toEqual([{ name: "REDISCLI_AUTH", valueFrom: { secretKeyRef: { name: "feast-redis-config", key: "password" } } }]);
        expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        const secret = run.one("kubernetes:core/v1:Secret", "redis-config");
        expect(run.isSecretInput(secret, "stringData")).toBe(true);
        const np = obj("NetworkPolicy", "feast-redis");
        expect(np.spec.ingress).toEqual([
            { from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "feast" } } }], ports: [{ protocol: "TCP", port: REDIS_PORT }] },
        ]);
        expect(np.spec.egress).toEqual([]);
    });

    it("scopes each team's IRSA roles to its service accounts and prefixes, and gives only teams with CI roles an apply role", () => {
        const role = run.one("aws:iam/role:Role", "feast-server-fraud-role");
        const trust = policyOf(run.inputs(role).assumeRolePolicy);
        expect(Object.values(trust.Statement[0].Condition.StringEquals)).toContain("system:serviceaccount:feast:feature-server-fraud");
        const policy = policyOf(run.inputs(run.one("aws:iam/rolePolicy:RolePolicy", "feast-server-fraud-policy")).policy);
        expect(policy).toEqual(featureServerPolicy(BUCKET, "fraud"));
        expect(policyOf(run.inputs(run.one("aws:iam/rolePolicy:RolePolicy", "feast-apply-fraud-policy")).policy)).toEqual(featureApplyPolicy(BUCKET, "fraud"));
        expect(run.ofType("aws:iam/role:Role").map((r) => r.name)).not.toContain("feature-store-feast-apply-recsys-role");
    });

    it("admits only the team's serving namespace to its feature server, and lets that namespace reach it", () => {
        const ingress = obj("NetworkPolicy", "feature-server-fraud-ingress");
        expect(ingress.spec.ingress).toEqual([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ml-fraud" } } }],
                ports: [{ protocol: "TCP", port: FEATURE_SERVER_PORT }],
            },
        ]);
        const egress = objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === "ml-fraud");
        expect(egress.spec.egress[0].to[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "feast" });
        expect(egress.spec.egress[0].ports).toEqual([{ protocol: "TCP", port: FEATURE_SERVER_PORT }]);
        expect(obj("NetworkPolicy", "default-deny").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    });

    it("validates its arguments before registering anything, every problem at once", () => {
        const bad = args({
            namespace: "monitoring",
            projects: [
                { team: "fraud", servingNamespace: "ml-fraud", ciRoleArns: [] },
                { team: "fraud", servingNamespace: "ml-fraud", ciRoleArns: [] },
            ],
            server: { replicas: 0, workers: 1, resources: RESOURCES },
        });
        expect(() => validateFeatureStoreArgs(bad)).toThrow(/shared namespace.*listed twice.*server.replicas/);
    });
});

describe("FeatureStore with ElastiCache (prod)", async () => {
    const run = await runProgram(() => new FeatureStore("feature-store", args({ onlineStore: ELASTICACHE, protect: true })));

    it("is encrypted at rest and in transit, authenticated with a generated token, private, and protected", () => {
        const rg = run.one("aws:elasticache/replicationGroup:ReplicationGroup");
        const inputs = run.inputs(rg);
        expect(inputs).toMatchObject({
            atRestEncryptionEnabled: true,
            transitEncryptionEnabled: true,
            transitEncryptionMode: "required",
            automaticFailoverEnabled: true,
            multiAzEnabled: true,
            numCacheClusters: 2,
            port: REDIS_PORT,
        });
        expect(run.isSecretInput(rg, "authToken")).toBe(true);
        const password = run.one("random:index/randomPassword:RandomPassword", "online-store-password");
        expect(inputs.authToken).toBe(reveal<any>(password.outputs).result);
        expect(rg.options.protect).toBe(true);
        const ingress = run.inputs(run.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"));
        expect(ingress).toMatchObject({ fromPort: REDIS_PORT, toPort: REDIS_PORT, referencedSecurityGroupId: "sg-0123456789abcdef0" });
        expect(run.ofType("kubernetes:apps/v1:StatefulSet")).toHaveLength(0);
    });

    it("renders TLS into feature_store.yaml and lets the Feast pods reach the VPC on the Redis port only", () => {
        const cm = run
            .k8s()
            .map((o) => o.object as any)
            .find((o) => o.kind === "ConfigMap" && o.metadata.name === "feast-fraud");
        expect((yaml.load(cm.data["feature_store.yaml"]) as any).online_store.connection_string).toMatch(/:6379,ssl=true,password=\$\{FEAST_REDIS_PASSWORD\}$/);
        const np = run
            .k8s()
            .map((o) => o.object as any)
            .find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "allow-online-store-egress");
        expect(np.spec.egress).toEqual([{ to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ protocol: "TCP", port: REDIS_PORT }] }]);
    });
});

describe("featureStore stack configuration", () => {
    const raw = (stack: string) => configNamespace(readStackConfig(readProject(ROOT), stack).config, "mlops");
    const problems = (stack: string, featureStore: unknown): string[] => {
        try {
            parsePlatformConfig({ ...raw(stack), featureStore: JSON.stringify(featureStore) }, stack);
        } catch (e) {
            if (e instanceof ConfigError) return [...e.problems];
            throw e;
        }
        return [];
    };

    it("defaults to an in-cluster Redis in dev and ElastiCache in test and prod", () => {
        expect(parsePlatformConfig(raw("dev"), "dev").featureStore.onlineStore.kind).toBe("in-cluster");
        expect(parsePlatformConfig(raw("test"), "test").featureStore.onlineStore.kind).toBe("elasticache");
        const prod = parsePlatformConfig(raw("prod"), "prod").featureStore;
        expect(prod.onlineStore).toMatchObject({ kind: "elasticache", nodes: 2 });
        expect(prod.server.replicas).toBeGreaterThanOrEqual(2);
        expect(ENVIRONMENT_DEFAULTS.dev.featureStore?.version).toBe("0.67.0");
    });

    it("refuses an in-cluster store outside dev, one node or one server in prod, and a maxmemory at the limit, naming key and value", () => {
        expect(problems("test", { onlineStore: { kind: "in-cluster" } })).toEqual([
            'mlops:featureStore.onlineStore.kind: got "in-cluster"; expected elasticache in test (in-cluster is for dev only).',
        ]);
        expect(problems("prod", { onlineStore: { nodes: 1 }, server: { replicas: 1 } })).toEqual([
            "mlops:featureStore.onlineStore.nodes: got 1; expected at least 2 in prod (a replica in another zone to fail over to).",
            "mlops:featureStore.server.replicas: got 1; expected at least 2 in prod.",
        ]);
        expect(problems("dev", { onlineStore: { maxMemoryMiB: 512 } })).toEqual([
            'mlops:featureStore.onlineStore.maxMemoryMiB: got 512; expected below the memory limit "512Mi" (Redis needs room beyond its data).',
        ]);
        expect(problems("dev", { onlineStore: { kind: "memcached" } })[0]).toMatch(
            /^mlops:featureStore\.onlineStore\.kind: got "memcached"; expected one of in-cluster, elasticache/,
        );
    });
});
