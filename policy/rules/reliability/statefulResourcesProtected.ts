import { defineResourcePolicy, skip } from "../../framework/define";

export const DEFAULT_STATEFUL_TYPES = [
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:ecr/repository:Repository",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:apps/v1:StatefulSet",
];

/** Stateful resources are protected from deletion by `pulumi up`/`destroy` (prod by default). */
export const statefulResourcesProtected = defineResourcePolicy<{ types: string[] }>({
    meta: {
        name: "stateful-resources-protected",
        pack: "mlops-reliability",
        title: "Stateful resources are protected",
        description:
            "Every resource of a stateful type (buckets, KMS keys, databases, registries, namespaces, volumes; configurable) is registered with the `protect` resource option.",
        rationale:
            "A refactoring that renames a resource, or a `pulumi destroy` on the wrong stack, otherwise deletes artifacts, keys or the model registry database; protect makes the engine refuse.",
        severity: "high",
        remediation:
            "Pass `protect: true` (and `retainOnDelete: true`) for stateful resources in prod, as ArtifactStore, RdsPostgres and ContainerImage do with their `protect` argument; keep URNs stable with aliases.",
        controls: [
            { framework: "NIST-800-53", control: "CM-5" },
            { framework: "NIST-800-53", control: "CP-9" },
            { framework: "SOC2", control: "A1.2" },
        ],
        topics: ["data-loss", "pulumi"],
        protectsData: false,
        appliesTo: DEFAULT_STATEFUL_TYPES,
        limitations: "@pulumi/policy 1.21 passes `protect` but not `retainOnDelete`, so only protect is checked.",
    },
    config: {
        types: { type: "array", items: { type: "string" }, default: DEFAULT_STATEFUL_TYPES, description: "Resource types that hold state." },
    },
    environments: ["prod"],
    types: (type) => type.startsWith("aws:") || type.startsWith("kubernetes:"),
    check: ({ type, opts }, config) => {
        if (!config.types.includes(type)) skip(`${type} is not a stateful type`);
        return opts.protect === true ? [] : [`${type} holds state but is not protected: register it with protect: true.`];
    },
});
