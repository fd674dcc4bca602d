/**
 * All packs of the platform, their config files and the generated docs: what tests, the docs script
 * and the integrator's tooling use. (A pack's own index.ts serves just that pack.)
 */
import { pack as governance } from "./mlops-governance/policies";
import { pack as reliability } from "./mlops-reliability/policies";
import { pack as security } from "./mlops-security/policies";
import { environmentOfStack } from "./framework/context";
import { readPackConfig } from "./framework/configFiles";
import type { PackDefinition } from "./framework/define";
import { renderPolicyDocs } from "./reports/docs";

export const PACKS: readonly PackDefinition[] = [governance, security, reliability];

/** The stacks the platform deploys, in the order the docs show them. */
export const STACKS = ["dev", "test", "prod"] as const;

/** docs/policies.md as it should be. */
export function policyDocs(): string {
    return renderPolicyDocs({ packs: PACKS, stacks: STACKS, config: (stack, pack) => readPackConfig(stack, pack), environmentOf: environmentOfStack });
}
