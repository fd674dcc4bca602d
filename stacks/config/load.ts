/**
 * Reads the stack's `mlops:` configuration from the Pulumi runtime and parses it once, before any
 * resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE } from "../../components/contract";
import { parsePlatformConfig } from "./parse";
import type { PlatformConfig } from "./schema";

/** The `mlops:` keys of the running stack, without the namespace. */
export function rawStackConfig(): Record<string, string> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(
        Object.entries(pulumi.runtime.allConfig())
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
}

/** The validated configuration of the running stack; throws ConfigError listing every problem. */
export function loadPlatformConfig(): PlatformConfig {
    return parsePlatformConfig(rawStackConfig(), pulumi.getStack());
}
