/**
 * Explicit AWS and Kubernetes providers built from the stack configuration. Nothing in the platform uses
 * a default provider, an ambient kubeconfig or an AWS profile: the provider settings are data here,
 * tested on their own, and every component receives the providers through its resource options.
 */
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PlatformConfig } from "../../stacks/config/schema";
import { kubeconfigFor } from "../team/kubeconfig";
import { awsDefaultTags } from "./awsNames";

/** Provider settings for the stack's account and region, with the platform's default tags. */
export function awsProviderArgs(cfg: PlatformConfig): aws.ProviderArgs {
    return {
        region: cfg.aws.region as aws.Region,
        allowedAccountIds: [cfg.aws.accountId],
        ...(cfg.aws.deployRoleArn ? { assumeRoles: [{ roleArn: cfg.aws.deployRoleArn, sessionName: `pulumi-mlops-${cfg.environment}` }] } : {}),
        defaultTags: { tags: awsDefaultTags(cfg) },
        // Never read ~/.aws/config profiles or shared credentials implicitly.
        skipCredentialsValidation: false,
        skipRegionValidation: false,
    };
}

/** Settings of the Kubernetes provider: the generated kubeconfig, server-side apply, no ambient context. */
export function kubernetesProviderArgs(cfg: PlatformConfig): k8s.ProviderArgs {
    return {
        kubeconfig: kubeconfigFor(cfg),
        enableServerSideApply: true,
        deleteUnreachable: false,
    };
}

export interface PlatformProviders {
    readonly aws: aws.Provider;
    readonly kubernetes: k8s.Provider;
    /** For generated passwords and ids. */
    readonly random: random.Provider;
    /** The providers every component gets (AWS, Kubernetes, random). */
    readonly all: readonly pulumi.ProviderResource[];
    /** Docker, for image builds: created on first use, so a stack that builds nothing needs no daemon. */
    docker(): docker.Provider;
}

/** Creates the stack's explicit providers. */
export function createProviders(cfg: PlatformConfig, opts?: pulumi.CustomResourceOptions): PlatformProviders {
    const awsProvider = new aws.Provider(`aws-${cfg.environment}`, awsProviderArgs(cfg), opts);
    const kubernetes = new k8s.Provider(`k8s-${cfg.environment}`, kubernetesProviderArgs(cfg), opts);
    const randomProvider = new random.Provider(`random-${cfg.environment}`, {}, opts);
    let dockerProvider: docker.Provider | undefined;
    return {
        aws: awsProvider,
        kubernetes,
        random: randomProvider,
        all: [awsProvider, kubernetes, randomProvider],
        docker: () => (dockerProvider ??= new docker.Provider(`docker-${cfg.environment}`, {}, opts)),
    };
}
