import { celMessage, celStrings } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";

export interface Config {
    allowedTypes: string[];
    allowedServices: string[];
}

const SERVICE = "kubernetes:core/v1:Service";

/** No LoadBalancer or NodePort Services unless allowed. */
export const serviceTypeRestricted = defineResourcePolicy<Config>({
    meta: {
        name: "service-type-restricted",
        pack: "mlops-security",
        title: "Services are not exposed outside the cluster",
        description:
            "Services are of type ClusterIP (or ExternalName/headless); LoadBalancer and NodePort are allowed only for types or `namespace/name` Services listed in the config.",
        rationale:
            "A LoadBalancer or NodePort Service exposes a model API or the tracking server outside the cluster, around the gateway that terminates TLS and authenticates requests.",
        severity: "high",
        remediation:
            "Use a ClusterIP Service behind the platform's ingress gateway (an Ingress with TLS); if a load balancer is really needed, list the Service in `allowedServices` and document the exception.",
        controls: [
            { framework: "NIST-800-53", control: "SC-7" },
            { framework: "SOC2", control: "CC6.6" },
        ],
        topics: ["network", "kubernetes", "public-access"],
        protectsData: true,
        appliesTo: ["kubernetes:core/v1:Service"],
    },
    config: {
        allowedTypes: {
            type: "array",
            items: { type: "string", enum: ["LoadBalancer", "NodePort"] },
            default: [],
            description: "Types allowed for every Service.",
        },
        allowedServices: {
            type: "array",
            items: { type: "string" },
            default: [],
            description: "`namespace/name` of Services allowed to be LoadBalancer or NodePort.",
        },
    },
    types: [SERVICE],
    admission: {
        kinds: "services",
        validations: ({ config }) => {
            const type = "(has(object.spec.type) ? object.spec.type : 'ClusterIP')";
            return [
                {
                    expression: `!(${type} in ['LoadBalancer', 'NodePort']) || ${type} in ${celStrings(config.allowedTypes)} || (object.metadata.namespace + '/' + object.metadata.name) in ${celStrings(config.allowedServices)}`,
                    messageExpression: celMessage(
                        "service-type-restricted",
                        `' is of type ' + ${type} + ': use ClusterIP behind the ingress gateway, or allow it in the policy config.'`,
                    ),
                },
            ];
        },
    },
    check: ({ props }, config) => {
        const type = props.spec?.type ?? "ClusterIP";
        if (type !== "LoadBalancer" && type !== "NodePort") return [];
        const id = `${props.metadata?.namespace ?? "default"}/${props.metadata?.name ?? ""}`;
        if (config.allowedTypes.includes(type) || config.allowedServices.includes(id)) return [];
        return [`Service ${id} is of type ${type}: use ClusterIP behind the ingress gateway, or allow it in the policy config.`];
    },
});
