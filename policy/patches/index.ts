/**
 * The only place the policy packs change code they do not own. {@link installPackPatches} (called by
 * `servePack`, in a pack's own process) installs both patches on the copies of google-protobuf and the
 * analyzer protocol that @pulumi/policy loads:
 *
 * - `fastStruct.ts`: a resource's properties decoded straight from their wire bytes into the value
 *   google-protobuf would give, in one pass (about 10x faster than its message tree);
 * - `decodeOnce.ts`: CrossGuard decodes a resource's properties once per request instead of once per
 *   policy (each policy still gets its own copy).
 *
 * `targets.ts` lists every function they replace, wrap or rely on, with a fingerprint of its source in
 * the pinned packages: `test/patches.test.ts` fails when an upgrade of @pulumi/policy, @pulumi/pulumi or
 * google-protobuf changes one, so the patch is reviewed against the new code before it is trusted.
 */
import { decodePropertiesOnce } from "./decodeOnce";
import { decodeStructsFromWire } from "./fastStruct";

/** Installs every pack patch (idempotent); returns the function that undoes what this call installed. */
export function installPackPatches(): () => void {
    const undoWire = decodeStructsFromWire();
    const undoOnce = decodePropertiesOnce();
    return () => {
        undoOnce();
        undoWire();
    };
}
