/**
 * The policies the cluster enforces for every client: ValidatingAdmissionPolicies and their bindings
 * (admissionregistration.k8s.io/v1, Kubernetes' built-in CEL admission, GA since 1.30), bound to the
 * teams' serving namespaces, and the parameters the approval rule reads: a ConfigMap with the approvals
 * in force, in a namespace of the platform's that no team can write.
 *
 * The rules themselves are the policy packs' (policy/framework/admission.ts generates them from the same
 * definitions, config and enforcement levels); this component only renders them, so a `kubectl apply`,
 * a `pulumi up` without policy packs or any other client meets the same rules as a plan.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ORG_ANNOTATIONS, orgKey } from "../contract";
import { type LabelContext, standardLabels } from "../shared/naming";
import { podSecurityAdmissionLabels } from "./servingNamespace";

/** One generated rule (policy/framework/admission.ts `AdmissionRule`): what this component renders, as plain data. */
export interface AdmissionRuleSpec {
    /** Name of the policy and of its binding. */
    readonly name: string;
    /** The pack policy it comes from (annotation). */
    readonly policy: string;
    /** The ValidatingAdmissionPolicy's spec, without `paramKind`. */
    readonly spec: Readonly<Record<string, unknown>>;
    /** The binding's validationActions. */
    readonly validationActions: readonly string[];
    /** Whether the rule reads the approvals parameter. */
    readonly params?: "approvals";
}

/** Arguments of {@link AdmissionPolicies}. */
export interface AdmissionPoliciesArgs {
    /** Ownership labels of the platform's objects. */
    readonly labels: LabelContext;
    /** The rules to enforce (policy/framework/admission.ts `admissionRules` for the stack). */
    readonly rules: readonly AdmissionRuleSpec[];
    /** Data of the approvals parameter (`approvalParameterData` of the contract): the approvals in force. */
    readonly approvals: Readonly<Record<string, string>>;
    /** Labels that select the namespaces the rules apply in: the teams' serving namespaces. */
    readonly namespaceSelector: Readonly<Record<string, string>>;
    /** Namespace of the parameters (created; no team has access to it). Default `mlops-governance`. */
    readonly namespace?: string;
    /** Protect and retain the namespace (prod): deleting it would delete the approvals parameter, and every model workload would be refused. */
    readonly protect?: boolean;
}

/** Name of the approvals parameter ConfigMap. */
export const APPROVALS_PARAMETER = "model-approvals";
/** Default namespace of the parameters. */
export const GOVERNANCE_NAMESPACE = "mlops-governance";

/** Problems of the arguments (empty when fine). */
export function admissionPoliciesProblems(args: AdmissionPoliciesArgs): string[] {
    const problems: string[] = [];
    const names = args.rules.map((r) => r.name);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    if (dup.length > 0) problems.push(`rules: names ${[...new Set(dup)].join(", ")} appear twice`);
    for (const r of args.rules)
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(r.name) || r.name.length > 63) problems.push(`rules: "${r.name}" is not an object name (DNS label)`);
    if (Object.keys(args.namespaceSelector).length === 0)
        problems.push("namespaceSelector must select the serving namespaces (an empty selector would bind every namespace)");
    for (const k of Object.keys(args.approvals)) if (!/^[-._a-zA-Z0-9]+$/.test(k)) problems.push(`approvals: "${k}" is not a ConfigMap key`);
    return problems;
}

/** The cluster's admission rules and their parameters. */
export class AdmissionPolicies extends pulumi.ComponentResource {
    /** Namespace of the parameters. */
    public readonly namespace: pulumi.Output<string>;
    /** Name of the approvals parameter ConfigMap. */
    public readonly approvalsConfigMap: pulumi.Output<string>;
    /** Names of the ValidatingAdmissionPolicies (also of their bindings). */
    public readonly policyNames: string[];

    constructor(name: string, args: AdmissionPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = admissionPoliciesProblems(args);
        if (problems.length > 0) throw new Error(`AdmissionPolicies "${name}": ${problems.join("; ")}.`);
        super("mlops:index:AdmissionPolicies", name, {}, opts);
        const child = { parent: this };
        const nsName = args.namespace ?? GOVERNANCE_NAMESPACE;
        const labelsFor = (component: string) => standardLabels(args.labels, { name: "admission-policies", component });

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: nsName, labels: { ...labelsFor("governance"), ...podSecurityAdmissionLabels("restricted") } } },
            { ...child, protect: args.protect === true, retainOnDelete: args.protect === true },
        );
        const approvals = new k8s.core.v1.ConfigMap(
            `${name}-approvals`,
            {
                metadata: { name: APPROVALS_PARAMETER, namespace: namespace.metadata.name, labels: labelsFor("model-approvals") },
                data: { ...args.approvals },
            },
            child,
        );

        for (const rule of args.rules) {
            const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                `${name}-${rule.name}`,
                {
                    metadata: {
                        name: rule.name,
                        labels: labelsFor("admission-policy"),
                        annotations: { [orgKey(args.labels.labelDomain, ORG_ANNOTATIONS.policy)]: rule.policy },
                    },
                    spec: {
                        ...(rule.spec as k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec),
                        ...(rule.params === "approvals" ? { paramKind: { apiVersion: "v1", kind: "ConfigMap" } } : {}),
                    },
                },
                child,
            );
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                `${name}-${rule.name}-binding`,
                {
                    metadata: { name: rule.name, labels: labelsFor("admission-policy") },
                    spec: {
                        policyName: policy.metadata.name,
                        validationActions: [...rule.validationActions],
                        matchResources: { namespaceSelector: { matchLabels: { ...args.namespaceSelector } } },
                        // Without its parameters the rule refuses what it judges: no approvals, no model workloads.
                        ...(rule.params === "approvals"
                            ? { paramRef: { name: approvals.metadata.name, namespace: approvals.metadata.namespace, parameterNotFoundAction: "Deny" } }
                            : {}),
                    },
                },
                child,
            );
        }

        this.namespace = namespace.metadata.name;
        this.approvalsConfigMap = approvals.metadata.name;
        this.policyNames = args.rules.map((r) => r.name);
        this.registerOutputs({ namespace: this.namespace, approvalsConfigMap: this.approvalsConfigMap, policyNames: this.policyNames });
    }
}
