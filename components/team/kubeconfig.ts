/**
 * The kubeconfig of the platform's EKS cluster, for the Kubernetes provider of the platform stack and of
 * a team stack (which reads the same fields from the platform's outputs).
 */

/** What a kubeconfig needs: the platform's config, or the same fields from its stack outputs (team stacks). */
export interface KubeconfigSettings {
    readonly environment: string;
    readonly aws: { readonly region: string; readonly deployRoleArn?: string | undefined };
    readonly cluster: { readonly name: string; readonly endpoint: string; readonly certificateAuthorityData: string };
}

/**
 * A kubeconfig for the existing EKS cluster that authenticates with `aws eks get-token`, assuming the
 * deploy role when one is configured. It holds no credentials, so it is not a secret.
 */
export function kubeconfigFor(cfg: KubeconfigSettings): string {
    const args = ["eks", "get-token", "--cluster-name", cfg.cluster.name, "--region", cfg.aws.region, "--output", "json"];
    if (cfg.aws.deployRoleArn) args.push("--role-arn", cfg.aws.deployRoleArn);
    const context = `${cfg.cluster.name}-${cfg.environment}`;
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: cfg.cluster.name,
                cluster: { server: cfg.cluster.endpoint, "certificate-authority-data": cfg.cluster.certificateAuthorityData },
            },
        ],
        users: [
            {
                name: context,
                user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args, interactiveMode: "Never" } },
            },
        ],
        contexts: [{ name: context, context: { cluster: cfg.cluster.name, user: context } }],
        "current-context": context,
    });
}
