/**
 * Label, annotation and tag keys: what components write on the objects they create and what the policy
 * packs read back. The organisation's own keys live in `mlops.<domain>/<suffix>`, where `<domain>` is the
 * stack's `mlops:labelDomain` (`acme.io`).
 */

/** Start of every organisation key: `mlops.<domain>/`. */
export const ORG_KEY_PREFIX = "mlops.";

/** The key `mlops.<domain>/<suffix>`. */
export function orgKey(labelDomain: string, suffix: string): string {
    return `${ORG_KEY_PREFIX}${labelDomain}/${suffix}`;
}

/** Suffixes of the organisation's label keys (values are label-safe, see `labelValue` in naming.ts). */
export const ORG_LABELS = {
    /** Team that owns the object. */
    team: "team",
    /** The platform owner, or the owning team for a team's objects. */
    owner: "owner",
    /** dev, test or prod. */
    environment: "environment",
    costCentre: "cost-centre",
    /** The registered model a workload runs: what makes it a model workload for the policies. */
    model: "model",
    /** The registered version number a model workload runs. */
    modelVersion: "model-version",
    /** The registry alias the version was resolved from. */
    stage: "stage",
    /** The approval record of a production model (also as annotations, with the exact values). */
    approvedBy: "approved-by",
    approvalTicket: "approval-ticket",
    approvalDate: "approval-date",
    /** Marks a team's serving namespace (admitted to the Pushgateway). */
    serving: "serving",
    /** Marks pods and namespaces admitted to the MLflow tracking server. */
    mlflowAccess: "mlflow-access",
    /** Which rollout track a model server is: `stable` (takes the route's remaining traffic), `canary` (a weighted share) or `shadow` (mirrored copies, answers discarded). */
    track: "track",
} as const;

/** Suffixes of the organisation's annotation keys (values need not be label-safe). */
export const ORG_ANNOTATIONS = {
    /** People or groups accountable, comma-separated. */
    owners: "owners",
    /** The exact `models:/` URI a workload runs. */
    modelUri: "model-uri",
    /** The version to roll back to. */
    previousVersion: "previous-version",
    /** SHA-256 of a model server's input schema (rolls the pods when it changes). */
    inputSchemaSha256: "input-schema-sha256",
    /** SHA-256 of a model server's runtime configuration files (rolls the pods when they change). */
    runtimeConfigSha256: "runtime-config-sha256",
    /** The RBAC group of a serving namespace's deployers. */
    deployGroup: "deploy-group",
    /** The teams an MLflow team-access object covers, and the checksum of their passwords. */
    teams: "teams",
    passwordsChecksum: "passwords-checksum",
    /** The policy-pack policy an admission rule (ValidatingAdmissionPolicy) is generated from. */
    policy: "policy",
} as const;

/** Keys every Kubernetes object and pod template carries (suffixes of {@link ORG_LABELS}): who owns it. */
export const OWNERSHIP_LABELS = [ORG_LABELS.team, ORG_LABELS.owner] as const;

/** The organisation's label keys of one domain. */
export function labelKeys(labelDomain: string) {
    const k = (suffix: string) => orgKey(labelDomain, suffix);
    return {
        team: k(ORG_LABELS.team),
        owner: k(ORG_LABELS.owner),
        environment: k(ORG_LABELS.environment),
        costCentre: k(ORG_LABELS.costCentre),
        model: k(ORG_LABELS.model),
        modelVersion: k(ORG_LABELS.modelVersion),
        stage: k(ORG_LABELS.stage),
        approvedBy: k(ORG_LABELS.approvedBy),
        approvalTicket: k(ORG_LABELS.approvalTicket),
        approvalDate: k(ORG_LABELS.approvalDate),
    } as const;
}

/** AWS tag keys of the ownership metadata every taggable AWS resource carries (through the provider's `defaultTags`). */
export const AWS_TAGS = {
    owner: "owner",
    environment: "environment",
    costCentre: "cost-centre",
    managedBy: "managed-by",
    platform: "platform",
} as const;

/** The AWS tags every taggable resource must carry to be attributed: who owns it, which environment, which budget. */
export const OWNERSHIP_TAGS = [AWS_TAGS.owner, AWS_TAGS.environment, AWS_TAGS.costCentre] as const;
