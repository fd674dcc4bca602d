/**
 * GPUs: ModelService's `resources.gpu` (limits and requests of nvidia.com/gpu, the platform's GPU node
 * selector and taint toleration), the team namespaces' GPU quota, and the reliability pack's
 * gpu-scheduling policy on what ModelService renders and on each defect, and its admission rule (the real API
 * server enforces it in e2e/admission.e2e.test.ts).
 */
import { describe, expect, it } from "vitest";
import { ModelService, validateModelServiceArgs } from "../components/team/modelService";
import { readPackConfig } from "../policy/framework/configFiles";
import { PACKS } from "../policy/packs";
import { contextForStack, runPacks } from "../policy/framework/runner";
import { admissionRules } from "../policy/framework/admission";
import { gpuScheduling, toleratesGpuTaint } from "../policy/rules/reliability/gpuScheduling";
import { runProgram, runStack } from "./harness";
import { platformRefs, prodArgs } from "./modelServiceFixtures";

const NOW = new Date("2026-11-22T12:00:00Z");
const gpuArgs = (gpu: number, gpuNodes?: Record<string, unknown>) =>
    prodArgs({ resources: { ...prodArgs().resources, gpu }, platform: { ...platformRefs("prod"), ...(gpuNodes ? { gpuNodes } : {}) } });

const check = (type: string, props: Record<string, unknown>) => (gpuScheduling as any).check({ type, props, urn: "urn", name: "x", opts: {} }) as string[];

describe("resources.gpu", () => {
    it("limits and requests the GPUs, selects GPU nodes and tolerates their taint", async () => {
        const run = await runProgram(() => new ModelService("fraud-scorer", gpuArgs(2)));
        const pod = (run.k8sObject("Deployment", "fraud-scorer") as any).spec.template.spec;
        expect(pod.containers[0].resources.limits["nvidia.com/gpu"]).toBe("2");
        expect(pod.containers[0].resources.requests["nvidia.com/gpu"]).toBe("2");
        expect(pod.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
        expect(pod.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
        const findings = (
            await runPacks(PACKS, run.resources, (pack) => readPackConfig("prod", pack), contextForStack("prod", { "mlops:labelDomain": "acme.io" }, NOW))
        ).findings;
        expect(findings.filter((f) => f.level === "mandatory").map((f) => `${f.policy}: ${f.message}`)).toEqual([]);
    });

    it("takes the GPU nodes from the platform", async () => {
        const nodes = {
            nodeSelector: { "node.kubernetes.io/instance-type": "g5.xlarge" },
            tolerations: [{ key: "gpu", operator: "Equal", value: "a10g", effect: "NoSchedule" }],
        };
        const run = await runProgram(() => new ModelService("fraud-scorer", gpuArgs(1, nodes)));
        const pod = (run.k8sObject("Deployment", "fraud-scorer") as any).spec.template.spec;
        expect(pod.nodeSelector).toEqual(nodes.nodeSelector);
        expect(pod.tolerations).toEqual(nodes.tolerations);
    });

    it("renders no GPU, selector or toleration without GPUs", async () => {
        const run = await runProgram(() => new ModelService("fraud-scorer", prodArgs()));
        const pod = (run.k8sObject("Deployment", "fraud-scorer") as any).spec.template.spec;
        expect(pod.nodeSelector).toBeUndefined();
        expect(pod.tolerations).toBeUndefined();
        expect(pod.containers[0].resources.limits["nvidia.com/gpu"]).toBeUndefined();
    });

    it("is a whole number from 1 to 8", () => {
        for (const bad of [0, 1.5, 9])
            expect(() => validateModelServiceArgs("s", gpuArgs(bad), NOW)).toThrow(`resources.gpu must be a whole number of GPUs from 1 to 8, got ${bad}`);
    });
});

describe("GPU quota", () => {
    it("caps every team namespace's GPU requests, at 0 unless the team's quota grants some", async () => {
        const run = await runStack("prod");
        const quotas = run.k8sOfKind("ResourceQuota") as any[];
        expect(quotas.length).toBeGreaterThan(0);
        for (const q of quotas) expect(q.spec.hard["requests.nvidia.com/gpu"]).toBe("0");
    });
});

describe("gpu-scheduling", () => {
    const deployment = (spec: Record<string, unknown>, resources: Record<string, unknown> = {}) => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d", namespace: "ml-fraud" },
        spec: { template: { spec: { ...spec, containers: [{ name: "s", image: "i", resources }] } } },
    });
    const TYPE = "kubernetes:apps/v1:Deployment";
    const gpu = { requests: { "nvidia.com/gpu": "1" }, limits: { "nvidia.com/gpu": "1" } };
    const toleration = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];

    it("passes a GPU pod on GPU nodes and a pod without GPUs off them", () => {
        expect(check(TYPE, deployment({ nodeSelector: { "nvidia.com/gpu.present": "true" }, tolerations: toleration }, gpu))).toEqual([]);
        expect(check(TYPE, deployment({}))).toEqual([]);
    });
    it("reports a pod without GPUs that tolerates the GPU taint", () => {
        expect(check(TYPE, deployment({ tolerations: toleration })).join()).toContain("tolerates the GPU taint nvidia.com/gpu but asks for no GPU");
    });
    it("reports a GPU pod without the toleration, the node selector or the limit", () => {
        const found = check(TYPE, deployment({}, { requests: { "nvidia.com/gpu": "1" } })).join("\n");
        expect(found).toContain("requests nvidia.com/gpu without a limit");
        expect(found).toContain("does not tolerate the GPU nodes' taint nvidia.com/gpu");
        expect(found).toContain("selects no nodes (nodeSelector)");
    });
});

describe("gpu-scheduling in the cluster's admission", () => {
    const rule = (environment: "dev" | "prod") =>
        admissionRules({ packs: PACKS, environment, labelDomain: "acme.io", config: (pack) => readPackConfig(environment, pack) }).find(
            (r) => r.policy === "gpu-scheduling",
        )!;

    it("judges every workload kind with the pack's four conditions, denying in every stack", () => {
        const prod = rule("prod");
        expect(prod.spec.matchConstraints.resourceRules.flatMap((r: any) => r.resources)).toEqual([
            "deployments",
            "replicasets",
            "statefulsets",
            "daemonsets",
            "jobs",
            "cronjobs",
        ]);
        const messages = prod.spec.validations.map((v) => v.messageExpression).join("\n");
        for (const m of [
            "requests nvidia.com/gpu without a limit",
            "asks for GPUs but does not tolerate the GPU nodes\\' taint nvidia.com/gpu",
            "selects no nodes (nodeSelector)",
            "tolerates the GPU taint nvidia.com/gpu but asks for no GPU",
        ]) {
            expect(messages).toContain(m);
        }
        expect(prod.spec.validations[3].expression).toContain("object.kind == 'DaemonSet'");
        expect(prod.validationActions).toEqual(["Deny"]);
        expect(rule("dev").validationActions).toEqual(readPackConfig("dev", "mlops-reliability")["gpu-scheduling"] === "mandatory" ? ["Deny"] : ["Audit"]);
    });
    it("reads a toleration with an empty key and Exists as tolerating the GPU taint, in the pack as in the rule", () => {
        expect(toleratesGpuTaint({ operator: "Exists" })).toBe(true);
        expect(toleratesGpuTaint({ key: "", operator: "Exists" })).toBe(true);
        expect(toleratesGpuTaint({ key: "nvidia.com/gpu", operator: "Equal", value: "present" })).toBe(true);
        expect(toleratesGpuTaint({ key: "dedicated", operator: "Exists" })).toBe(false);
        expect(rule("prod").spec.validations[1].expression).toContain("(has(t.key) ? t.key : '') == '' && has(t.operator) && t.operator == 'Exists'");
    });
});
