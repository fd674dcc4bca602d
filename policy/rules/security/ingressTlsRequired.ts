import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

/** Ingresses terminate TLS for every host they route. */
export const ingressTlsRequired = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "ingress-tls-required",
        pack: "mlops-security",
        title: "Ingresses serve TLS",
        description: "Every Ingress has a `tls` section covering each host of its rules, names a host on every rule, and does not switch the SSL redirect off.",
        rationale:
            "Model APIs carry features (possibly personal data) and predictions, and the tracking server carries credentials: plain HTTP exposes both on the network.",
        severity: "high",
        remediation: "Add `spec.tls: [{ hosts: [...], secretName }]` covering every rule host (cert-manager can issue the certificate).",
        controls: [
            { framework: "NIST-800-53", control: "SC-8" },
            { framework: "SOC2", control: "CC6.7" },
        ],
        topics: ["tls", "network", "kubernetes"],
        protectsData: true,
        appliesTo: [INGRESS],
    },
    config: {},
    types: [INGRESS],
    admission: {
        kinds: "ingresses",
        validations: () => {
            const tls = "(has(object.spec.tls) ? object.spec.tls : [])";
            const annotations = "(has(object.metadata.annotations) ? object.metadata.annotations : {})";
            return [
                { expression: `size(${tls}) > 0`, messageExpression: celMessage("ingress-tls-required", "' has no tls section.'") },
                {
                    expression: `!has(object.spec.rules) || object.spec.rules.all(r, has(r.host) && ${tls}.exists(t, has(t.hosts) && r.host in t.hosts))`,
                    messageExpression: celMessage(
                        "ingress-tls-required",
                        "' routes a host without TLS for it (or a rule without a host, which TLS cannot cover).'",
                    ),
                },
                {
                    expression: `['nginx.ingress.kubernetes.io/ssl-redirect', 'nginx.ingress.kubernetes.io/force-ssl-redirect'].all(k, !(k in ${annotations}) || ${annotations}[k] != 'false')`,
                    messageExpression: celMessage("ingress-tls-required", "' turns the TLS redirect off (ssl-redirect or force-ssl-redirect \"false\").'"),
                },
            ];
        },
    },
    check: ({ props }) => {
        const id = `${props.metadata?.namespace ?? "default"}/${props.metadata?.name ?? ""}`;
        const tls: any[] = Array.isArray(props.spec?.tls) ? props.spec.tls : [];
        const covered = new Set(tls.flatMap((t) => (Array.isArray(t?.hosts) ? t.hosts : [])));
        const problems: string[] = [];
        if (tls.length === 0) problems.push(`Ingress ${id} has no tls section.`);
        for (const rule of Array.isArray(props.spec?.rules) ? props.spec.rules : []) {
            if (!rule?.host) problems.push(`Ingress ${id} has a rule without a host, which TLS cannot cover.`);
            else if (tls.length > 0 && !covered.has(rule.host)) problems.push(`Ingress ${id} routes ${rule.host} without TLS for it.`);
        }
        const annotations = props.metadata?.annotations ?? {};
        for (const key of ["nginx.ingress.kubernetes.io/ssl-redirect", "nginx.ingress.kubernetes.io/force-ssl-redirect"]) {
            if (annotations[key] === "false") problems.push(`Ingress ${id} sets ${key}: "false".`);
        }
        return problems;
    },
});
