/**
 * What policy/patches/ replaces, wraps or relies on in @pulumi/policy, @pulumi/pulumi's analyzer protocol
 * and google-protobuf, looked up in the module instances the patches change (those @pulumi/policy loads),
 * each fingerprinted in the pinned versions (test/patches.test.ts fails when an upgrade changes one).
 */
import * as path from "path";
import type { PatchTarget } from "../../engine/patches/fingerprint";
import { analyzerMessages } from "./decodeOnce";
import { policyProtobuf } from "./fastStruct";

/** The versions the patches were reviewed against, as @pulumi/policy resolves them (its package.json says `v1.21.0`). */
export const REVIEWED_VERSIONS: Readonly<Record<string, string>> = { "@pulumi/policy": "v1.21.0", "@pulumi/pulumi": "3.248.0", "google-protobuf": "3.21.4" };

/** The directory of each package as the pack's @pulumi/policy resolves it. */
export function packPackageDirs(): Record<string, string> {
    const policy = path.dirname(require.resolve("@pulumi/policy/package.json"));
    const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [policy] }));
    const protobuf = path.dirname(require.resolve("google-protobuf/package.json", { paths: [sdk] }));
    return { "@pulumi/policy": policy, "@pulumi/pulumi": sdk, "google-protobuf": protobuf };
}

const struct = () => policyProtobuf().Struct as unknown as Record<string, any> & { prototype: Record<string, any> };
const reader = () => (policyProtobuf().jspb as unknown as { BinaryReader: { prototype: Record<string, any> } }).BinaryReader.prototype;
const message = (name: string) => (analyzerMessages()[name] as unknown as { prototype: Record<string, any> }).prototype;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the copy of @pulumi/policy the packs load, by path
const crossGuard = (module: string) => require(path.join(packPackageDirs()["@pulumi/policy"], module)) as Record<string, any>;

export const PACK_PATCH_TARGETS: readonly PatchTarget[] = [
    // fastStruct.ts
    {
        id: "google-protobuf struct_pb Struct.deserializeBinaryFromReader",
        use: "replaced",
        pkg: "google-protobuf",
        get: () => struct().deserializeBinaryFromReader,
        arity: 2,
        sha256: "35874b969ae31f9d",
    },
    {
        id: "google-protobuf struct_pb Struct.prototype.toJavaScript",
        use: "wrapped",
        pkg: "google-protobuf",
        get: () => struct().prototype.toJavaScript,
        arity: 0,
        sha256: "030224937e0bfef7",
    },
    {
        id: "google-protobuf struct_pb Struct.prototype.getFieldsMap",
        use: "wrapped",
        pkg: "google-protobuf",
        get: () => struct().prototype.getFieldsMap,
        arity: 1,
        sha256: "ac68b0dc302a96e2",
    },
    ...(
        [
            ["nextField", "681e72aa14e0dd6d"],
            ["isEndGroup", "c11ffac8b5455755"],
            ["getFieldNumber", "8a986c266a60ba23"],
            ["getWireType", "db485eed9be242c4"],
            ["readBytes", "9034b08d255c4cdb"],
            ["skipField", "8ecb82ce5e502d1f"],
        ] as const
    ).map(([fn, sha256]): PatchTarget => ({
        id: `google-protobuf BinaryReader.prototype.${fn}`,
        use: "relied on",
        pkg: "google-protobuf",
        get: () => reader()[fn],
        arity: 0,
        sha256,
    })),
    // decodeOnce.ts (the three messages share jspb's generated getter).
    ...["AnalyzeRequest", "AnalyzerResource", "AnalyzerProviderResource"].map((name): PatchTarget => ({
        id: `@pulumi/pulumi proto/analyzer_pb ${name}.prototype.getProperties`,
        use: "wrapped",
        pkg: "@pulumi/pulumi",
        get: () => message(name).getProperties,
        arity: 0,
        sha256: "bd67459878f80666",
    })),
    // CrossGuard's handlers decode the properties per policy through getProperties(); deserializeProperties copies, never mutates.
    ...(
        [
            ["makeAnalyzeRpcFun", "68c43c89d224996a"],
            ["makeAnalyzeStackRpcFun", "aeeca4fd53aa9f9b"],
            ["makeRemediateRpcFun", "6f1a9a846125c6c4"],
        ] as const
    ).map(([fn, sha256]): PatchTarget => ({
        id: `@pulumi/policy server ${fn}`,
        use: "relied on",
        pkg: "@pulumi/policy",
        get: () => crossGuard("server")[fn],
        arity: 4,
        sha256,
    })),
    {
        id: "@pulumi/policy deserialize deserializeProperties",
        use: "relied on",
        pkg: "@pulumi/policy",
        get: () => crossGuard("deserialize").deserializeProperties,
        arity: 2,
        sha256: "36723e6ba8a2cd2f",
    },
];
