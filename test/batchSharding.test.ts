/**
 * Batch at scale: BatchInference's `parallelism` as an Indexed Job (one completion per shard), the
 * sharding contract's environment, its helpers (every object scored by exactly one shard, one output
 * directory per shard), argument checks, and prod's policies on the sharded CronJob.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchInference, type BatchInferenceArgs, validateBatchInferenceArgs } from "../components/team/batchInference";
import { shardDirectory, shardOf } from "../components/team/batchSharding";
import { validateObjects } from "../engine/kubernetes";
import { readPackConfig } from "../policy/framework/configFiles";
import { PACKS } from "../policy/packs";
import { contextForStack, runPacks } from "../policy/framework/runner";
import { runProgram } from "./harness";
import { platformRefs } from "./modelServiceFixtures";

const NOW = new Date("2026-11-22T12:00:00Z");
const args = (change: Partial<BatchInferenceArgs> = {}): BatchInferenceArgs => ({
    team: "fraud",
    owners: ["fraud-ml@acme.io"],
    platform: platformRefs("prod"),
    jobName: "fraud-nightly-scoring",
    modelUri: "models:/fraud-scorer/12",
    previousVersion: 11,
    image: { reference: `410987654321.dkr.ecr.eu-west-1.amazonaws.com/ml-fraud/fraud-batch-scorer:0.9.2@sha256:${"b".repeat(64)}` },
    schedule: "30 2 * * *",
    timeZone: "Europe/Berlin",
    input: { prefix: "batch-inputs/fraud/transactions" },
    output: { prefix: "batch-outputs/fraud/nightly-scoring" },
    resources: { cpuRequest: "2", memoryRequest: "4Gi", cpuLimit: "4", memoryLimit: "8Gi" },
    retries: 2,
    deadlineSeconds: 10800,
    ...change,
});

describe("parallelism", () => {
    it("runs each run as an Indexed Job of one completion per shard, with the shard's index and count", async () => {
        const run = await runProgram(() => new BatchInference("nightly", args({ parallelism: 8 })));
        const cron = run.k8sObject("CronJob", "fraud-nightly-scoring") as any;
        const job = cron.spec.jobTemplate.spec;
        expect(job).toMatchObject({ completionMode: "Indexed", completions: 8, parallelism: 8, backoffLimit: 2 });
        const env = job.template.spec.containers[0].env;
        expect(env).toContainEqual({
            name: "MLOPS_SHARD_INDEX",
            valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
        });
        expect(env).toContainEqual({ name: "MLOPS_SHARD_COUNT", value: "8" });
        expect(env).toContainEqual({ name: "MLOPS_OUTPUT_SHARD", value: "shard-{index:05d}-of-{count:05d}" });
        expect(await validateObjects(run.k8s().map((o) => o.object))).toEqual([]);
        const findings = (
            await runPacks(PACKS, run.resources, (pack) => readPackConfig("prod", pack), contextForStack("prod", { "mlops:labelDomain": "acme.io" }, NOW))
        ).findings;
        expect(findings.filter((f) => f.level === "mandatory").map((f) => `${f.policy}: ${f.message}`)).toEqual([]);
    });

    it("keeps one pod per run without it", async () => {
        const run = await runProgram(() => new BatchInference("nightly", args()));
        const job = (run.k8sObject("CronJob", "fraud-nightly-scoring") as any).spec.jobTemplate.spec;
        expect(job.completionMode).toBeUndefined();
        expect(job.parallelism).toBeUndefined();
        expect(job.template.spec.containers[0].env.map((e: any) => e.name)).not.toContain("MLOPS_SHARD_INDEX");
    });

    it("is a whole number from 1 to 100, and the shard variables are the component's", () => {
        for (const bad of [0, 2.5, 101])
            expect(() => validateBatchInferenceArgs("n", args({ parallelism: bad }), NOW)).toThrow(
                `parallelism must be a whole number of shards from 1 to 100, got ${bad}`,
            );
        expect(() => validateBatchInferenceArgs("n", args({ parallelism: 4, env: { MLOPS_SHARD_COUNT: "2" } }), NOW)).toThrow(
            'env "MLOPS_SHARD_COUNT" is set by the component; remove it',
        );
    });
});

describe("the sharding contract", () => {
    it("scores every object in exactly one shard, whatever the count (property)", () => {
        fc.assert(
            fc.property(fc.uniqueArray(fc.string(), { maxLength: 200 }), fc.integer({ min: 1, max: 100 }), (keys, count) => {
                const sorted = [...keys].sort();
                const shards = Array.from({ length: count }, (_, i) => shardOf(sorted, i, count));
                expect(shards.flat().sort()).toEqual(sorted);
                // Balanced: shard sizes differ by at most one.
                const sizes = shards.map((s) => s.length);
                expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
            }),
        );
    });

    it("names one output directory per shard", () => {
        expect(shardDirectory(3, 16)).toBe("shard-00003-of-00016");
        expect(new Set(Array.from({ length: 100 }, (_, i) => shardDirectory(i, 100))).size).toBe(100);
    });
});
