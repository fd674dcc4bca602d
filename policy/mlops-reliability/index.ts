/**
 * Entry point of the mlops-reliability policy pack: `pulumi preview --policy-pack policy/mlops-reliability
 * --policy-pack-config policy/config/<stack>/mlops-reliability.json`. The policies are listed in ./policies.ts.
 */
import { servePack } from "../framework/serve";
import { pack } from "./policies";

servePack(pack);
