/**
 * Rules of the stack configuration that span keys, which one field's schema cannot express (accounts
 * and regions agree, prod is highly available, teams are unique, quotas and limits are ordered,
 * receivers exist), and the effective per-team settings (quota, SLOs) they and the stack use.
 */
import { CONFIG_NAMESPACE } from "../../components/contract";
import { quantityValue } from "../../components/shared/resources";
import { show, suggestKey } from "./messages";
import type { PlatformConfig, QuotaSettings, SloSettings, TeamConfig } from "./schema";

/** Rules that span keys, which one field's schema cannot express. */
export function crossFieldProblems(cfg: PlatformConfig): string[] {
    const problems: string[] = [];
    const db = cfg.mlflow.database;
    const arnAccount = (arn: string) => arn.split(":")[4];
    if (arnAccount(cfg.cluster.oidcProviderArn) !== cfg.aws.accountId) {
        problems.push(
            `${CONFIG_NAMESPACE}:cluster.oidcProviderArn: got ${show(cfg.cluster.oidcProviderArn)}; expected an OIDC provider in account ${cfg.aws.accountId} (mlops:aws.accountId).`,
        );
    }
    if (!cfg.cluster.oidcProviderArn.includes(`oidc.eks.${cfg.aws.region}.`)) {
        problems.push(
            `${CONFIG_NAMESPACE}:cluster.oidcProviderArn: got ${show(cfg.cluster.oidcProviderArn)}; expected an OIDC provider of region ${cfg.aws.region} (mlops:aws.region).`,
        );
    }
    if (cfg.environment !== "dev" && db.kind !== "rds") {
        problems.push(`${CONFIG_NAMESPACE}:mlflow.database.kind: got ${show(db.kind)}; expected rds in ${cfg.environment} (in-cluster is for dev only).`);
    }
    if (cfg.environment === "prod") {
        for (const [key, value] of [
            ["multiAz", db.multiAz],
            ["deletionProtection", db.deletionProtection],
            ["auth", cfg.mlflow.auth],
        ] as const) {
            if (value !== true) {
                const path = key === "auth" ? "mlflow.auth" : `mlflow.database.${key}`;
                problems.push(`${CONFIG_NAMESPACE}:${path}: got ${show(value)}; expected true in prod.`);
            }
        }
        if (cfg.mlflow.replicas < 2) {
            problems.push(`${CONFIG_NAMESPACE}:mlflow.replicas: got ${cfg.mlflow.replicas}; expected at least 2 in prod.`);
        }
    }
    if (cfg.environment !== "dev" && cfg.mlflow.image !== undefined && !cfg.mlflow.image.includes("@sha256:")) {
        problems.push(
            `${CONFIG_NAMESPACE}:mlflow.image: got ${show(cfg.mlflow.image)}; expected an image pinned by digest (repo@sha256:...) in ${cfg.environment}.`,
        );
    }
    if (cfg.environment === "test" && !cfg.mlflow.auth) {
        problems.push(`${CONFIG_NAMESPACE}:mlflow.auth: got false; expected true in test.`);
    }
    problems.push(...featureStoreProblems(cfg));
    problems.push(...teamAndMonitoringProblems(cfg));
    return problems;
}

/** A team's effective namespace quota: the environment's, with the team's overrides. */
export function teamQuota(cfg: Pick<PlatformConfig, "serving">, team: Pick<TeamConfig, "quota">): QuotaSettings {
    return { ...cfg.serving.quota, ...(team.quota ?? {}) };
}

/** A team's effective SLOs: the environment's, with the team's overrides. */
export function teamSlo(cfg: Pick<PlatformConfig, "monitoring">, team: Pick<TeamConfig, "slo">): SloSettings {
    return { ...cfg.monitoring.slo, ...(team.slo ?? {}) };
}

/** The teams that exist in the stack's environment. */
export function teamsIn(cfg: Pick<PlatformConfig, "teams" | "environment">): TeamConfig[] {
    return cfg.teams.filter((t) => t.environments.includes(cfg.environment));
}

/** Kinds of Alertmanager receiver secrets, by the suffix of their key in mlops:alertmanagerCredentials. */
export const CREDENTIAL_SUFFIXES = { slack: "-slack-webhook-url", pagerduty: "-pagerduty-routing-key" } as const;

/** Rules about teams, quotas, receivers and the drift-check image. */
function teamAndMonitoringProblems(cfg: PlatformConfig): string[] {
    const problems: string[] = [];
    const key = (path: string) => `${CONFIG_NAMESPACE}:${path}`;
    const seen = new Set<string>();
    cfg.teams.forEach((team, i) => {
        const at = `teams[${i}]`;
        // Teams are named by their name, not only by their position in the list.
        const tkey = (field: string): string => `${key(`${at}.${field}`)} (team ${JSON.stringify(team.name)})`;
        if (seen.has(team.name)) problems.push(`${tkey(`name`)}: got ${show(team.name)}; expected a name no other team has.`);
        seen.add(team.name);
        if (team.name === cfg.owner || team.name === "null") {
            problems.push(
                `${tkey(`name`)}: got ${show(team.name)}; expected a name other than the platform owner (mlops:owner) and "null" (both are Alertmanager receivers).`,
            );
        }
        if (/^system:/i.test(team.deployGroup)) {
            problems.push(`${tkey(`deployGroup`)}: got ${show(team.deployGroup)}; expected a group of the organisation, not a Kubernetes system: group.`);
        }
        team.deployRoleArns.forEach((arn, j) => {
            // EKS allows one access entry per principal: a role shared by two teams would be two entries.
            const other = cfg.teams.findIndex((t, k) => k < i && t.deployRoleArns.includes(arn));
            const earlier = team.deployRoleArns.indexOf(arn) < j;
            if (other >= 0 || earlier) {
                problems.push(
                    `${tkey(`deployRoleArns[${j}]`)}: got ${show(arn)}; expected a role no other entry maps (${earlier ? "listed twice" : `teams[${other}] (team ${JSON.stringify(cfg.teams[other]?.name)}) maps it`}): EKS keeps one access entry per principal.`,
                );
            }
        });
        const quota = teamQuota(cfg, team);
        for (const [limit, request] of [
            ["limitsCpu", "cpu"],
            ["limitsMemory", "memory"],
            ["limitsEphemeralStorage", "ephemeralStorage"],
        ] as const) {
            if (quantityValue(quota[limit]) < quantityValue(quota[request])) {
                problems.push(
                    `${tkey(`quota.${limit}`)}: got ${show(quota[limit])}; expected at least the requests quota ${show(quota[request])} (${request}).`,
                );
            }
        }
        const models = new Set<string>();
        team.driftChecks.forEach((check, j) => {
            if (models.has(check.model)) problems.push(`${tkey(`driftChecks[${j}].model`)}: got ${show(check.model)}; expected one drift check per model.`);
            models.add(check.model);
        });
    });
    const lr = cfg.serving.limitRange;
    for (const [low, high] of [
        ["defaultCpuRequest", "defaultCpuLimit"],
        ["defaultCpuLimit", "maxCpu"],
        ["defaultMemoryRequest", "defaultMemoryLimit"],
        ["defaultMemoryLimit", "maxMemory"],
        ["defaultEphemeralStorageRequest", "defaultEphemeralStorageLimit"],
        ["defaultEphemeralStorageLimit", "maxEphemeralStorage"],
    ] as const) {
        if (quantityValue(lr[low]) > quantityValue(lr[high])) {
            problems.push(`${key(`serving.limitRange.${low}`)}: got ${show(lr[low])}; expected at most ${high} (${show(lr[high])}).`);
        }
    }
    for (const [path, image] of [
        ["monitoring.driftCheckImage", cfg.monitoring.driftCheckImage],
        ["serving.modelFetchImage", cfg.serving.modelFetchImage],
    ] as const) {
        if (cfg.environment !== "dev" && image !== undefined && !image.includes("@sha256:")) {
            problems.push(`${key(path)}: got ${show(image)}; expected an image pinned by digest (repo@sha256:...) in ${cfg.environment}.`);
        }
    }
    const receivers = [cfg.owner, ...cfg.teams.map((t) => t.name)];
    const allowed = receivers.flatMap((r) => Object.values(CREDENTIAL_SUFFIXES).map((s) => `${r}${s}`));
    for (const name of Object.keys(cfg.alertmanagerCredentials ?? {})) {
        // Only the key is shown: the values are secrets.
        if (!allowed.includes(name)) {
            const suggestion = suggestKey(name, allowed);
            problems.push(
                `${key(`alertmanagerCredentials.${name}`)}: unknown credential` +
                    (suggestion ? `; did you mean "${suggestion}"?` : ".") +
                    ` Expected <receiver>${CREDENTIAL_SUFFIXES.slack} or <receiver>${CREDENTIAL_SUFFIXES.pagerduty}, where the receiver is ${receivers.join(", ")}.`,
            );
        }
    }
    return problems;
}

/** Rules of the feature store that span keys. */
function featureStoreProblems(cfg: PlatformConfig): string[] {
    const problems: string[] = [];
    const fs = cfg.featureStore;
    const key = (path: string) => `${CONFIG_NAMESPACE}:featureStore.${path}`;
    if (cfg.environment !== "dev" && fs.onlineStore.kind !== "elasticache") {
        problems.push(`${key("onlineStore.kind")}: got ${show(fs.onlineStore.kind)}; expected elasticache in ${cfg.environment} (in-cluster is for dev only).`);
    }
    if (cfg.environment === "prod" && fs.onlineStore.kind === "elasticache" && fs.onlineStore.nodes < 2) {
        problems.push(`${key("onlineStore.nodes")}: got ${fs.onlineStore.nodes}; expected at least 2 in prod (a replica in another zone to fail over to).`);
    }
    if (cfg.environment === "prod" && fs.server.replicas < 2) {
        problems.push(`${key("server.replicas")}: got ${fs.server.replicas}; expected at least 2 in prod.`);
    }
    if (fs.onlineStore.kind === "in-cluster" && fs.onlineStore.maxMemoryMiB * 1024 ** 2 >= quantityValue(fs.onlineStore.resources.memoryLimit)) {
        problems.push(
            `${key("onlineStore.maxMemoryMiB")}: got ${fs.onlineStore.maxMemoryMiB}; expected below the memory limit ${show(fs.onlineStore.resources.memoryLimit)} (Redis needs room beyond its data).`,
        );
    }
    const tb = cfg.tensorboard.image;
    if (cfg.environment !== "dev" && tb !== undefined && !tb.includes("@sha256:")) {
        problems.push(`${CONFIG_NAMESPACE}:tensorboard.image: got ${show(tb)}; expected an image pinned by digest (repo@sha256:...) in ${cfg.environment}.`);
    }
    if (cfg.environment !== "dev" && fs.image !== undefined && !fs.image.includes("@sha256:")) {
        problems.push(`${key("image")}: got ${show(fs.image)}; expected an image pinned by digest (repo@sha256:...) in ${cfg.environment}.`);
    }
    return problems;
}
