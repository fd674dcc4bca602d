/**
 * Run by test/patches.test.ts in a fresh process (no patch installed, unlike a test worker that shares
 * its module cache with the patches' own tests): prints, for every patch target of the engine and the
 * packs, what the installed packages hold, and the installed versions the patches resolve.
 */
import * as fs from "fs";
import * as path from "path";
import { fingerprint } from "../../engine/patches/fingerprint";
import { ENGINE_PATCH_TARGETS } from "../../engine/patches/targets";
import { PACK_PATCH_TARGETS, packPackageDirs } from "../../policy/patches/targets";

const version = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
const describe = (get: () => unknown) => {
    try {
        const fn = get();
        return typeof fn === "function" ? { type: "function", arity: fn.length, sha256: fingerprint(fn) } : { type: typeof fn };
    } catch (err) {
        return { type: `error: ${(err as Error).message}` };
    }
};
const packDirs = packPackageDirs();
process.stdout.write(
    JSON.stringify({
        engine: {
            versions: { "@pulumi/pulumi": version(path.dirname(require.resolve("@pulumi/pulumi/package.json"))) },
            targets: Object.fromEntries(ENGINE_PATCH_TARGETS.map((t) => [t.id, describe(t.get)])),
        },
        pack: {
            versions: Object.fromEntries(Object.entries(packDirs).map(([p, d]) => [p, version(d)])),
            targets: Object.fromEntries(PACK_PATCH_TARGETS.map((t) => [t.id, describe(t.get)])),
        },
    }),
);
