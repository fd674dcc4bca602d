/**
 * network-policy-coverage: every workload in a namespace the stack creates runs behind a default deny
 * (Ingress and Egress) and is selected by an allow; workloads in namespaces another stack creates are
 * left to that stack; unknown values (preview) skip the workload, naming it.
 */
import { describe, expect, it } from "vitest";
import { allowsTraffic, deniesByDefault, networkPolicyCoverage, policyTypesOf, selectsAllPods } from "../policy/rules/security/networkPolicyCoverage";
import * as f from "./policies/fixtures";
import {
    assertHasStackViolation,
    assertNoStackViolations,
    createStackValidationArgs,
    runStackPolicy,
    stackPolicy,
    type TestResource,
    UNKNOWN,
} from "./policies/util";

const NS = "kubernetes:core/v1:Namespace";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const netpol = (name: string, spec: Record<string, unknown>, namespace = "team-fraud"): TestResource => ({
    type: NP,
    name: `np-${name}`,
    props: { metadata: { name, namespace }, spec },
});

/** The fixture workloads in their namespace, with a default deny and a DNS allow for every pod (as ServingNamespace). */
function covered(): TestResource[] {
    return [
        { type: NS, name: "team-fraud-ns", props: { metadata: { name: "team-fraud" } } },
        ...f.modelStack(),
        netpol("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
        netpol("allow-dns", { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ protocol: "UDP", port: 53 }] }] }),
    ];
}
const without = (name: string) => covered().filter((r) => r.name !== name);

describe("network-policy-coverage", () => {
    const policy = stackPolicy(networkPolicyCoverage);
    const args = (resources: TestResource[]) => createStackValidationArgs(resources, { factory: networkPolicyCoverage });
    const DENY = (ref: string, open: string) =>
        `${ref} runs in namespace team-fraud, which has no default-deny NetworkPolicy for ${open} (podSelector {}, no rules): pods no other policy selects accept and open any connection.`;
    const UNSELECTED = (ref: string) => `${ref} is selected by no NetworkPolicy that allows it traffic: add a narrow allow for what its pods need.`;

    it("passes workloads behind a default deny with an allow selecting them", async () => {
        await assertNoStackViolations(policy, args(covered()));
    });
    it("reports each workload of a namespace without default deny", async () => {
        const resources = without("np-default-deny");
        await assertHasStackViolation(policy, args(resources), DENY("Deployment team-fraud/fraud", "Ingress and Egress"), "::fraud-deployment");
        await assertHasStackViolation(policy, args(resources), DENY("CronJob team-fraud/fraud-batch", "Ingress and Egress"), "::fraud-batch");
    });
    it("reports a default deny of one direction only, or one that selects some pods or lets traffic through", async () => {
        const ingressOnly = [...without("np-default-deny"), netpol("default-deny", { podSelector: {}, policyTypes: ["Ingress"] })];
        await assertHasStackViolation(policy, args(ingressOnly), DENY("Deployment team-fraud/fraud", "Egress"));
        const some = [
            ...without("np-default-deny"),
            netpol("default-deny", { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress", "Egress"] }),
        ];
        await assertHasStackViolation(policy, args(some), DENY("Deployment team-fraud/fraud", "Ingress and Egress"));
        const leaky = [...without("np-default-deny"), netpol("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{}] })];
        await assertHasStackViolation(policy, args(leaky), DENY("Deployment team-fraud/fraud", "Ingress"));
    });
    it("reports a workload no allow selects (default deny alone selects every pod but allows nothing)", async () => {
        const narrow = [
            ...without("np-allow-dns"),
            netpol("allow-fraud", { podSelector: { matchLabels: { ...f.SELECTOR } }, policyTypes: ["Egress"], egress: [{ ports: [{ port: 53 }] }] }),
        ];
        const run = await runStackPolicy(policy, args(narrow));
        expect(run.violations.map((v) => v.message)).toEqual([UNSELECTED("CronJob team-fraud/fraud-batch")]);
    });
    it("counts only policies of the workload's namespace", async () => {
        const elsewhere = [...without("np-default-deny"), netpol("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, "mlflow")];
        await assertHasStackViolation(policy, args(elsewhere), DENY("Deployment team-fraud/fraud", "Ingress and Egress"));
    });
    it("leaves workloads in namespaces the stack does not create to the stack that does", async () => {
        const teamStack = f.modelStack();
        const run = await runStackPolicy(policy, args(teamStack));
        expect(run).toEqual({ violations: [], notApplicable: undefined });
    });
    it("skips a workload whose namespace is unknown during preview, and still judges the others", async () => {
        const resources = covered().map((r) =>
            r.name === "fraud-batch"
                ? { ...r, props: { ...r.props, metadata: UNKNOWN } }
                : r.name === "np-default-deny"
                  ? { ...r, props: { metadata: { name: "x", namespace: "team-fraud" }, spec: { podSelector: { matchLabels: { a: "b" } } } } }
                  : r,
        );
        const run = await runStackPolicy(policy, args(resources));
        expect(run.violations.map((v) => v.message)).toEqual([DENY("Deployment team-fraud/fraud", "Ingress and Egress")]);
        expect(run.notApplicable).toMatch(/fraud-batch: needs a value that is unknown during preview/);
    });
    it("reads policy types as Kubernetes defaults them", () => {
        expect(policyTypesOf({ podSelector: {} })).toEqual(["Ingress"]);
        expect(policyTypesOf({ podSelector: {}, egress: [{}] })).toEqual(["Ingress", "Egress"]);
        expect(policyTypesOf({ podSelector: {}, policyTypes: ["Egress"] })).toEqual(["Egress"]);
        expect(deniesByDefault({ podSelector: {} }, "Ingress")).toBe(true);
        expect(deniesByDefault({ podSelector: {} }, "Egress")).toBe(false);
        expect(selectsAllPods({ matchExpressions: [{ key: "a", operator: "Exists" }] })).toBe(false);
        expect(allowsTraffic({ podSelector: {}, policyTypes: ["Ingress"], egress: [{}] })).toBe(false);
    });
});
