/**
 * Decode a resource's properties once per request, not once per policy.
 *
 * CrossGuard (@pulumi/policy 1.21) turns the `google.protobuf.Struct` of a resource's properties into
 * JavaScript for every policy it runs on the resource (`deserializeProperties(req.getProperties())`
 * in its Analyze, AnalyzeStack and provider handling), so a pack of P policies decodes each resource P
 * times; in AnalyzeStack each stack policy decodes every resource of the stack again. The Struct
 * decoding (`Struct.toJavaScript`) was most of a pack's analysis time.
 *
 * `decodePropertiesOnce()` makes the `getProperties()` of the analyzer's request messages return their
 * Struct with a memoised `toJavaScript`. Nothing else changes: CrossGuard still deserialises that plain
 * value into a fresh object for each policy (its `deserializeProperty` copies, never mutates), so a
 * policy that mutates its `props` cannot affect another. Other Structs (Configure's policy config,
 * which CrossGuard mutates after decoding) are left alone. Requests are immutable once received, so the
 * memo cannot go stale; it lives on the message and is collected with it.
 */
import * as path from "path";

interface StructLike {
    toJavaScript(): Record<string, unknown>;
}

interface MessageClass {
    prototype: { getProperties(): StructLike | undefined };
}

const PATCHED = Symbol.for("mlops.policy.decodePropertiesOnce");

/** The analyzer messages whose properties CrossGuard decodes per policy. */
const MESSAGES = ["AnalyzeRequest", "AnalyzerResource", "AnalyzerProviderResource"] as const;

/** Memoises `toJavaScript` on one Struct instance. */
export function memoiseToJavaScript<S extends StructLike>(struct: S): S {
    if (Object.prototype.hasOwnProperty.call(struct, "toJavaScript")) return struct;
    const decode = struct.toJavaScript;
    let decoded: Record<string, unknown> | undefined;
    Object.defineProperty(struct, "toJavaScript", {
        value: () => (decoded ??= decode.call(struct)),
        enumerable: false,
    });
    return struct;
}

/**
 * The analyzer protobuf module the installed @pulumi/policy uses (resolved from its own location, so the
 * patch reaches the same module instance its server does).
 */
export function analyzerMessages(): Record<string, MessageClass> {
    const policyDir = path.dirname(require.resolve("@pulumi/policy/package.json"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the copy resolved from @pulumi/policy's own location
    return require(require.resolve("@pulumi/pulumi/proto/analyzer_pb", { paths: [policyDir] })) as Record<string, MessageClass>;
}

/**
 * Installs the memo on the analyzer's request messages (idempotent: messages already patched are
 * skipped). Returns a function that restores what this call patched.
 */
export function decodePropertiesOnce(messages: Record<string, MessageClass> = analyzerMessages()): () => void {
    const restore: (() => void)[] = [];
    for (const name of MESSAGES) {
        const cls = messages[name];
        if (!cls) throw new Error(`decodePropertiesOnce: @pulumi/pulumi's analyzer protocol has no ${name} message`);
        const proto = cls.prototype as MessageClass["prototype"] & { [PATCHED]?: true };
        if (proto[PATCHED]) continue;
        const get = proto.getProperties;
        proto.getProperties = function (this: unknown) {
            const struct = get.call(this);
            return struct && memoiseToJavaScript(struct);
        };
        proto[PATCHED] = true;
        restore.push(() => {
            proto.getProperties = get;
            delete proto[PATCHED];
        });
    }
    return () => restore.forEach((r) => r());
}
