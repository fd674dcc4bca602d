/**
 * How ModelService uses a serving runtime preset (components/team/runtimes/): its argument checks, the
 * rendered runtime with the service's context, the init containers with their resources, the
 * ServiceMonitor endpoint (with the adapter's relabelings) and the recording-rule spec of the adapter.
 * Kept apart from modelService.ts so the component only delegates.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { quantityValue, type ResourceSettings } from "../shared/resources";
import { METRICS_PORT_NAME } from "../contract";
import { containerResources, type EphemeralStorage } from "../shared/k8sHelpers";
import { DEFAULT_WORKLOAD_UID, imageProblems, type PlatformRefs } from "./modelWorkload";
import {
    adapterGroupName,
    modelLabelRelabelings,
    type RecordingGroup,
    type RenderedRuntime,
    renderRuntime,
    type RuntimeArgs,
    RUNTIME_KINDS,
    runtimeProblems,
    runtimePreset,
} from "./runtimes";
import { trackRelabeling } from "./rolloutTrack";

/** What the runtime wiring reads of ModelService's arguments. */
export interface RuntimeServiceArgs {
    readonly team: string;
    readonly platform: PlatformRefs;
    readonly modelUri: string;
    readonly image: unknown;
    readonly port?: number;
    readonly metricsPort?: number;
    readonly health?: { readonly readinessPath?: string; readonly livenessPath?: string; readonly startupTimeoutSeconds?: number };
    readonly inputSchema?: unknown;
    readonly predictionLogging: { readonly enabled: boolean };
    readonly resources: ResourceSettings;
    readonly runAsUser?: number;
    readonly env?: Readonly<Record<string, unknown>>;
    readonly runtime?: RuntimeArgs;
}

/** Problems of the runtime and what depends on it (empty when fine). */
export function runtimeProblemsOf(args: RuntimeServiceArgs): string[] {
    const kind = args.runtime?.kind ?? "custom";
    const fetchImage = args.platform.modelFetchImage;
    const problems = runtimeProblems({
        runtime: args.runtime,
        fetchImage,
        image: args.image,
        inputSchema: args.inputSchema,
        predictionLoggingEnabled: args.predictionLogging.enabled,
        port: args.port,
        metricsPort: args.metricsPort,
        health: args.health?.readinessPath !== undefined || args.health?.livenessPath !== undefined ? args.health : undefined,
        env: args.env,
    });
    // A platform output was checked when readPlatform read it.
    if (kind !== "custom" && (RUNTIME_KINDS as readonly string[]).includes(kind) && runtimePreset(args.runtime).downloads && typeof fetchImage === "string") {
        problems.push(
            ...imageProblems({ reference: fetchImage }, args.platform.environment, { repositoryName: "", tagPrefix: "" }).map(
                (p) => `platform.modelFetchImage: ${p}`,
            ),
        );
    }
    return problems;
}

/** The rendered runtime of a service. */
/**
 * The image a downloading runtime's init container runs: the plain reference, or the platform's output,
 * which must resolve to an image (a platform stack without mlops:serving.modelFetchImage fails here, at
 * deploy time, naming the service). Undefined for runtimes that download nothing.
 */
export function fetchImageOf(component: string, args: RuntimeServiceArgs): pulumi.Input<string> | undefined {
    const kind = args.runtime?.kind ?? "custom";
    if (kind === "custom" || !(RUNTIME_KINDS as readonly string[]).includes(kind) || !runtimePreset(args.runtime).downloads) return undefined;
    const image = args.platform.modelFetchImage;
    if (image === undefined || typeof image === "string") return image;
    return pulumi.output(image).apply((i) => {
        if (!i)
            throw new Error(
                `${component}: runtime ${kind} downloads its model with the AWS CLI, but the platform stack has no modelFetchImage output: the platform team sets mlops:serving.modelFetchImage`,
            );
        return i;
    });
}

/** The rendered runtime of a service (`component` names it in a deploy-time error). */
export function serviceRuntime(args: RuntimeServiceArgs, s: { serviceName: string; namespace: string; modelName: string; component: string }): RenderedRuntime {
    let cpuCores = 1;
    try {
        cpuCores = quantityValue(args.resources.cpuRequest);
    } catch {
        // Reported by the resource checks.
    }
    return renderRuntime(args.runtime, {
        serviceName: s.serviceName,
        team: args.team,
        namespace: s.namespace,
        modelName: s.modelName,
        modelUri: args.modelUri,
        bucket: args.platform.artifactBucketName,
        fetchImage: fetchImageOf(s.component, args),
        uid: args.runAsUser ?? DEFAULT_WORKLOAD_UID,
        port: args.port ?? 8080,
        metricsPort: args.metricsPort ?? 9090,
        readinessPath: args.health?.readinessPath ?? "/health/ready",
        livenessPath: args.health?.livenessPath ?? "/health/live",
        cpuCores,
    });
}

/**
 * The runtime's init containers with requests and limits: little CPU and memory (a copy), the CPU
 * limit of the server, and the pod's ephemeral storage (they write the model volume).
 */
export function runtimeInitContainers(rt: RenderedRuntime, r: ResourceSettings, storage: EphemeralStorage): k8s.types.input.core.v1.Container[] {
    const settings: ResourceSettings = { ...r, cpuRequest: "100m", memoryRequest: "256Mi", memoryLimit: "512Mi" };
    return rt.initContainers.map((c) => ({ ...c, resources: containerResources(settings, storage) }));
}

/** Name of the ConfigMap of a runtime's configuration files. */
export function runtimeConfigMapName(serviceName: string): string {
    return `${serviceName}-runtime-config`;
}

/** The ServiceMonitor endpoint: the runtime's metrics path, and the model labels from the pod's labels for an adapted runtime. */
export function serviceMonitorEndpoint(rt: RenderedRuntime, labelDomain: string, tracked = false): Record<string, unknown> {
    const relabelings = [...(rt.relabelModelLabels ? modelLabelRelabelings(labelDomain) : []), ...(tracked ? [trackRelabeling(labelDomain)] : [])];
    return {
        port: METRICS_PORT_NAME,
        path: rt.metricsPath,
        interval: "30s",
        scrapeTimeout: "10s",
        ...(relabelings.length > 0 ? { relabelings } : {}),
    };
}

/** The PrometheusRule spec of a runtime's metrics adapter (one group of recording rules). */
export function adapterRuleSpec(serviceName: string, rt: RenderedRuntime): { groups: RecordingGroup[] } {
    return { groups: [{ name: adapterGroupName(serviceName), rules: rt.recordingRules }] };
}
