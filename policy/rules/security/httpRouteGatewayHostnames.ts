import { GATEWAY_API_VERSION, teamOfServingNamespace } from "../../../components/contract";
import { celMessage, celString, celStrings } from "../../framework/admission";
import { defineResourcePolicy, skip } from "../../framework/define";

export const HTTP_ROUTE = `kubernetes:${GATEWAY_API_VERSION}:HTTPRoute`;
const GATEWAY_GROUP = GATEWAY_API_VERSION.split("/")[0];

/** A listener of the platform's Gateway that team routes may attach to. */
export interface AllowedGateway {
    namespace: string;
    name: string;
    /** Listeners (`sectionName`) routes may attach to: the HTTPS ones. */
    sectionNames: string[];
}

export interface Config {
    gateways: AllowedGateway[];
    hostnameSuffix: string;
}

/** `ingress-nginx/platform (https)`. */
const describeGateways = (gateways: readonly AllowedGateway[]): string =>
    gateways.length === 0
        ? "none (the policy config names no gateway)"
        : gateways.map((g) => `${g.namespace}/${g.name} (${g.sectionNames.join(", ")})`).join(", ");

/** The team's DNS zone under the platform's suffix, `<team>.<suffix>` (components/team/modelRoute.ts teamHostnameZone). */
const zoneOf = (team: string, suffix: string): string => `${team}.${suffix}`;

/**
 * A team's HTTPRoutes attach only to the platform's Gateway, on its HTTPS listeners, and answer only for
 * hostnames in the team's zone under the platform's suffix: what ModelRoute renders, enforced for any
 * HTTPRoute a team writes.
 */
export const httpRouteGatewayHostnames = defineResourcePolicy<Config>({
    meta: {
        name: "httproute-gateway-hostnames",
        pack: "mlops-security",
        title: "Team routes use the platform's gateway and their own hostnames",
        description:
            "An HTTPRoute in a team's serving namespace (`ml-<team>`) attaches only to a listed listener of the platform's Gateway (`gateways`: namespace, name and `sectionName`, the HTTPS listeners) and names hostnames, each under the team's zone `<team>.<hostnameSuffix>`.",
        rationale:
            "The gateway routes by hostname: a route that names another team's hostname (or none, which matches every hostname of the listener) takes that team's traffic, its features and predictions included; a route on another Gateway or on a plain-HTTP listener is exposed without the platform's TLS, certificate and access controls.",
        severity: "high",
        remediation:
            "Expose a service with ModelRoute (components/team/modelRoute.ts): it attaches to the platform's HTTPS listener and names `<service>.<team>.<hostnameSuffix>`. Set `hostnames` under your team's zone only.",
        controls: [
            { framework: "NIST-800-53", control: "SC-7" },
            { framework: "NIST-800-53", control: "SC-8" },
            { framework: "SOC2", control: "CC6.6" },
        ],
        topics: ["network", "tls", "kubernetes", "public-access"],
        protectsData: true,
        appliesTo: [HTTP_ROUTE],
        limitations:
            "Judges routes in serving namespaces only; the platform's Gateway itself (its listeners and allowedRoutes) is the platform's, outside the stacks.",
    },
    config: {
        gateways: {
            type: "array",
            items: {
                type: "object",
                properties: {
                    namespace: { type: "string" },
                    name: { type: "string" },
                    sectionNames: { type: "array", items: { type: "string" }, minItems: 1 },
                },
                required: ["namespace", "name", "sectionNames"],
                additionalProperties: false,
            },
            default: [],
            description: "The platform Gateway listeners team routes may attach to. Empty: none (every team route is refused).",
        },
        hostnameSuffix: {
            type: "string",
            default: "",
            description: "DNS suffix of model hostnames: a team's routes name hostnames under `<team>.<hostnameSuffix>`. Empty: none allowed.",
        },
    },
    types: [HTTP_ROUTE],
    admission: {
        kinds: "httpRoutes",
        team: true,
        validations: ({ config }) => {
            const zone = `variables.team + ${celString(`.${config.hostnameSuffix}`)}`;
            const namespace = "(has(object.metadata.namespace) ? object.metadata.namespace : request.namespace)";
            const allowed = celStrings(config.gateways.flatMap((g) => g.sectionNames.map((s) => `${g.namespace}/${g.name}/${s}`)));
            const parentOk =
                `(has(p.group) ? p.group : ${celString(GATEWAY_GROUP)}) == ${celString(GATEWAY_GROUP)} && (has(p.kind) ? p.kind : 'Gateway') == 'Gateway' && has(p.sectionName) && ` +
                `((has(p.namespace) ? p.namespace : ${namespace}) + '/' + p.name + '/' + p.sectionName) in ${allowed}`;
            return [
                {
                    expression: "has(object.spec.hostnames) && size(object.spec.hostnames) > 0",
                    messageExpression: celMessage(
                        "httproute-gateway-hostnames",
                        `' names no hostnames: it would answer for every hostname of its listeners; name hostnames under ' + ${zone} + '.'`,
                    ),
                },
                {
                    expression: `!has(object.spec.hostnames) || object.spec.hostnames.all(h, h.endsWith('.' + ${zone}))`,
                    messageExpression: celMessage(
                        "httproute-gateway-hostnames",
                        `' names hostnames outside the team\\'s zone ' + ${zone} + ': ' + object.spec.hostnames.filter(h, !h.endsWith('.' + ${zone})).join(', ') + '.'`,
                    ),
                },
                {
                    expression: `!has(object.spec.parentRefs) || object.spec.parentRefs.all(p, ${parentOk})`,
                    messageExpression: celMessage(
                        "httproute-gateway-hostnames",
                        `' attaches to a parent other than the platform\\'s gateway listeners: only ${describeGateways(config.gateways).replace(/'/g, "\\'")} are allowed.'`,
                    ),
                },
            ];
        },
    },
    check: ({ props }, config) => {
        const ns: string | undefined = props.metadata?.namespace;
        const team = teamOfServingNamespace(ns);
        if (!team) return skip(`not in a team's serving namespace (ml-<team>): ${ns ?? "no namespace"}`);
        const ref = `HTTPRoute ${ns}/${props.metadata?.name ?? "(unnamed)"}`;
        const problems: string[] = [];
        const zone = zoneOf(team, config.hostnameSuffix);
        const hostnames: string[] = props.spec?.hostnames ?? [];
        if (!config.hostnameSuffix) problems.push(`${ref}: the policy config sets no hostnameSuffix, so no hostname is allowed.`);
        else if (hostnames.length === 0)
            problems.push(`${ref} names no hostnames: it would answer for every hostname of its listeners; name hostnames under ${zone}.`);
        else {
            const outside = hostnames.filter((h) => !h.endsWith(`.${zone}`));
            if (outside.length > 0) problems.push(`${ref} names hostnames outside the team's zone ${zone}: ${outside.join(", ")}.`);
        }
        for (const p of props.spec?.parentRefs ?? []) {
            const group = p.group ?? GATEWAY_GROUP;
            const kind = p.kind ?? "Gateway";
            const namespace = p.namespace ?? ns;
            const ok =
                group === GATEWAY_GROUP &&
                kind === "Gateway" &&
                config.gateways.some(
                    (g) => g.namespace === namespace && g.name === p.name && p.sectionName !== undefined && g.sectionNames.includes(p.sectionName),
                );
            if (!ok) {
                problems.push(
                    `${ref} attaches to ${kind} ${namespace}/${p.name}${p.sectionName ? ` (listener ${p.sectionName})` : " (every listener)"}; only the platform's gateway listeners ${describeGateways(config.gateways)} are allowed.`,
                );
            }
        }
        return problems;
    },
});
