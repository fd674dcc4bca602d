/**
 * What the feature store's pods run, as pure functions: a project's `feature_store.yaml` (registry on the
 * artifact store, Redis online store, file offline store), the `feast serve` and `feast
 * materialize-incremental` argument lists, and the IAM policies of the feature server, the
 * materialization job and a team's CI. components/platform/featureStore.ts renders them into Kubernetes objects;
 * e2e/featureStore.e2e.test.ts runs real Feast with what the plan holds.
 */
import { type BucketAccess, mergePolicies, type PolicyDocument, s3ReadPolicy, s3ReadWritePolicy } from "./iam";
import { FEATURE_SERVER_PORT, featureOfflinePrefix, featureRegistryKey, featureRegistryPrefix } from "../contract";
import { portableYaml } from "../shared/yaml";

/**
 * Environment variable holding the Redis password (dev) or ElastiCache auth token (test, prod). Feast
 * expands `${VAR}` in feature_store.yaml when it loads it (`os.path.expandvars`), so the rendered file
 * (a ConfigMap) holds no secret; the pods take the variable from a Secret.
 */
export const REDIS_PASSWORD_ENV = "FEAST_REDIS_PASSWORD";

/** What a project's feature_store.yaml names. */
export interface FeatureStoreYamlSettings {
    /** Feast project: the team's name. */
    readonly project: string;
    /** The artifact bucket: registry at `s3://<bucket>/feast/registry/<project>/registry.db`. */
    readonly bucket: string;
    /** Host of the online store (a Service name in dev, the ElastiCache primary endpoint in test and prod). */
    readonly redisHost: string;
    /** Its port. */
    readonly redisPort: number;
    /** TLS to the online store (ElastiCache in-transit encryption); off for the in-cluster Redis of dev. */
    readonly redisTls: boolean;
    /** Seconds a process keeps the registry before reading it again from S3. */
    readonly registryCacheTtlSeconds: number;
    /**
     * Seconds an entity's online values live in Redis after their last write. Feature views a team
     * removes leave their keys behind (the platform does not let `feast apply` scan Redis: CI cannot reach
     * it); this TTL bounds how long.
     */
    readonly onlineKeyTtlSeconds: number;
}

/** Values of the online store's connection string must not hold its separators. */
const CONNECTION_VALUE = /^[A-Za-z0-9.-]+$/;

/**
 * Feast's Redis connection string: `host:port,ssl=true,password=${FEAST_REDIS_PASSWORD}`. The password
 * is the environment reference, expanded by Feast when it reads the file.
 */
export function redisConnectionString(host: string, port: number, tls: boolean): string {
    if (!CONNECTION_VALUE.test(host)) throw new Error(`Redis host "${host}" must be a host name or address`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Redis port ${port} must be from 1 to 65535`);
    return [`${host}:${port}`, ...(tls ? ["ssl=true"] : []), `password=\${${REDIS_PASSWORD_ENV}}`].join(",");
}

/** A project's feature_store.yaml: the registry and offline data on the artifact store, Redis online. */
export function featureStoreYaml(s: FeatureStoreYamlSettings): string {
    if (!/^[a-z][a-z0-9-]*$/.test(s.project)) throw new Error(`Feast project "${s.project}" must be lower-case letters, digits and -`);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s.bucket)) throw new Error(`bucket "${s.bucket}" must be an S3 bucket name`);
    for (const [key, value] of [
        ["registryCacheTtlSeconds", s.registryCacheTtlSeconds],
        ["onlineKeyTtlSeconds", s.onlineKeyTtlSeconds],
    ] as const) {
        if (!Number.isInteger(value) || value < 1) throw new Error(`${key} must be a positive integer, got ${value}`);
    }
    return portableYaml({
        project: s.project,
        provider: "local",
        registry: {
            registry_type: "file",
            path: `s3://${s.bucket}/${featureRegistryKey(s.project)}`,
            cache_ttl_seconds: s.registryCacheTtlSeconds,
        },
        online_store: {
            type: "redis",
            redis_type: "redis",
            connection_string: redisConnectionString(s.redisHost, s.redisPort, s.redisTls),
            key_ttl_seconds: s.onlineKeyTtlSeconds,
            // `feast apply` runs in the team's CI, which cannot reach the online store: it must not scan it.
            full_scan_for_deletion: false,
        },
        // The file (dask) offline store: the project's FileSources are Parquet under feast/offline/<project>/.
        offline_store: { type: "file" },
        entity_key_serialization_version: 3,
    });
}

/** Directory the feature_store.yaml ConfigMap is mounted at; `feast -c <dir>` runs there. */
export const FEATURE_REPO_DIR = "/etc/feast";

/** Arguments of the feature server: `feast -c /etc/feast serve` on all interfaces, with Prometheus metrics. */
export function featureServeArgs(o: { workers: number; registryTtlSeconds: number }): string[] {
    if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 16) throw new Error(`workers must be an integer from 1 to 16, got ${o.workers}`);
    return [
        "-c",
        FEATURE_REPO_DIR,
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        String(FEATURE_SERVER_PORT),
        "--workers",
        String(o.workers),
        "--registry_ttl_sec",
        String(o.registryTtlSeconds),
        "--metrics",
    ];
}

/**
 * The materialization job's shell script: `feast materialize-incremental` up to now (UTC), from the
 * project's offline data into the online store. `date` gives the end timestamp Feast wants (ISO 8601).
 */
export function materializeScript(): string {
    return `exec feast -c ${FEATURE_REPO_DIR} materialize-incremental "$(date -u +%Y-%m-%dT%H:%M:%S)"`;
}

/**
 * Feast's S3 registry checks the bucket with HeadBucket before every read, which IAM authorizes as
 * `s3:ListBucket` on the bucket without an `s3:prefix` (so the prefix-conditioned list statement does not
 * cover it: e2e/featureStore.e2e.test.ts saw the 403). Every Feast role gets it: it reveals key names of
 * the bucket, never an object's content (GetObject stays limited to the project's prefixes).
 */
export function registryBucketCheck(bucket: Omit<BucketAccess, "prefixes">): PolicyDocument {
    return { Version: "2012-10-17", Statement: [{ Sid: "FeastRegistryHeadBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: bucket.bucketArn }] };
}

/** Policy of a project's feature server: read its registry, nothing else (online reads go to Redis). */
export function featureServerPolicy(bucket: Omit<BucketAccess, "prefixes">, project: string): PolicyDocument {
    return mergePolicies(s3ReadPolicy({ ...bucket, prefixes: [featureRegistryPrefix(project)] }), registryBucketCheck(bucket));
}

/**
 * Policy of a project's materialization job: read its offline data, and read-write its registry
 * (`materialize-incremental` records the interval it loaded in the registry, where the next run starts).
 */
export function materializerPolicy(bucket: Omit<BucketAccess, "prefixes">, project: string): PolicyDocument {
    return mergePolicies(
        s3ReadWritePolicy({ ...bucket, prefixes: [featureRegistryPrefix(project)] }),
        s3ReadPolicy({ ...bucket, prefixes: [featureOfflinePrefix(project)] }),
        registryBucketCheck(bucket),
    );
}

/**
 * Policy of a team's CI role: `feast apply` writes the project's registry and reads the Parquet schemas
 * of its FileSources; the team's pipelines write its offline data. Another project's prefixes stay out of reach.
 */
export function featureApplyPolicy(bucket: Omit<BucketAccess, "prefixes">, project: string): PolicyDocument {
    return mergePolicies(
        s3ReadWritePolicy({ ...bucket, prefixes: [featureRegistryPrefix(project), featureOfflinePrefix(project)] }),
        registryBucketCheck(bucket),
    );
}
