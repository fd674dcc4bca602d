/**
 * The cluster's admission rules (policy/framework/admission.ts, components/platform/admissionPolicies.ts): generated from
 * the packs' own definitions, config and levels; every policy over Kubernetes objects is enforced by an
 * admission rule, by Pod Security admission, or named as not judgeable on one object; the platform stack
 * renders the policies, their bindings to the serving namespaces and the approvals parameter. The real
 * API server compiles and enforces the CEL in e2e/admission.e2e.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AdmissionPolicies, admissionPoliciesProblems } from "../components/platform/admissionPolicies";
import { approvalParameterData } from "../components/contract";
import { ADMISSION_ELSEWHERE, type AdmissionRule, admissionRules, celString } from "../policy/framework/admission";
import { readPackConfig } from "../policy/framework/configFiles";
import type { PolicyFactory } from "../policy/framework/define";
import { PACKS } from "../policy/packs";
import { loadModelApprovals } from "../stacks/approvals";
import { runProgram, runStack, type StackRun } from "./harness";

const K8S_TYPES = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:core/v1:Pod",
];
const policies = PACKS.flatMap((p) => p.policies as readonly (PolicyFactory & { admission?: unknown })[]);
const rulesOf = (environment: "dev" | "test" | "prod") =>
    admissionRules({ packs: PACKS, environment, labelDomain: "acme.io", config: (pack) => readPackConfig(environment, pack) });
const rule = (rules: AdmissionRule[], policy: string) => rules.find((r) => r.policy === policy);

describe("admission coverage", () => {
    it("enforces every policy over Kubernetes objects in the cluster, or says where else it is enforced or why it cannot be", () => {
        const overKubernetes = policies.filter((p) => p.kind === "stack" || K8S_TYPES.some((t) => (p as any).appliesToType(t)));
        const unmapped = overKubernetes.filter((p) => !p.admission && !(p.meta.name in ADMISSION_ELSEWHERE)).map((p) => p.meta.name);
        expect(unmapped).toEqual([]);
        const both = policies.filter((p) => p.admission && p.meta.name in ADMISSION_ELSEWHERE).map((p) => p.meta.name);
        expect(both).toEqual([]);
        const stale = Object.keys(ADMISSION_ELSEWHERE).filter((n) => !policies.some((p) => p.meta.name === n));
        expect(stale).toEqual([]);
        expect(policies.filter((p) => p.admission).length).toBeGreaterThanOrEqual(15);
    });
});

describe("generated rules", () => {
    it("follow each stack's config: environments, levels (mandatory denies, advisory audits) and values", () => {
        const prod = rulesOf("prod");
        const dev = rulesOf("dev");
        const test = rulesOf("test");
        expect(rule(prod, "model-approval-record")).toMatchObject({ name: "mlops-model-approval-record", validationActions: ["Deny"], params: "approvals" });
        expect(rule(test, "model-approval-record")).toBeUndefined(); // prod only
        expect(rule(dev, "image-digest-pinned")).toBeUndefined(); // test and prod
        expect(rule(test, "image-digest-pinned")?.validationActions).toEqual(["Deny"]);
        expect(rule(dev, "model-version-pinned")?.validationActions).toEqual(["Audit"]);
        expect(rule(dev, "secret-env-from-secret-ref")?.validationActions).toEqual(["Deny"]);
        // The allowed registries are prod's config (410987654321's ECR), as the pack reads them.
        const registry = JSON.stringify(rule(prod, "image-registry-allowed")!.spec.validations);
        expect(registry).toContain(JSON.stringify(celString("(?i)^410987654321\\.dkr\\.ecr\\.eu-west-1\\.amazonaws\\.com/.*$")).slice(1, -1));
        for (const r of prod) {
            expect(r.name).toMatch(/^mlops-[a-z0-9-]+$/);
            for (const v of r.spec.validations) expect(v.messageExpression.startsWith(celString(`${r.policy}: `))).toBe(true);
        }
    });

    it("judge model workloads by the namespace's team, the labelled model and version, and what actually runs", () => {
        const approval = rule(rulesOf("prod"), "model-approval-record")!;
        const vars = Object.fromEntries(approval.spec.variables.map((v) => [v.name, v.expression]));
        expect(vars.team).toContain("namespaceObject.metadata.labels['mlops.acme.io/team']");
        expect(vars.approvalKey).toBe("variables.team + '.' + variables.model + '.' + variables.version");
        expect(approval.spec.matchConditions).toEqual([
            { name: "model-workload", expression: "has(object.metadata.labels) && 'mlops.acme.io/model' in object.metadata.labels" },
        ]);
        const [inForce, ticket, images] = approval.spec.validations.map((v) => v.expression);
        expect(inForce).toBe("variables.approvalKey + '.ticket' in variables.approvals");
        expect(ticket).toContain("variables.labels['mlops.acme.io/approval-ticket'] == variables.approvals[variables.approvalKey + '.ticket']");
        expect(images).toContain(
            "variables.containers.all(c, variables.approvals[variables.approvalKey + '.images'].split(' ').exists(d, c.image.endsWith('@' + d)))",
        );
        expect(approval.spec.validations[0].messageExpression).toContain("approvals are recorded by compliance in approvals/prod.yaml");
        const pinned = rule(rulesOf("prod"), "model-version-pinned")!;
        expect(pinned.spec.validations[0].expression).toBe(
            "variables.isModel || variables.containers.all(c, !has(c.env) || !c.env.exists(e, e.name in ['MODEL_URI']))",
        );
    });

    it("escape what they quote", () => {
        expect(celString("it's a \\ test")).toBe("'it\\'s a \\\\ test'");
    });
});

describe("the platform stack renders them", () => {
    let prod: StackRun;
    beforeAll(async () => {
        prod = await runStack("prod");
    });

    it("a ValidatingAdmissionPolicy and a binding to the serving namespaces per rule, the approval rule with the approvals parameter", () => {
        const policiesOut = prod.ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy").map((r) => prod.inputs(r));
        const bindings = prod.ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding").map((r) => prod.inputs(r));
        const expected = rulesOf("prod");
        expect(policiesOut.map((p) => p.metadata.name).sort()).toEqual(expected.map((r) => r.name).sort());
        expect(bindings.map((b) => b.spec.policyName).sort()).toEqual(expected.map((r) => r.name).sort());
        for (const b of bindings) expect(b.spec.matchResources).toEqual({ namespaceSelector: { matchLabels: { "mlops.acme.io/serving": "true" } } });
        const approval = policiesOut.find((p) => p.metadata.name === "mlops-model-approval-record")!;
        expect(approval.spec.paramKind).toEqual({ apiVersion: "v1", kind: "ConfigMap" });
        expect(approval.spec.validations).toEqual(rule(expected, "model-approval-record")!.spec.validations);
        const binding = bindings.find((b) => b.spec.policyName === "mlops-model-approval-record")!;
        expect(binding.spec).toMatchObject({
            validationActions: ["Deny"],
            paramRef: { name: "model-approvals", namespace: "mlops-governance", parameterNotFoundAction: "Deny" },
        });
        expect(bindings.filter((b) => b.spec.paramRef).length).toBe(1);
    });

    it("the approvals in force as the parameter, in a namespace of the platform's", () => {
        const cm = prod.inputs(prod.one("kubernetes:core/v1:ConfigMap", "admission-approvals"));
        expect(cm.metadata).toMatchObject({ name: "model-approvals", namespace: "mlops-governance" });
        expect(cm.data).toEqual(approvalParameterData(loadModelApprovals("prod", ["fraud"]), new Date()));
        const ns = prod.one("kubernetes:core/v1:Namespace", "admission-namespace");
        expect(prod.inputs(ns).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        expect(ns.options.protect).toBe(true);
    });

    it("refuses rules without a namespace selector or with clashing names, before any resource", async () => {
        const args = {
            labels: { labelDomain: "acme.io", owner: "ml-platform", environment: "prod" as const, costCentre: "CC-1" },
            rules: [],
            approvals: {},
            namespaceSelector: {},
        };
        expect(admissionPoliciesProblems(args)).toEqual([
            "namespaceSelector must select the serving namespaces (an empty selector would bind every namespace)",
        ]);
        const r = { name: "mlops-x", policy: "x", spec: {}, validationActions: ["Deny"] };
        expect(admissionPoliciesProblems({ ...args, namespaceSelector: { a: "b" }, rules: [r, r] })).toEqual(["rules: names mlops-x appear twice"]);
        const error = await runProgram(() => new AdmissionPolicies("admission", args)).catch((e) => e);
        expect(error.resources.map((x: any) => x.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});
