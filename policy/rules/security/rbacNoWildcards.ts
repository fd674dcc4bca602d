import { celMessage } from "../../framework/admission";
import { defineResourcePolicy } from "../../framework/define";

const TYPES = ["kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"];

/** RBAC roles name the API groups, resources and verbs they grant: no `*`. */
export const rbacNoWildcards = defineResourcePolicy<Record<string, never>>({
    meta: {
        name: "rbac-no-wildcards",
        pack: "mlops-security",
        title: "RBAC roles grant no wildcards",
        description: "No rule of a Role or ClusterRole has `*` among its `apiGroups`, `resources` or `verbs`.",
        rationale:
            "A wildcard grants every API group, resource or verb, including the ones added later (CRDs, subresources like pods/exec or secrets): the grant can no longer be reviewed, and it grows with the cluster.",
        severity: "high",
        remediation: "List the API groups, resources and verbs the subject needs (components/platform/servingNamespace.ts deployerRules is the example).",
        controls: [
            { framework: "CIS-K8S", control: "5.1.3" },
            { framework: "NSA-CISA-K8S", control: "RBAC" },
            { framework: "NIST-800-53", control: "AC-6" },
        ],
        topics: ["kubernetes", "rbac", "least-privilege"],
        protectsData: true,
        appliesTo: ["Role", "ClusterRole"],
    },
    config: {},
    types: TYPES,
    admission: {
        kinds: "roles",
        validations: () => [
            {
                expression:
                    "!has(object.rules) || object.rules.all(r, [has(r.apiGroups) ? r.apiGroups : [], has(r.resources) ? r.resources : [], r.verbs].all(l, !('*' in l)))",
                messageExpression: celMessage("rbac-no-wildcards", "' grants * (in apiGroups, resources or verbs): list what the subject needs.'"),
            },
        ],
    },
    check: ({ props }) => {
        const problems: string[] = [];
        (Array.isArray(props.rules) ? props.rules : []).forEach((r: any, i: number) => {
            for (const field of ["apiGroups", "resources", "verbs"] as const) {
                if (Array.isArray(r?.[field]) && r[field].includes("*")) problems.push(`rules[${i}].${field} has "*": list the ${field} the subject needs.`);
            }
        });
        return problems;
    },
});
