/**
 * The cluster's half of the policies: a policy that can be judged on one Kubernetes object declares an
 * `admission` rule beside its `check` (same definition, same config, same environment scope), and
 * {@link admissionRules} turns the packs' rules into ValidatingAdmissionPolicies (Kubernetes' built-in CEL
 * admission, admissionregistration.k8s.io/v1) for one stack: the platform stack renders them
 * (components/platform/admissionPolicies.ts), bound to the teams' serving namespaces, so every client (kubectl,
 * `pulumi up` without packs, a CI job) meets them.
 *
 * The CEL here is data: unit tests check what is generated; the e2e suite has the real API server compile
 * it and admit or refuse real objects.
 */
import type { EnforcementLevel } from "@pulumi/policy";
import { APPROVAL_PARAM_SUFFIXES, ORG_LABELS, approvalsRecordedIn, orgKey } from "../../components/contract";
import { effectiveLevel, type PackConfigFile } from "./configFiles";
import type { PackDefinition, PolicyFactory } from "./define";
import type { Environment } from "./types";

/** What an admission rule is generated from: the stack's label domain and environment, and the policy's effective config. */
export interface AdmissionContext<C> {
    readonly labelDomain: string;
    readonly environment: Environment;
    readonly config: C;
}

/** One CEL validation (the fields of `ValidatingAdmissionPolicy.spec.validations[]`). */
export interface CelValidation {
    readonly expression: string;
    /** A CEL string expression: the refusal's message (it starts with the policy's name). */
    readonly messageExpression: string;
    readonly reason?: "Invalid" | "Forbidden";
}

/** The sets of objects admission rules judge: the kinds a team can write in its namespace (docs/team-guide.md's Role). */
export const ADMISSION_KINDS = {
    /** Pod-bearing kinds a team can write (and the controllers' own ReplicaSets, StatefulSets, DaemonSets). */
    workloads: [
        { apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments", "replicasets", "statefulsets", "daemonsets"] },
        { apiGroups: ["batch"], apiVersions: ["v1"], resources: ["jobs", "cronjobs"] },
    ],
    cronJobs: [{ apiGroups: ["batch"], apiVersions: ["v1"], resources: ["cronjobs"] }],
    /** Jobs: the team's own, those its CronJobs start and those its orchestrators create. */
    jobs: [{ apiGroups: ["batch"], apiVersions: ["v1"], resources: ["jobs"] }],
    /** Gateway API routes (ModelRoute's HTTPRoutes). */
    httpRoutes: [{ apiGroups: ["gateway.networking.k8s.io"], apiVersions: ["v1"], resources: ["httproutes"] }],
    services: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["services"] }],
    ingresses: [{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], resources: ["ingresses"] }],
    roles: [{ apiGroups: ["rbac.authorization.k8s.io"], apiVersions: ["v1"], resources: ["roles"] }],
    /** Every kind the team's deployer Role can write. */
    teamObjects: [
        { apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments", "replicasets", "statefulsets", "daemonsets"] },
        { apiGroups: ["batch"], apiVersions: ["v1"], resources: ["jobs", "cronjobs"] },
        { apiGroups: [""], apiVersions: ["v1"], resources: ["services", "configmaps"] },
        { apiGroups: ["autoscaling"], apiVersions: ["v2"], resources: ["horizontalpodautoscalers"] },
        { apiGroups: ["policy"], apiVersions: ["v1"], resources: ["poddisruptionbudgets"] },
        { apiGroups: ["monitoring.coreos.com"], apiVersions: ["v1"], resources: ["servicemonitors", "podmonitors", "prometheusrules"] },
        { apiGroups: ["gateway.networking.k8s.io"], apiVersions: ["v1"], resources: ["httproutes"] },
    ],
} as const;
/** The kinds whose rules get only {@link OBJECT_VARIABLES}: none of their objects has a pod template (the others get {@link WORKLOAD_VARIABLES}; teamObjects' rules guard by kind). */
const PODLESS_KINDS: readonly AdmissionKinds[] = ["services", "ingresses", "roles", "httpRoutes"];
export type AdmissionKinds = keyof typeof ADMISSION_KINDS;

/** What a policy declares for admission. */
export interface AdmissionDefinition<C> {
    /** The objects it judges. */
    readonly kinds: AdmissionKinds;
    /** Whether it reads the approvals the platform publishes (the parameter ConfigMap); implies `model`. */
    readonly params?: "approvals";
    /** Whether it uses the model variables (`variables.isModel`, `model`, `version`, `team`). */
    readonly model?: boolean;
    /** Whether it uses `variables.team`: the team of the object's namespace (without the model variables). */
    readonly team?: boolean;
    /** What of the policy the cluster does not check, when it checks only part (docs/policies.md says so). */
    readonly partial?: string;
    /** Only objects these CEL conditions hold for are judged (`matchConditions`). */
    readonly matchConditions?: (ctx: AdmissionContext<C>) => { name: string; expression: string }[];
    /** The validations, from the context. Workload rules use {@link WORKLOAD_VARIABLES} (`variables.containers`, ...). */
    readonly validations: (ctx: AdmissionContext<C>) => CelValidation[];
}

/**
 * Why a policy of the packs has no admission rule of its own: Pod Security admission enforces it (the
 * serving namespaces enforce `restricted` in test and prod, `baseline` in dev), it cannot be judged on
 * one object, or it is about AWS resources (stack policies over AWS). test/admission.test.ts requires
 * every policy over Kubernetes objects, and every stack policy, to have an admission rule or a line here.
 */
export const ADMISSION_ELSEWHERE: Readonly<Record<string, string>> = {
    "pod-no-privileged": "Pod Security admission: baseline and restricted (privileged containers)",
    "pod-no-host-namespaces": "Pod Security admission: baseline and restricted (host namespaces)",
    "pod-no-host-path": "Pod Security admission: baseline and restricted (hostPath volumes)",
    "pod-capabilities-restricted": "Pod Security admission: restricted (drop ALL; baseline refuses added capabilities)",
    "pod-no-privilege-escalation": "Pod Security admission: restricted (allowPrivilegeEscalation: false)",
    "pod-run-as-non-root": "Pod Security admission: restricted (runAsNonRoot)",
    "pod-seccomp-profile": "Pod Security admission: restricted (seccompProfile RuntimeDefault or Localhost)",
    "workload-has-pdb": "not one object: joins a workload with its PodDisruptionBudget",
    "deployment-replicas-ha": "not one object: joins a Deployment with its HorizontalPodAutoscaler",
    "model-workload-monitored": "not one object: joins a model workload with its ServiceMonitor or PodMonitor",
    "model-alerts-defined": "not one object: joins a model workload with its PrometheusRule",
    "network-policy-coverage":
        "not one object: joins namespaces, their workloads and their NetworkPolicies (teams cannot write NetworkPolicies: their Role only reads them)",
    "stateful-resources-protected": "not a Kubernetes object rule: Pulumi's protect option exists only in the program",
    "environment-matches-stack": "not an admission rule: compares labels with the Pulumi stack's environment, which the cluster does not know",
    "no-cross-environment-references": "not an admission rule: compares references with the Pulumi stack's environment and accounts",
    "aws-ownership-tags": "AWS resources, not Kubernetes objects",
    "s3-bucket-encrypted-with-kms": "AWS resources, not Kubernetes objects",
    "s3-bucket-versioning-enabled": "AWS resources, not Kubernetes objects",
    "s3-bucket-public-access-blocked": "AWS resources, not Kubernetes objects",
    "s3-bucket-tls-only": "AWS resources, not Kubernetes objects",
};

/** CEL of a string literal. */
export function celString(s: string): string {
    return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** CEL of a list of string literals. */
export function celStrings(list: readonly string[]): string {
    return `[${list.map(celString).join(", ")}]`;
}

/** Variables every workload rule can use: the pod template, its spec, all containers (init included), the object's labels. */
export const WORKLOAD_VARIABLES: readonly { name: string; expression: string }[] = [
    { name: "podTemplate", expression: "object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template : object.spec.template" },
    { name: "podSpec", expression: "variables.podTemplate.spec" },
    { name: "containers", expression: "variables.podSpec.containers + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])" },
    { name: "labels", expression: "has(object.metadata.labels) ? object.metadata.labels : {}" },
    {
        name: "podLabels",
        expression: "has(variables.podTemplate.metadata) && has(variables.podTemplate.metadata.labels) ? variables.podTemplate.metadata.labels : {}",
    },
];

/** Variables of the rules over any object: its labels. */
export const OBJECT_VARIABLES: readonly { name: string; expression: string }[] = [
    { name: "labels", expression: "has(object.metadata.labels) ? object.metadata.labels : {}" },
];

/** `<Kind>/<namespace>/<name>` of the object under review, as CEL (messages). */
export const CEL_REF =
    "object.kind + '/' + (has(object.metadata.namespace) ? object.metadata.namespace : request.namespace) + '/' + (has(object.metadata.name) ? object.metadata.name : '')";

/** A refusal message: the policy's name, the object, then `what` (a CEL string expression). */
export function celMessage(policy: string, what: string): string {
    return `${celString(`${policy}: `)} + ${CEL_REF} + ${what}`;
}

/**
 * `variables.team`: the team of the object's namespace. The team is the namespace's (set by the platform;
 * a team cannot relabel its namespace), not the object's own label.
 */
export function teamVariable(labelDomain: string): { name: string; expression: string } {
    const key = celString(orgKey(labelDomain, ORG_LABELS.team));
    return {
        name: "team",
        expression: `has(namespaceObject.metadata.labels) && ${key} in namespaceObject.metadata.labels ? namespaceObject.metadata.labels[${key}] : ''`,
    };
}

/** Variables of the model rules: the model, version and team of a workload (and, with `approvals`, its key in the approvals parameter). */
export function modelVariables(labelDomain: string, approvals: boolean): { name: string; expression: string }[] {
    const key = (suffix: string) => celString(orgKey(labelDomain, suffix));
    return [
        { name: "isModel", expression: `${key(ORG_LABELS.model)} in variables.labels` },
        { name: "model", expression: `${key(ORG_LABELS.model)} in variables.labels ? variables.labels[${key(ORG_LABELS.model)}] : ''` },
        { name: "version", expression: `${key(ORG_LABELS.modelVersion)} in variables.labels ? variables.labels[${key(ORG_LABELS.modelVersion)}] : ''` },
        teamVariable(labelDomain),
        ...(approvals
            ? [
                  { name: "approvalKey", expression: "variables.team + '.' + variables.model + '.' + variables.version" },
                  { name: "approvals", expression: "has(params.data) ? params.data : {}" },
              ]
            : []),
    ];
}

/** Keys of the approvals parameter, as CEL over `variables.approvalKey`. */
export const APPROVAL_PARAM = {
    ticket: `variables.approvalKey + '.${APPROVAL_PARAM_SUFFIXES.ticket}'`,
    images: `variables.approvalKey + '.${APPROVAL_PARAM_SUFFIXES.images}'`,
};

/** Where approvals are recorded, for refusal messages. */
export function approvalsWhere(environment: string): string {
    return approvalsRecordedIn(environment);
}

/** One generated admission rule: a ValidatingAdmissionPolicy's spec and how its binding enforces it. */
export interface AdmissionRule {
    /** Object name of the policy and its binding: `mlops-<policy>`. */
    readonly name: string;
    /** The pack policy it comes from. */
    readonly policy: string;
    readonly pack: string;
    /** `spec` of the ValidatingAdmissionPolicy (without paramKind, which {@link AdmissionRule.params} adds). */
    readonly spec: {
        readonly failurePolicy: "Fail";
        readonly matchConstraints: { readonly resourceRules: readonly Record<string, unknown>[] };
        readonly matchConditions?: readonly { name: string; expression: string }[];
        readonly variables: readonly { name: string; expression: string }[];
        readonly validations: readonly CelValidation[];
    };
    /** The binding's `validationActions`: Deny for mandatory; Audit for advisory (the audit log records it; clients see nothing, as a plan's advisory findings do not fail it). */
    readonly validationActions: readonly ("Deny" | "Warn" | "Audit")[];
    readonly params?: "approvals";
}

/** A factory with an admission rule. */
type WithAdmission = PolicyFactory & { readonly admission?: AdmissionDefinition<any> };

/** The policy's effective config in a stack: schema defaults, then the pack config file's values. */
function effectiveConfig(policy: PolicyFactory, file: PackConfigFile): Record<string, unknown> {
    const entry = file[policy.meta.name];
    const own = entry && typeof entry === "object" ? Object.fromEntries(Object.entries(entry).filter(([k]) => k !== "enforcementLevel")) : {};
    return { ...(policy.defaults as Record<string, unknown>), ...own };
}

const ACTIONS: Record<EnforcementLevel, AdmissionRule["validationActions"] | undefined> = {
    mandatory: ["Deny"],
    advisory: ["Audit"],
    remediate: ["Deny"],
    disabled: undefined,
};

/**
 * The admission rules of the packs for one stack: each policy with an `admission` rule that applies in
 * the stack's environment (its `environments` config) and is not disabled, at its enforcement level, with
 * the stack's config.
 */
export function admissionRules(opts: {
    readonly packs: readonly PackDefinition[];
    readonly environment: Environment;
    readonly labelDomain: string;
    readonly config: (pack: string) => PackConfigFile;
}): AdmissionRule[] {
    const rules: AdmissionRule[] = [];
    for (const pack of opts.packs) {
        const file = opts.config(pack.name);
        for (const policy of pack.policies as readonly WithAdmission[]) {
            const def = policy.admission;
            if (!def) continue;
            const config = effectiveConfig(policy, file);
            const envs = config.environments as Environment[] | undefined;
            if (envs && !envs.includes(opts.environment)) continue;
            const actions = ACTIONS[effectiveLevel(file, policy.meta.name)];
            if (!actions) continue;
            const variables = PODLESS_KINDS.includes(def.kinds) ? [...OBJECT_VARIABLES] : [...WORKLOAD_VARIABLES];
            if (def.params === "approvals" || def.model) variables.push(...modelVariables(opts.labelDomain, def.params === "approvals"));
            else if (def.team) variables.push(teamVariable(opts.labelDomain));
            const ctx = { labelDomain: opts.labelDomain, environment: opts.environment, config };
            const matchConditions = def.matchConditions?.(ctx);
            rules.push({
                name: `mlops-${policy.meta.name}`,
                policy: policy.meta.name,
                pack: pack.name,
                spec: {
                    failurePolicy: "Fail",
                    matchConstraints: { resourceRules: ADMISSION_KINDS[def.kinds].map((r) => ({ ...r, operations: ["CREATE", "UPDATE"] })) },
                    ...(matchConditions ? { matchConditions } : {}),
                    variables,
                    validations: def.validations(ctx),
                },
                validationActions: actions,
                ...(def.params ? { params: def.params } : {}),
            });
        }
    }
    return rules;
}
