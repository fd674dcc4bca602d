/**
 * The SDK patches (engine/patches/, policy/patches/): each module installs its patches with one call and
 * undoes them; every function they replace, wrap or rely on is pinned (existence, arity, a fingerprint of
 * its source) to the versions they were reviewed against. An upgrade of @pulumi/pulumi, @pulumi/policy or
 * google-protobuf that changes any of them fails here, naming the function: review the patch against the
 * new code (its behaviour tests: test/policy.fastStruct.test.ts, test/policy.decodeOnce.test.ts,
 * test/recorder.test.ts), then record the new version and fingerprint in the targets file.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { installRecordingPatches } from "../engine/patches";
import { fingerprint, type PatchTarget } from "../engine/patches/fingerprint";
import { ENGINE_PATCH_TARGETS, REVIEWED_VERSIONS as ENGINE_VERSIONS } from "../engine/patches/targets";
import { installPackPatches } from "../policy/patches";
import { PACK_PATCH_TARGETS, REVIEWED_VERSIONS as PACK_VERSIONS } from "../policy/patches/targets";
import { ROOT } from "./harness";

interface Installed {
    versions: Record<string, string>;
    targets: Record<string, { type: string; arity?: number; sha256?: string }>;
}

/** What the installed packages hold, read by a fresh process where nothing is patched. */
const installed = JSON.parse(
    execFileSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test", "patches", "installed.ts")], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
    }),
) as {
    engine: Installed;
    pack: Installed;
};

const cases: [string, string, readonly PatchTarget[], Record<string, string>, Installed][] = [
    ["engine/patches", "engine/patches/targets.ts", ENGINE_PATCH_TARGETS, ENGINE_VERSIONS, installed.engine],
    ["policy/patches", "policy/patches/targets.ts", PACK_PATCH_TARGETS, PACK_VERSIONS, installed.pack],
];

describe.each(cases)("%s", (_name, file, targets, reviewed, now) => {
    it("were reviewed against the installed versions", () => {
        for (const [pkg, version] of Object.entries(reviewed))
            expect(`${pkg}@${now.versions[pkg]}`, `${pkg} was upgraded: review the patches against it, then update REVIEWED_VERSIONS in ${file}`).toBe(
                `${pkg}@${version}`,
            );
        for (const t of targets) expect(Object.keys(reviewed)).toContain(t.pkg);
    });

    it.each(targets.map((t) => [t.id, t] as const))("%s: still there, same arity, same source", (id, t) => {
        const found = now.targets[id];
        expect(found.type, `${id} is gone from the installed ${t.pkg}`).toBe("function");
        expect(
            { arity: found.arity, sha256: found.sha256 },
            `${id} changed in ${t.pkg}@${now.versions[t.pkg]}: review the patch against it, then record its arity and fingerprint in ${file}`,
        ).toEqual({
            arity: t.arity,
            sha256: t.sha256,
        });
    });
});

describe("installing them", () => {
    it("installRecordingPatches replaces exactly the engine's replaced targets, and restores them", () => {
        const replaced = ENGINE_PATCH_TARGETS.filter((t) => t.use !== "relied on");
        const before = ENGINE_PATCH_TARGETS.map((t) => t.get());
        const logs: { severity: string; message: string }[] = [];
        const restore = installRecordingPatches(logs);
        try {
            for (const [i, t] of ENGINE_PATCH_TARGETS.entries()) expect(t.get() !== before[i], t.id).toBe(replaced.includes(t));
        } finally {
            restore();
        }
        for (const [i, t] of ENGINE_PATCH_TARGETS.entries()) expect(t.get(), t.id).toBe(before[i]);
    });

    it("installPackPatches patches the packs' replaced and wrapped targets, and undoes the replacements", () => {
        const before = PACK_PATCH_TARGETS.map((t) => t.get());
        const undo = installPackPatches();
        try {
            for (const t of PACK_PATCH_TARGETS.filter((t) => t.use !== "relied on")) expect(fingerprint(t.get()), `${t.id} is patched`).not.toBe(t.sha256);
            for (const t of PACK_PATCH_TARGETS.filter((t) => t.use === "relied on")) expect(fingerprint(t.get()), `${t.id} is left alone`).toBe(t.sha256);
        } finally {
            undo();
        }
        // jspb's decoding and the analyzer getters come back; toJavaScript/getFieldsMap stay wrapped by design (fastStruct.ts).
        for (const [i, t] of PACK_PATCH_TARGETS.entries()) if (t.use === "replaced" || t.id.includes("analyzer_pb")) expect(t.get(), t.id).toBe(before[i]);
    });
});
