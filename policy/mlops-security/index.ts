/**
 * Entry point of the mlops-security policy pack: `pulumi preview --policy-pack policy/mlops-security
 * --policy-pack-config policy/config/<stack>/mlops-security.json`. The policies are listed in ./policies.ts.
 */
import { servePack } from "../framework/serve";
import { pack } from "./policies";

servePack(pack);
