/**
 * Composes the platform for one environment from its validated configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import { ArtifactStore } from "../components/artifactStore";
import type { PlatformConfig } from "../components/config";
import { artifactBucketName } from "../components/naming";
import { createProviders, type PlatformProviders } from "../components/providers";

export interface Platform {
    readonly providers: PlatformProviders;
    readonly artifactStore: ArtifactStore;
}

/** Creates every component of the platform for `cfg.environment`. */
export function createPlatform(cfg: PlatformConfig): Platform {
    const providers = createProviders(cfg);
    const isProd = cfg.environment === "prod";
    const withProviders: pulumi.ComponentResourceOptions = { providers: [providers.aws, providers.kubernetes] };

    const artifactStore = new ArtifactStore(
        "artifacts",
        {
            bucketName: artifactBucketName(cfg),
            noncurrentVersionExpirationDays: cfg.artifactStore.noncurrentVersionExpirationDays,
            abortIncompleteUploadDays: cfg.artifactStore.abortIncompleteUploadDays,
            accessLogBucket: cfg.artifactStore.accessLogBucket,
            protect: isProd,
        },
        withProviders,
    );

    return { providers, artifactStore };
}
