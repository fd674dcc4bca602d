/**
 * The one shared test harness. It runs the real program (stacks/index.ts) for a stack on the recording
 * engine (the same engine the offline plan uses) and offers queries over what was registered.
 */
import * as path from "path";
import { vi } from "vitest";
import { kubernetesObjects, type KubernetesObject, type RenderedObject } from "../engine/kubernetes";
import { record, type RecordedResource } from "../engine/recorder";
import { setStackReferenceOutputs, type StackReferenceOutputs } from "../engine/mockState";
import { recordStack, type StackRecording } from "../engine/stack";
import { isSecret, reveal, secretPaths } from "../engine/values";

export const ROOT = path.resolve(__dirname, "..");
export const STACKS = ["dev", "test", "prod"] as const;
export type StackName = (typeof STACKS)[number];

/** Types whose loss loses data: protected in prod, URNs pinned by test/statefulUrns.test.ts. */
export const STATEFUL_TYPES = [
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:ecr/repository:Repository",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:apps/v1:StatefulSet",
];

/** Loads the entry module afresh through vitest, so each run re-executes the program. */
export async function vitestLoader(entry: string): Promise<unknown> {
    vi.resetModules();
    return import(entry);
}

/**
 * Recordings of runs that depend on nothing but the files in the repository (a stack of this project
 * without overrides, the example team project on a platform stack's outputs), kept for the worker
 * process: the program is deterministic for its inputs, so the files that read a stack share one run of
 * it instead of each running it again (about a second a run: the suite asks 59 times for 6 runs). Held
 * on `globalThis` because each test file evaluates this module afresh (a Map here was empty in every
 * file, even with vitest.config.mts's `isolate: false`). Each caller gets its own deep copy, so a test
 * that edits what it got cannot change what another test reads. A run that failed is not kept.
 */
const RECORDINGS: Map<string, Promise<StackRecording>> = ((globalThis as Record<symbol, unknown>)[Symbol.for("mlops.test.recordings")] ??= new Map()) as Map<
    string,
    Promise<StackRecording>
>;

async function recordOnce(key: string, run: () => Promise<StackRecording>): Promise<StackRecording> {
    let recording = RECORDINGS.get(key);
    if (!recording) {
        recording = run();
        RECORDINGS.set(key, recording);
        recording.catch(() => RECORDINGS.delete(key));
    }
    return structuredClone(await recording);
}

/**
 * Runs a stack of this project (optionally with config overrides) and wraps the recording. Without
 * overrides the worker's one run of the stack is shared (see {@link RECORDINGS}).
 */
export async function runStack(stack: string, configOverrides?: Record<string, string | undefined>): Promise<StackRun> {
    const run = () => recordStack({ root: ROOT, stack, load: vitestLoader, configOverrides });
    if (configOverrides !== undefined) return new StackRun(await run());
    return new StackRun(await recordOnce(JSON.stringify([ROOT, stack]), run));
}

/**
 * Runs an ad-hoc program (e.g. one component with particular args) on the same engine, as stack
 * `stack` of project `mlops`. `program` creates resources and may return outputs.
 */
export async function runProgram(program: () => unknown, stack = "unit", config: Record<string, string> = {}): Promise<StackRun> {
    const recording = await record({ project: "mlops", stack, config, program, mockContext: { accountId: "410987654321", region: "eu-west-1" } });
    return new StackRun({
        ...recording,
        stackConfig: { stack, file: "", config, secretKeys: [] },
        info: { root: ROOT, name: "mlops", entry: "", program: { directory: ROOT, entryPoint: "." }, runtimeOptions: {} },
    });
}

/**
 * Runs a stack of another Pulumi project (a team project such as examples/team-fraud) on the same
 * engine. Its StackReferences get `stackReferences` (by referenced stack name, see
 * {@link stackReferenceOutputs}); a reference to any other stack fails. Without config overrides, runs
 * with the same references are shared (see {@link RECORDINGS}).
 */
export async function runProject(
    root: string,
    stack: string,
    opts: { stackReferences?: Record<string, StackReferenceOutputs>; configOverrides?: Record<string, string | undefined> } = {},
): Promise<StackRun> {
    const run = async () => {
        setStackReferenceOutputs(opts.stackReferences ?? {});
        try {
            return await recordStack({ root, stack, load: vitestLoader, configOverrides: opts.configOverrides });
        } finally {
            setStackReferenceOutputs({});
        }
    };
    if (opts.configOverrides !== undefined) return new StackRun(await run());
    return new StackRun(await recordOnce(JSON.stringify([root, stack, opts.stackReferences ?? {}]), run));
}

/** A recorded stack's outputs as a StackReference to it sees them: the values, and which outputs hold secrets. */
export function stackReferenceOutputs(run: StackRun): StackReferenceOutputs {
    const wire = run.recording.outputs;
    return { outputs: run.outputs(), secretOutputNames: Object.keys(wire).filter((k) => secretPaths(wire[k]).length > 0) };
}

/** Queries over one recorded run. */
export class StackRun {
    constructor(readonly recording: StackRecording) {}

    get resources(): RecordedResource[] {
        return this.recording.resources;
    }

    /** Resources of a type token, e.g. `aws:s3/bucket:Bucket`. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource of `type` (whose name ends with `nameSuffix`, if given); fails if not exactly one. */
    one(type: string, nameSuffix?: string): RecordedResource {
        const found = this.ofType(type).filter((r) => nameSuffix === undefined || r.name.endsWith(nameSuffix));
        if (found.length !== 1) {
            throw new Error(`expected one ${type}${nameSuffix ? ` named *${nameSuffix}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
        }
        return found[0];
    }

    /** Inputs with secrets revealed. */
    inputs<T = Record<string, any>>(r: RecordedResource): T {
        return reveal<T>(r.inputs);
    }

    /** Is the input property (top-level) a secret in wire form? */
    isSecretInput(r: RecordedResource, property: string): boolean {
        return isSecret(r.inputs[property]);
    }

    byUrn(urn: string): RecordedResource | undefined {
        return this.resources.find((r) => r.urn === urn);
    }

    /** Direct children of a resource. */
    children(parent: RecordedResource): RecordedResource[] {
        return this.resources.filter((r) => r.parent === parent.urn);
    }

    private objects?: readonly RenderedObject[];

    /** Every Kubernetes object the stack renders (frozen: extracted once, read by many tests). */
    k8s(): RenderedObject[] {
        this.objects ??= kubernetesObjects(this.resources).map((o) => ({ resource: o.resource, object: deepFreeze(o.object) }));
        return [...this.objects];
    }

    /** Kubernetes objects of a kind (optionally in a namespace). */
    k8sOfKind(kind: string, namespace?: string): KubernetesObject[] {
        return this.k8s()
            .map((o) => o.object)
            .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
    }

    /** The one Kubernetes object of a kind and name. */
    k8sObject(kind: string, name: string): KubernetesObject {
        const found = this.k8sOfKind(kind).filter((o) => o.metadata.name === name);
        if (found.length !== 1) throw new Error(`expected one ${kind} named ${name}, found ${found.length}`);
        return found[0];
    }

    /** Stack outputs with secrets revealed. */
    outputs(): Record<string, any> {
        return reveal(this.recording.outputs);
    }
}

/** `v` frozen to the leaves: code that changes it throws instead of changing what others read. */
export function deepFreeze<T>(v: T): T {
    if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
        Object.freeze(v);
        for (const e of Object.values(v)) deepFreeze(e);
    }
    return v;
}

/** Parses the IAM policy JSON of a resource input. */
export function policyOf(value: unknown): { Version: string; Statement: any[] } {
    const v = reveal(value);
    return typeof v === "string" ? JSON.parse(v) : (v as any);
}
