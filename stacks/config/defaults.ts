/**
 * Defaults per environment: what a stack gets unless its Pulumi.<stack>.yaml says otherwise. dev small
 * and cheap, test like prod but smaller, prod highly available. Applied before validation (parse.ts).
 */
import type { Environment } from "../../components/contract";
import type { PlatformConfig } from "./schema";

/** A configuration with any key left out, at any depth (lists are replaced whole). */
export type DeepPartial<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

const MLFLOW_IMAGE = { version: "3.1.1" };

/** Team serving namespaces: dev small, prod sized for several replicated model servers per team. */
const SERVING_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig["serving"]>> = {
    dev: {
        quota: {
            cpu: "4",
            memory: "8Gi",
            limitsCpu: "8",
            limitsMemory: "16Gi",
            pods: 20,
            services: 10,
            persistentVolumeClaims: 0,
            ephemeralStorage: "16Gi",
            limitsEphemeralStorage: "64Gi",
            gpu: 0,
        },
        limitRange: {
            defaultCpuRequest: "100m",
            defaultMemoryRequest: "256Mi",
            defaultCpuLimit: "1",
            defaultMemoryLimit: "1Gi",
            maxCpu: "2",
            maxMemory: "4Gi",
            defaultEphemeralStorageRequest: "128Mi",
            defaultEphemeralStorageLimit: "1Gi",
            maxEphemeralStorage: "8Gi",
        },
    },
    test: {
        quota: {
            cpu: "8",
            memory: "16Gi",
            limitsCpu: "16",
            limitsMemory: "32Gi",
            pods: 40,
            services: 20,
            persistentVolumeClaims: 2,
            ephemeralStorage: "32Gi",
            limitsEphemeralStorage: "128Gi",
            gpu: 0,
        },
        limitRange: {
            defaultCpuRequest: "250m",
            defaultMemoryRequest: "512Mi",
            defaultCpuLimit: "2",
            defaultMemoryLimit: "2Gi",
            maxCpu: "4",
            maxMemory: "8Gi",
            defaultEphemeralStorageRequest: "128Mi",
            defaultEphemeralStorageLimit: "1Gi",
            maxEphemeralStorage: "16Gi",
        },
    },
    prod: {
        quota: {
            cpu: "32",
            memory: "64Gi",
            limitsCpu: "64",
            limitsMemory: "128Gi",
            pods: 150,
            services: 40,
            persistentVolumeClaims: 5,
            ephemeralStorage: "128Gi",
            limitsEphemeralStorage: "512Gi",
            gpu: 0,
        },
        limitRange: {
            defaultCpuRequest: "250m",
            defaultMemoryRequest: "512Mi",
            defaultCpuLimit: "2",
            defaultMemoryLimit: "2Gi",
            maxCpu: "8",
            maxMemory: "32Gi",
            defaultEphemeralStorageRequest: "128Mi",
            defaultEphemeralStorageLimit: "1Gi",
            maxEphemeralStorage: "32Gi",
        },
    },
};

/** Monitoring: dev one small replica and a week of data, prod replicated with 30 days on 200 GiB. */
const MONITORING_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig["monitoring"]>> = {
    dev: {
        prometheus: {
            replicas: 1,
            retentionDays: 7,
            storageGi: 20,
            resources: { cpuRequest: "200m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" },
        },
        alertmanager: { replicas: 1, storageGi: 1, resources: { cpuRequest: "10m", memoryRequest: "64Mi", cpuLimit: "100m", memoryLimit: "128Mi" } },
        grafana: { resources: { cpuRequest: "50m", memoryRequest: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" } },
        pushgateway: { persistence: false, storageGi: 1, resources: { cpuRequest: "10m", memoryRequest: "32Mi", cpuLimit: "100m", memoryLimit: "64Mi" } },
        slo: { latencyP95Seconds: 1, errorRatio: 0.05, inputValidationFailureRatio: 0.2, driftScore: 0.3, predictionShift: 0.3 },
        repeatIntervalHours: 24,
        driftCheckResources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
    },
    test: {
        prometheus: {
            replicas: 1,
            retentionDays: 15,
            storageGi: 50,
            resources: { cpuRequest: "500m", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "4Gi" },
        },
        alertmanager: { replicas: 2, storageGi: 2, resources: { cpuRequest: "20m", memoryRequest: "64Mi", cpuLimit: "200m", memoryLimit: "256Mi" } },
        grafana: { resources: { cpuRequest: "100m", memoryRequest: "256Mi", cpuLimit: "500m", memoryLimit: "512Mi" } },
        pushgateway: { persistence: true, storageGi: 1, resources: { cpuRequest: "10m", memoryRequest: "32Mi", cpuLimit: "200m", memoryLimit: "128Mi" } },
        slo: { latencyP95Seconds: 0.5, errorRatio: 0.02, inputValidationFailureRatio: 0.1, driftScore: 0.2, predictionShift: 0.25 },
        repeatIntervalHours: 12,
        driftCheckResources: { cpuRequest: "250m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" },
    },
    prod: {
        prometheus: { replicas: 2, retentionDays: 30, storageGi: 200, resources: { cpuRequest: "1", memoryRequest: "4Gi", cpuLimit: "4", memoryLimit: "8Gi" } },
        alertmanager: { replicas: 3, storageGi: 5, resources: { cpuRequest: "50m", memoryRequest: "128Mi", cpuLimit: "500m", memoryLimit: "256Mi" } },
        grafana: { resources: { cpuRequest: "100m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "1Gi" } },
        pushgateway: { persistence: true, storageGi: 2, resources: { cpuRequest: "20m", memoryRequest: "64Mi", cpuLimit: "200m", memoryLimit: "128Mi" } },
        slo: { latencyP95Seconds: 0.3, errorRatio: 0.01, inputValidationFailureRatio: 0.05, driftScore: 0.2, predictionShift: 0.2 },
        repeatIntervalHours: 4,
        driftCheckResources: { cpuRequest: "500m", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "4Gi" },
    },
};

/** Feature store: dev an in-cluster Redis, test and prod ElastiCache (prod across zones, protected). */
const FEATURE_STORE_COMMON = { enabled: true, version: "0.67.0", registryCacheTtlSeconds: 60, onlineKeyTtlDays: 30 };
const REDIS_IN_CLUSTER = {
    image: "docker.io/library/redis:7.2.5",
    storageGiB: 5,
    maxMemoryMiB: 384,
    resources: { cpuRequest: "50m", memoryRequest: "256Mi", cpuLimit: "500m", memoryLimit: "512Mi" },
};
const FEATURE_STORE_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig["featureStore"]>> = {
    dev: {
        ...FEATURE_STORE_COMMON,
        server: { replicas: 1, workers: 1, resources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" } },
        materialize: { schedule: "*/30 * * * *", resources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "2Gi" } },
        onlineStore: { kind: "in-cluster", ...REDIS_IN_CLUSTER, nodeType: "cache.t4g.micro", engineVersion: "7.1", nodes: 1, snapshotRetentionDays: 0 },
    },
    test: {
        ...FEATURE_STORE_COMMON,
        server: { replicas: 2, workers: 2, resources: { cpuRequest: "250m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" } },
        materialize: { schedule: "*/30 * * * *", resources: { cpuRequest: "250m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "4Gi" } },
        onlineStore: { kind: "elasticache", ...REDIS_IN_CLUSTER, nodeType: "cache.t4g.small", engineVersion: "7.1", nodes: 1, snapshotRetentionDays: 1 },
    },
    prod: {
        ...FEATURE_STORE_COMMON,
        server: { replicas: 3, workers: 2, resources: { cpuRequest: "500m", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "2Gi" } },
        materialize: { schedule: "*/15 * * * *", resources: { cpuRequest: "500m", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "8Gi" } },
        onlineStore: { kind: "elasticache", ...REDIS_IN_CLUSTER, nodeType: "cache.m7g.large", engineVersion: "7.1", nodes: 2, snapshotRetentionDays: 7 },
    },
};

/** TensorBoard per team: the same everywhere but for its size. */
const TENSORBOARD_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig["tensorboard"]>> = {
    dev: {
        enabled: true,
        replicas: 1,
        reloadIntervalSeconds: 60,
        resources: { cpuRequest: "50m", memoryRequest: "256Mi", cpuLimit: "500m", memoryLimit: "1Gi" },
    },
    test: {
        enabled: true,
        replicas: 1,
        reloadIntervalSeconds: 60,
        resources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "2Gi" },
    },
    prod: {
        enabled: true,
        replicas: 2,
        reloadIntervalSeconds: 120,
        resources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "2Gi" },
    },
};

/** Defaults per environment: dev small and cheap, test like prod but smaller, prod highly available. */
export const ENVIRONMENT_DEFAULTS: Record<Environment, DeepPartial<PlatformConfig>> = {
    dev: {
        artifactStore: { noncurrentVersionExpirationDays: 7, abortIncompleteUploadDays: 1 },
        serving: SERVING_DEFAULTS.dev,
        monitoring: MONITORING_DEFAULTS.dev,
        featureStore: FEATURE_STORE_DEFAULTS.dev,
        tensorboard: TENSORBOARD_DEFAULTS.dev,
        mlflow: {
            ...MLFLOW_IMAGE,
            replicas: 1,
            resources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
            artifactPrefix: "mlflow",
            auth: false,
            gcSchedule: "0 3 * * *",
            gcOlderThanDays: 7,
            database: {
                kind: "in-cluster",
                instanceClass: "db.t4g.micro",
                storageGiB: 10,
                engineVersion: "16.4",
                backupRetentionDays: 1,
                multiAz: false,
                deletionProtection: false,
            },
        },
    },
    test: {
        artifactStore: { noncurrentVersionExpirationDays: 30, abortIncompleteUploadDays: 3 },
        serving: SERVING_DEFAULTS.test,
        monitoring: MONITORING_DEFAULTS.test,
        featureStore: FEATURE_STORE_DEFAULTS.test,
        tensorboard: TENSORBOARD_DEFAULTS.test,
        mlflow: {
            ...MLFLOW_IMAGE,
            replicas: 2,
            resources: { cpuRequest: "250m", memoryRequest: "1Gi", cpuLimit: "1", memoryLimit: "2Gi" },
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
        },
    },
    prod: {
        artifactStore: { noncurrentVersionExpirationDays: 365, abortIncompleteUploadDays: 7 },
        serving: SERVING_DEFAULTS.prod,
        monitoring: MONITORING_DEFAULTS.prod,
        featureStore: FEATURE_STORE_DEFAULTS.prod,
        tensorboard: TENSORBOARD_DEFAULTS.prod,
        mlflow: {
            ...MLFLOW_IMAGE,
            replicas: 3,
            resources: { cpuRequest: "500m", memoryRequest: "2Gi", cpuLimit: "2", memoryLimit: "4Gi" },
            artifactPrefix: "mlflow",
            auth: true,
            gcSchedule: "0 3 * * 0",
            gcOlderThanDays: 90,
            database: {
                kind: "rds",
                instanceClass: "db.m7g.large",
                storageGiB: 200,
                engineVersion: "16.4",
                backupRetentionDays: 30,
                multiAz: true,
                deletionProtection: true,
            },
        },
    },
};
