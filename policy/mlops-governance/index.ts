/**
 * Entry point of the mlops-governance policy pack: `pulumi preview --policy-pack policy/mlops-governance
 * --policy-pack-config policy/config/<stack>/mlops-governance.json`. The policies are listed in ./policies.ts.
 */
import { servePack } from "../framework/serve";
import { pack } from "./policies";

servePack(pack);
