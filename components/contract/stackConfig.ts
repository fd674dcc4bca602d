/**
 * The stack configuration keys the policy packs read besides the components: the packs learn a stack's
 * environment and label domain from its config (`PULUMI_CONFIG`) when the stack name does not say.
 */

/** The platform's configuration namespace (its Pulumi project name): keys are `mlops:<key>`. */
export const CONFIG_NAMESPACE = "mlops";

/** Keys (without namespace) a team project shares with the platform: `<project>:<key>` works too. */
export const SHARED_CONFIG_KEYS = {
    /** dev, test or prod. */
    environment: "environment",
    /** DNS domain of the organisation's label keys (`acme.io`). */
    labelDomain: "labelDomain",
} as const;
