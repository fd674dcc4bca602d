/**
 * A model's route through the platform's gateway (Gateway API HTTPRoute, gateway.networking.k8s.io/v1)
 * with its rollout: a stable ModelService, optionally a canary ModelService taking a weighted share of
 * the requests, and a shadow ModelService receiving mirrored copies (RequestMirror) whose answers the
 * gateway discards. Each track is a ModelService of its own (own Deployment, HPA, alerts, operating
 * note), labelled with its track, so its series carry `track` and its own `version`: the dashboards
 * split by track, and the route deploys, per candidate, the registry's ROLLOUT_ALERTS comparing it with
 * the stable version (a PrometheusRule `<route>-rollout-alerts`, narrowed to the route's services).
 *
 * Approvals apply to every version that takes traffic: the canary and the shadow are ModelServices, so
 * each needs the approval of its own version where ModelService requires one (prod).
 *
 * Promotion and rollback are one change of the route's arguments (docs/team-guide.md#canary-and-shadow):
 * promote by making the canary's version the stable one and dropping the canary; roll back by dropping
 * the canary (its weight goes to stable at once).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type ModelSlo, ROLLOUT_ALERTS, type RuleGroup, workloadAlertGroups } from "../shared/alertRules";
import { CANARY_WEIGHT, GATEWAY_API_VERSION, type RolloutTrack, servingNamespaceName } from "../contract";
import type { ModelService } from "./modelService";
import { SERVICE_HTTP_PORT } from "./modelService";
import type { GatewayRef, PlatformRefs } from "./modelWorkload";
import { prometheusRuleSpec, teamLabelContext } from "./modelWorkload";
import { standardLabels } from "../shared/naming";

/** Arguments of {@link ModelRoute}. */
export interface ModelRouteArgs {
    /** Team that owns the route and its services. */
    readonly team: string;
    /** What the route needs from the platform stack: `gateway` and `gatewayNamespace`. */
    readonly platform: PlatformRefs;
    /** The version answering the requests (its `track` must be `stable`). */
    readonly stable: ModelService;
    /** A candidate version taking `weight` percent of the requests (1 to 50; its `track` must be `canary`). Default none. */
    readonly canary?: { readonly service: ModelService; readonly weight: number };
    /** A candidate version receiving a copy of `percent` of the requests (1 to 100, default 100), its answers discarded (its `track` must be `shadow`). Default none. */
    readonly shadow?: { readonly service: ModelService; readonly percent?: number };
    /** Hostnames of the route, each under `<team>.<gateway.hostnameSuffix>`. Default `<stable service>.<team>.<hostnameSuffix>`. */
    readonly hostnames?: readonly string[];
    /** Name of the HTTPRoute. Default the stable service's name. */
    readonly routeName?: string;
}

/** The team's DNS zone under the platform's suffix: `<team>.<suffix>`. */
export function teamHostnameZone(team: string, suffix: string): string {
    return `${team}.${suffix}`;
}

/** Is the platform's gateway known only at deploy time (the stack output readPlatform passes)? */
function gatewayIsOutput(gateway: ModelRouteArgs["platform"]["gateway"]): boolean {
    return pulumi.Output.isInstance(gateway) || gateway instanceof Promise;
}

/** Problems of the platform's gateway and of the route's hostnames under it (empty when fine). */
export function gatewayProblems(team: string, gw: GatewayRef | undefined, hostnames: readonly string[] | undefined): string[] {
    const problems: string[] = [];
    if (!gw || !gw.name || !gw.sectionName || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(gw.hostnameSuffix ?? "")) {
        problems.push(
            "platform.gateway must name the platform's Gateway, its HTTPS listener (sectionName) and the hostname suffix (like models.acme.io); " +
                "readPlatform passes the platform stack's gateway output, which the platform team sets with mlops:serving.gateway",
        );
    }
    if (gw?.hostnameSuffix) {
        const zone = teamHostnameZone(team, gw.hostnameSuffix);
        for (const h of hostnames ?? []) {
            if (!h.endsWith(`.${zone}`) || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(h)) {
                problems.push(`hostname "${h}" must be a DNS name under the team's zone ${zone} (the gateway's certificate covers *.${zone})`);
            }
        }
    }
    return problems;
}

/**
 * Checks the arguments before anything is registered; every problem at once. A gateway known only at
 * deploy time (readPlatform's output) is checked with the hostnames when it resolves, before the HTTPRoute.
 */
export function validateModelRouteArgs(name: string, args: ModelRouteArgs): void {
    const problems: string[] = [];
    const gw = args.platform.gateway;
    if (!gatewayIsOutput(gw)) problems.push(...gatewayProblems(args.team, gw as GatewayRef | undefined, args.hostnames));
    if (args.hostnames && args.hostnames.length === 0) problems.push("hostnames must not be empty (leave it out for the default)");
    const ns = servingNamespaceName(args.team);
    const tracks: [string, ModelService | undefined, RolloutTrack][] = [
        ["stable", args.stable, "stable"],
        ["canary", args.canary?.service, "canary"],
        ["shadow", args.shadow?.service, "shadow"],
    ];
    for (const [key, service, track] of tracks) {
        if (!service) continue;
        if (service.namespace !== ns)
            problems.push(`${key} service ${service.serviceName} runs in ${service.namespace}, not in team ${args.team}'s namespace ${ns}`);
        if (service.track !== track)
            problems.push(`${key} service ${service.serviceName} must have track "${track}", has ${service.track ? `"${service.track}"` : "none"}`);
    }
    for (const [key, service] of tracks.slice(1)) {
        if (service && args.stable && service.modelName !== args.stable.modelName) {
            problems.push(
                `${key} service ${service.serviceName} serves model ${service.modelName}, the stable service ${args.stable.serviceName} ${args.stable.modelName}: a candidate is another version of the stable's model (its alerts compare the two by model)`,
            );
        }
    }
    const names = tracks.flatMap(([, s]) => (s ? [s.serviceName] : []));
    if (new Set(names).size !== names.length) problems.push(`stable, canary and shadow must be different services, got ${names.join(", ")}`);
    if (args.canary) {
        const w = args.canary.weight;
        if (!Number.isInteger(w) || w < CANARY_WEIGHT.min || w > CANARY_WEIGHT.max) {
            problems.push(
                `canary.weight must be an integer percentage from ${CANARY_WEIGHT.min} to ${CANARY_WEIGHT.max}, got ${w}; to promote, make the canary's version the stable one; to roll back, remove the canary`,
            );
        }
    }
    if (args.shadow?.percent !== undefined) {
        const p = args.shadow.percent;
        if (!Number.isInteger(p) || p < 1 || p > 100) problems.push(`shadow.percent must be an integer from 1 to 100, got ${p}`);
    }
    if (args.routeName !== undefined && !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(args.routeName))
        problems.push(`routeName "${args.routeName}" must be lower-case letters, digits and -`);
    if (problems.length > 0) throw new Error(`ModelRoute "${name}": ${problems.join("; ")}.`);
}

/**
 * The rules comparing each candidate with the stable version: the registry's ROLLOUT_ALERTS over the
 * series of the stable and that candidate only (`service`), with the candidate's SLO, in a group
 * `mlops-model-rollout-<team>-<candidate>`.
 */
export function routeRuleGroups(o: {
    team: string;
    stable: string;
    candidates: readonly { service: string; slo: ModelSlo }[];
    runbookBaseUrl: string;
}): RuleGroup[] {
    const namespace = servingNamespaceName(o.team);
    return o.candidates.flatMap((c) =>
        workloadAlertGroups({
            team: o.team,
            namespace,
            instance: c.service,
            alerts: ROLLOUT_ALERTS,
            scope: [["mlops_", `service=~"${o.stable}|${c.service}"`]],
            slo: c.slo,
            runbookBaseUrl: o.runbookBaseUrl,
        }),
    );
}

/** The HTTPRoute's spec: one rule, stable and canary by weight, the shadow mirrored. */
export function httpRouteSpec(o: {
    gateway: { name: string; sectionName: string };
    gatewayNamespace: pulumi.Input<string>;
    hostnames: string[];
    stable: string;
    canary?: { service: string; weight: number };
    shadow?: { service: string; percent: number };
}): Record<string, unknown> {
    const backend = (name: string, weight: number) => ({ group: "", kind: "Service", name, port: SERVICE_HTTP_PORT, weight });
    return {
        parentRefs: [
            { group: "gateway.networking.k8s.io", kind: "Gateway", name: o.gateway.name, namespace: o.gatewayNamespace, sectionName: o.gateway.sectionName },
        ],
        hostnames: o.hostnames,
        rules: [
            {
                matches: [{ path: { type: "PathPrefix", value: "/" } }],
                ...(o.shadow
                    ? {
                          filters: [
                              {
                                  type: "RequestMirror",
                                  requestMirror: {
                                      backendRef: { group: "", kind: "Service", name: o.shadow.service, port: SERVICE_HTTP_PORT },
                                      percent: o.shadow.percent,
                                  },
                              },
                          ],
                      }
                    : {}),
                backendRefs: o.canary ? [backend(o.stable, 100 - o.canary.weight), backend(o.canary.service, o.canary.weight)] : [backend(o.stable, 100)],
            },
        ],
    };
}

/** A model's route through the platform's gateway, with its canary and shadow. */
export class ModelRoute extends pulumi.ComponentResource {
    /** Name of the HTTPRoute. */
    public readonly routeName: string;
    /** Its hostnames (HTTPS at the gateway; known at deploy time when the gateway is readPlatform's output). */
    public readonly hostnames: pulumi.Output<string[]>;
    /** Share of the requests per service name, in percent (the shadow's copies are not counted). */
    public readonly weights: Record<string, number>;
    /** The rules comparing each candidate with the stable version (PrometheusRule `<route>-rollout-alerts`); empty without a candidate. */
    public readonly ruleGroups: RuleGroup[];

    constructor(name: string, args: ModelRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        validateModelRouteArgs(name, args);
        super("mlops:index:ModelRoute", name, {}, opts);
        const p = args.platform;
        const ns = servingNamespaceName(args.team);
        const routeName = args.routeName ?? args.stable.serviceName;
        // The gateway from the platform's outputs is checked when it resolves: a bad one fails the HTTPRoute (only it, once).
        const gateway = pulumi
            .output(p.gateway as pulumi.Input<GatewayRef | undefined>)
            .apply((gw) => ({ gw, problems: gatewayProblems(args.team, gw, args.hostnames) }));
        const hostnames = gateway.apply(({ gw, problems }) => [
            ...(args.hostnames ?? (problems.length > 0 || !gw ? [] : [`${args.stable.serviceName}.${teamHostnameZone(args.team, gw.hostnameSuffix)}`])),
        ]);
        const labels = standardLabels(teamLabelContext(p, args.team), { name: routeName, instance: routeName, component: "model-route", team: args.team });
        const canary = args.canary ? { service: args.canary.service.serviceName, weight: args.canary.weight } : undefined;
        const shadow = args.shadow ? { service: args.shadow.service.serviceName, percent: args.shadow.percent ?? 100 } : undefined;
        new k8s.apiextensions.CustomResource(
            `${name}-route`,
            {
                apiVersion: GATEWAY_API_VERSION,
                kind: "HTTPRoute",
                metadata: { name: routeName, namespace: ns, labels },
                spec: pulumi.all([gateway, hostnames, p.gatewayNamespace]).apply(([{ gw, problems }, h, gatewayNamespace]) => {
                    if (problems.length > 0) throw new Error(`ModelRoute "${name}": ${problems.join("; ")}.`);
                    return httpRouteSpec({ gateway: gw!, gatewayNamespace, hostnames: h, stable: args.stable.serviceName, canary, shadow });
                }),
            },
            // Traffic goes to a version only once its service is there: in prod an unapproved version registers nothing, and neither does its route.
            { parent: this, dependsOn: [args.stable, ...(args.canary ? [args.canary.service] : []), ...(args.shadow ? [args.shadow.service] : [])] },
        );
        const candidates = [args.canary?.service, args.shadow?.service].flatMap((c) => (c ? [{ service: c.serviceName, slo: c.slo }] : []));
        this.ruleGroups = routeRuleGroups({ team: args.team, stable: args.stable.serviceName, candidates, runbookBaseUrl: p.runbookBaseUrl });
        if (this.ruleGroups.length > 0) {
            new k8s.apiextensions.CustomResource(
                `${name}-rollout-alerts`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: { name: `${routeName}-rollout-alerts`, namespace: ns, labels },
                    spec: prometheusRuleSpec(this.ruleGroups),
                },
                { parent: this },
            );
        }
        this.routeName = routeName;
        this.hostnames = hostnames;
        this.weights = canary ? { [args.stable.serviceName]: 100 - canary.weight, [canary.service]: canary.weight } : { [args.stable.serviceName]: 100 };
        this.registerOutputs({ routeName, hostnames, weights: this.weights });
    }
}
