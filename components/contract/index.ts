/**
 * The contract between the components and the policy packs, and between the platform stack and the
 * team library: names, label and annotation keys, tag keys, the model URI and approval formats. Written
 * once here and imported by both sides, so they cannot drift apart.
 *
 * Dependency-free on purpose (no @pulumi/*, no Node built-ins, no other module of components/): a
 * policy pack, the team library and the platform program all load it without loading each other.
 * test/contract.test.ts guards that, and checks that the policies accept what the components render.
 */
export * from "./approval";
export * from "./environments";
export * from "./featureStore";
export * from "./gpu";
export * from "./imageReference";
export * from "./labels";
export * from "./modelRegistry";
export * from "./names";
export * from "./rollout";
export * from "./stackConfig";
export * from "./modelApprovals";
export * from "./training";
