/**
 * Batch scoring at scale: a BatchInference with `parallelism` N > 1 runs each run as an Indexed Job of N
 * completions, N pods at once. The sharding contract (docs/team-guide.md#batch-at-scale):
 *
 * - Pod i (0 <= i < N) gets `MLOPS_SHARD_INDEX=i` (the Job's completion index) and `MLOPS_SHARD_COUNT=N`.
 * - It lists the objects under `MLOPS_INPUT_URI`, sorts their keys (byte order), and scores the objects at
 *   positions p with p mod N = i: every object is scored by exactly one shard, whatever the listing's size.
 * - It writes its predictions under the run's partition in its own directory
 *   `shard-<i>-of-<N>/` (both zero-padded to 5 digits, `MLOPS_OUTPUT_SHARD`'s template), overwriting it on
 *   a retry, so shards never write the same object and a retried shard replaces only its own output.
 * - It pushes its run metrics with the grouping key `shard=<i>` besides the job's.
 *
 * The run succeeds when every index succeeded; `backoffLimit` (the job's `retries`) bounds the pod
 * failures of the whole run, so a shard that keeps failing fails the run and BatchJobFailed fires.
 */
import type * as k8s from "@pulumi/kubernetes";

/** Largest `parallelism`. */
export const MAX_PARALLELISM = 100;

/** The template of a shard's output directory: `shard-{index}-of-{count}`, each zero-padded to 5 digits. */
export const SHARD_DIRECTORY_TEMPLATE = "shard-{index:05d}-of-{count:05d}";

/** A shard's output directory (the contract's template filled in). */
export function shardDirectory(index: number, count: number): string {
    const pad = (n: number) => String(n).padStart(5, "0");
    return `shard-${pad(index)}-of-${pad(count)}`;
}

/** The indexes of the sorted keys shard `index` of `count` scores. */
export function shardOf<T>(sortedKeys: readonly T[], index: number, count: number): T[] {
    return sortedKeys.filter((_, p) => p % count === index);
}

/** Problems of `parallelism` (empty when fine). */
export function parallelismProblems(parallelism: unknown): string[] {
    if (parallelism === undefined) return [];
    if (!Number.isInteger(parallelism) || (parallelism as number) < 1 || (parallelism as number) > MAX_PARALLELISM) {
        return [`parallelism must be a whole number of shards from 1 to ${MAX_PARALLELISM}, got ${String(parallelism)}`];
    }
    return [];
}

/** The Job spec fields of a sharded run (none for one shard). */
export function indexedJobFields(parallelism: number | undefined): { completionMode?: string; completions?: number; parallelism?: number } {
    const n = parallelism ?? 1;
    return n > 1 ? { completionMode: "Indexed", completions: n, parallelism: n } : {};
}

/** The environment of a shard (none for one shard). */
export function shardEnv(parallelism: number | undefined): k8s.types.input.core.v1.EnvVar[] {
    const n = parallelism ?? 1;
    if (n <= 1) return [];
    return [
        { name: "MLOPS_SHARD_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
        { name: "MLOPS_SHARD_COUNT", value: String(n) },
        { name: "MLOPS_OUTPUT_SHARD", value: SHARD_DIRECTORY_TEMPLATE },
    ];
}

/** Environment variables a sharded job gets (a team's `env` may not set them). */
export const SHARD_ENV = ["MLOPS_SHARD_INDEX", "MLOPS_SHARD_COUNT", "MLOPS_OUTPUT_SHARD"] as const;
