/**
 * The offline plans the suites run from: the platform program (engine/plan.ts planStack, the same plan
 * `npm run plan` makes, without the policy packs) for a stack, and the example team project planned
 * against that platform plan's outputs. Objects come with secrets revealed: the recording engine's
 * generated values (deterministic per resource name) are the test's secret values.
 */
import * as path from "path";
import type { KubernetesObject } from "../../engine/kubernetes";
import { setStackReferenceOutputs } from "../../engine/mockState";
import { planStack, type Plan } from "../../engine/plan";
import { reveal } from "../../engine/values";
import { ROOT, StackRun, stackReferenceOutputs, vitestLoader } from "../../test/harness";

export type StackName = "dev" | "test" | "prod";
export const EXAMPLE_TEAM_ROOT = path.join(ROOT, "examples", "team-fraud");

const base = { policyPacks: [], policyTimeoutMs: 30_000, load: vitestLoader };

/** The platform's plan of a stack; fails on schema errors (what is run must be valid Kubernetes). */
export async function planPlatform(stack: StackName): Promise<Plan> {
    const plan = await planStack({ ...base, root: ROOT, stack });
    if (plan.schemaErrors.length > 0) throw new Error(`plan ${stack}: ${plan.schemaErrors.length} schema errors`);
    return plan;
}

/** The example team's plan of a stack, with its StackReference answered by the platform plan's outputs. */
export async function planExampleTeam(stack: StackName, platform: Plan, configOverrides?: Record<string, string>): Promise<Plan> {
    setStackReferenceOutputs({ [`acme/mlops/${stack}`]: stackReferenceOutputs(new StackRun(platform.recording)) });
    try {
        return await planStack({ ...base, root: EXAMPLE_TEAM_ROOT, stack, configOverrides });
    } finally {
        setStackReferenceOutputs({});
    }
}

/** The platform plan's stack outputs, secrets revealed. */
export function planOutputs(plan: Plan): Record<string, any> {
    return reveal(plan.recording.outputs) as Record<string, any>;
}

/** Kubernetes objects of a plan. */
export function objectsOf(plan: Plan): KubernetesObject[] {
    return plan.objects.map((o) => o.object);
}

/** The one object of a kind whose name matches (a string is an exact name). */
export function findObject(plan: Plan, kind: string, name: string | RegExp, namespace?: string): any {
    const found = objectsOf(plan).filter(
        (o) =>
            o.kind === kind &&
            (typeof name === "string" ? o.metadata.name === name : name.test(o.metadata.name ?? "")) &&
            (namespace === undefined || o.metadata.namespace === namespace),
    );
    if (found.length !== 1) throw new Error(`expected one ${kind} ${String(name)}, found ${found.length}`);
    return found[0];
}

/** Revealed inputs of the one resource of a type whose name ends with `suffix`. */
export function resourceInputs(plan: Plan, type: string, suffix: string): Record<string, any> {
    const found = plan.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
    if (found.length !== 1) throw new Error(`expected one ${type} *${suffix}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    return reveal(found[0].inputs) as Record<string, any>;
}
