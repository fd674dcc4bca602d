/**
 * The one place a `PolicyPack` is constructed. Creating it starts the analyzer gRPC server and prints
 * its port (what `pulumi preview --policy-pack` waits for), so only a pack's index.ts calls this, never a
 * test: tests use the pack definitions (policies.ts) and the in-process runner.
 */
import { PolicyPack } from "@pulumi/policy";
import { installPackPatches } from "../patches";
import type { PackDefinition, PolicyOptions } from "./define";

/** Instantiates every policy of the pack: mandatory unless the stack's config file says otherwise. */
export function policyPackArgs(pack: PackDefinition, options: PolicyOptions<any> = {}) {
    return {
        description: pack.description,
        enforcementLevel: "mandatory" as const,
        policies: pack.policies.map((factory) => factory(options)),
    };
}

/** Serves `pack` as a Pulumi policy pack. */
export function servePack(pack: PackDefinition): PolicyPack {
    installPackPatches();
    return new PolicyPack(pack.name, policyPackArgs(pack));
}
