/**
 * Ephemeral storage (local disk: logs, writable layers, emptyDir scratch): every container the platform
 * renders requests and limits it, and each pod's limits cover its disk-backed scratch volumes, so the
 * scheduler counts the disk and the kubelet evicts a pod no earlier than its volumes fill.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { quantityValue } from "../stacks/config";
import { containerResources, EPHEMERAL_STORAGE_HEADROOM, ephemeralStorage } from "../components/shared/k8sHelpers";
import { runStack, type StackRun, STACKS } from "./harness";

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"];

function podSpecOf(o: any): any {
    if (o.kind === "CronJob") return o.spec.jobTemplate.spec.template.spec;
    if (o.kind === "Pod") return o.spec;
    return o.spec.template.spec;
}

describe("ephemeralStorage", () => {
    it("limits at the scratch volumes plus the headroom, in Mi", () => {
        expect(ephemeralStorage("128Mi", ["1Gi"])).toEqual({ request: "128Mi", limit: "1280Mi" });
        expect(ephemeralStorage("64Mi")).toEqual({ request: "64Mi", limit: "256Mi" });
        expect(ephemeralStorage("128Mi", ["256Mi", "16Mi"])).toEqual({ request: "128Mi", limit: "528Mi" });
    });

    it("never limits below the scratch volumes (property)", () => {
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 1, max: 64 * 1024 }), { maxLength: 3 }), (mis) => {
                const { limit } = ephemeralStorage(
                    "1Mi",
                    mis.map((m) => `${m}Mi`),
                );
                expect(quantityValue(limit)).toBe(mis.reduce((a, m) => a + m * 1024 ** 2, 0) + quantityValue(EPHEMERAL_STORAGE_HEADROOM));
            }),
        );
    });

    it("refuses a request above the limit", () => {
        expect(() => ephemeralStorage("2Gi")).toThrow("ephemeral-storage request 2Gi is above its limit 256Mi");
    });

    it("containerResources takes the settings' ephemeral storage over the workload's", () => {
        const base = { cpuRequest: "1", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "2Gi" };
        expect(containerResources(base, ephemeralStorage("64Mi"))).toEqual({
            requests: { cpu: "1", memory: "1Gi", "ephemeral-storage": "64Mi" },
            limits: { cpu: "2", memory: "2Gi", "ephemeral-storage": "256Mi" },
        });
        expect(containerResources({ ...base, ephemeralStorageRequest: "1Gi", ephemeralStorageLimit: "8Gi" }, ephemeralStorage("64Mi"))).toEqual({
            requests: { cpu: "1", memory: "1Gi", "ephemeral-storage": "1Gi" },
            limits: { cpu: "2", memory: "2Gi", "ephemeral-storage": "8Gi" },
        });
    });
});

describe.each(STACKS)("ephemeral storage of every workload in %s", (stack) => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack(stack);
    });

    it("every container and init container requests and limits it; the pod's limits cover its disk-backed emptyDirs", () => {
        const workloads = WORKLOAD_KINDS.flatMap((k) => run.k8sOfKind(k) as any[]);
        expect(workloads.length).toBeGreaterThan(3);
        for (const w of workloads) {
            const spec = podSpecOf(w);
            const containers = [...(spec.initContainers ?? []), ...spec.containers];
            for (const c of containers) {
                const where = `${w.kind} ${w.metadata.namespace}/${w.metadata.name} ${c.name}`;
                expect(c.resources?.requests?.["ephemeral-storage"], where).toBeDefined();
                expect(c.resources?.limits?.["ephemeral-storage"], where).toBeDefined();
                expect(quantityValue(c.resources.requests["ephemeral-storage"]), where).toBeLessThanOrEqual(
                    quantityValue(c.resources.limits["ephemeral-storage"]),
                );
            }
            const scratch = (spec.volumes ?? [])
                .filter((v: any) => v.emptyDir && v.emptyDir.medium !== "Memory")
                .reduce((a: number, v: any) => a + quantityValue(v.emptyDir.sizeLimit ?? "0"), 0);
            const limits = spec.containers.reduce((a: number, c: any) => a + quantityValue(c.resources.limits["ephemeral-storage"]), 0);
            expect(limits, `${w.kind} ${w.metadata.name}`).toBeGreaterThan(scratch);
        }
    });

    it("the charts' containers are given it too", () => {
        const release = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.name.includes("kube-prometheus-stack"));
        const values = run.inputs(release!).values;
        for (const v of [
            values.prometheus.prometheusSpec.resources,
            values.alertmanager.alertmanagerSpec.resources,
            values.grafana.resources,
            values.prometheusOperator.resources,
        ]) {
            expect(v.requests["ephemeral-storage"]).toBeDefined();
            expect(v.limits["ephemeral-storage"]).toBeDefined();
        }
    });
});
