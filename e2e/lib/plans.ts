/**
 * The Kubernetes objects of a platform stack and of the example team stack of the same environment, as
 * the offline plan records them (engine/plan.ts planStack; the team stack's StackReference answers with
 * the platform plan's outputs, as scripts/plan-all.sh does with --stack-reference). Secrets are
 * revealed: the objects go to a private test server only. No policy packs run here (plan:all runs them).
 */
import * as path from "path";
import { vi } from "vitest";
import type { RenderedObject } from "../../engine/kubernetes";
import { setStackReferenceOutputs } from "../../engine/mockState";
import { type Plan, planStack } from "../../engine/plan";
import type { KubeObject } from "./apiserver";

/** Root of the repository. */
export const ROOT = path.resolve(__dirname, "..", "..");
/** The example team project. */
export const TEAM_EXAMPLE = path.join(ROOT, "examples", "team-fraud");
/** The platform stack names the team stacks reference (`team-fraud:platformStack`). */
export const platformStackName = (env: string) => `acme/mlops/${env}`;

export interface StackObjects {
    /** `platform/<env>` or `team-fraud/<env>`. */
    readonly name: string;
    readonly plan: Plan;
    /** The objects, plain JSON (deep copies; secrets revealed). */
    readonly objects: KubeObject[];
}

/** Loads a program's entry afresh through vitest (as test/harness.ts does), so each plan re-runs it. */
export async function vitestLoader(entry: string): Promise<unknown> {
    vi.resetModules();
    return import(entry);
}

function plain(objects: readonly RenderedObject[]): KubeObject[] {
    return objects.map((o) => JSON.parse(JSON.stringify(o.object)) as KubeObject);
}

/** Plans the platform stack `env` and the example team stack of `env` against it (under vitest). */
export async function planPlatformAndTeam(env: string): Promise<{ platform: StackObjects; team: StackObjects }> {
    const load = vitestLoader;
    const platformPlan = await planStack({ root: ROOT, stack: env, policyPacks: [], policyTimeoutMs: 60_000, load });
    if (platformPlan.exitCode !== 0)
        throw new Error(`the plan of platform/${env} failed (exit ${platformPlan.exitCode}): ${JSON.stringify(platformPlan.schemaErrors.slice(0, 5))}`);
    setStackReferenceOutputs({ [platformStackName(env)]: { outputs: platformPlan.recording.outputs as Record<string, unknown> } });
    const teamPlan = await planStack({ root: TEAM_EXAMPLE, stack: env, policyPacks: [], policyTimeoutMs: 60_000, load }).finally(() =>
        setStackReferenceOutputs({}),
    );
    if (teamPlan.exitCode !== 0)
        throw new Error(`the plan of team-fraud/${env} failed (exit ${teamPlan.exitCode}): ${JSON.stringify(teamPlan.schemaErrors.slice(0, 5))}`);
    return {
        platform: { name: `platform/${env}`, plan: platformPlan, objects: plain(platformPlan.objects) },
        team: { name: `${teamPlan.project}/${env}`, plan: teamPlan, objects: plain(teamPlan.objects) },
    };
}
