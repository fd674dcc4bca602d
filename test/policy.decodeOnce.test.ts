/**
 * policy/patches/decodeOnce.ts: the packs decode a resource's properties once per request instead of once
 * per policy, and CrossGuard's Analyze/AnalyzeStack handlers still give every policy its own, correct
 * copy. Runs CrossGuard's real handlers in process on real protocol messages.
 */
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePropertiesOnce, memoiseToJavaScript } from "../policy/patches/decodeOnce";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const server = require("@pulumi/policy/server") as {
    makeAnalyzeRpcFun(
        pack: string,
        version: string,
        level: string,
        policies: unknown[],
    ): (call: unknown, cb: (err: unknown, res: any) => void) => Promise<void>;
    makeAnalyzeStackRpcFun(
        pack: string,
        version: string,
        level: string,
        policies: unknown[],
    ): (call: unknown, cb: (err: unknown, res: any) => void) => Promise<void>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pb = require("@pulumi/pulumi/proto/analyzer_pb") as Record<string, any>;

const PROPS = { spec: { replicas: 2, template: { containers: [{ name: "scorer", image: "x@sha256:1" }] } }, tags: { owner: "fraud" } };
const TYPE = "kubernetes:apps/v1:Deployment";

function analyzeRequest(urn: string, props: Record<string, unknown>) {
    const req = new pb.AnalyzeRequest();
    req.setType(TYPE);
    req.setUrn(urn);
    req.setName(urn.split("::").pop());
    req.setProperties(Struct.fromJavaScript(props as any));
    req.setOptions(new pb.AnalyzerResourceOptions());
    // Through the wire, as the pack receives it.
    return pb.AnalyzeRequest.deserializeBinary(req.serializeBinary());
}

/** Counts top-level decodes (Struct.prototype.toJavaScript, not its recursion into nested Structs) while `fn` runs. */
async function countDecodes(fn: () => Promise<unknown>): Promise<number> {
    const original = Struct.prototype.toJavaScript;
    let n = 0;
    let depth = 0;
    Struct.prototype.toJavaScript = function (this: Struct) {
        if (depth === 0) n++;
        depth++;
        try {
            return original.call(this);
        } finally {
            depth--;
        }
    };
    try {
        await fn();
    } finally {
        Struct.prototype.toJavaScript = original;
    }
    return n;
}

/** Three policies over the same type: two read, one mutates its props (must not leak into the others). */
function policies(seen: unknown[]) {
    const read = (name: string) => ({
        name,
        description: name,
        enforcementLevel: "mandatory",
        validateResource: (args: { props: any }, report: (m: string) => void) => {
            seen.push(JSON.parse(JSON.stringify(args.props)));
            if (args.props.spec.replicas < 3) report(`${name}: ${args.props.spec.replicas} replicas`);
        },
    });
    const mutate = {
        name: "mutates",
        description: "mutates",
        enforcementLevel: "advisory",
        validateResource: (args: { props: any }) => {
            args.props.spec.replicas = 99;
            delete args.props.tags;
        },
    };
    return [read("first"), mutate, read("second")];
}

async function analyze(req: unknown, seen: unknown[]) {
    const rpc = server.makeAnalyzeRpcFun("pack", "1.0.0", "mandatory", policies(seen));
    return new Promise<string[]>((resolve, reject) =>
        rpc({ request: req }, (err, res) => (err ? reject(err) : resolve(res.getDiagnosticsList().map((d: any) => `${d.getPolicyname()}|${d.getMessage()}`)))),
    );
}

describe("memoiseToJavaScript", () => {
    it("decodes once and returns the same value, which is what an undecorated Struct gives", () => {
        const s = Struct.fromJavaScript(PROPS as any);
        const plain = s.toJavaScript();
        memoiseToJavaScript(s);
        const a = s.toJavaScript();
        expect(a).toEqual(plain);
        expect(s.toJavaScript()).toBe(a);
        // A second install keeps the first memo.
        expect(memoiseToJavaScript(s).toJavaScript()).toBe(a);
    });
});

describe("CrossGuard's handlers with decodePropertiesOnce", () => {
    let restore: () => void;
    beforeAll(() => {
        restore = decodePropertiesOnce();
    });
    afterAll(() => restore());

    it("Analyze decodes a request's properties once for all policies, and every policy gets its own copy", async () => {
        const seen: unknown[] = [];
        let diagnostics: string[] = [];
        const decodes = await countDecodes(async () => {
            diagnostics = await analyze(analyzeRequest("urn:pulumi:s::p::t::a", PROPS), seen);
        });
        expect(decodes).toBe(1);
        // The mutating policy ran between the two readers; the second still sees the original props.
        expect(seen).toEqual([PROPS, PROPS]);
        // (CrossGuard prefixes each message with the policy's description.)
        expect(diagnostics).toEqual(["first|first\nfirst: 2 replicas", "second|second\nsecond: 2 replicas"]);
    });

    it("gives the same verdicts as CrossGuard without the memo, which decodes once per policy", async () => {
        restore();
        const seenPlain: unknown[] = [];
        let plain: string[] = [];
        const decodesPlain = await countDecodes(async () => {
            plain = await analyze(analyzeRequest("urn:pulumi:s::p::t::a", PROPS), seenPlain);
        });
        restore = decodePropertiesOnce();
        const seen: unknown[] = [];
        const memo = await analyze(analyzeRequest("urn:pulumi:s::p::t::a", PROPS), seen);
        expect(decodesPlain).toBe(3);
        expect(memo).toEqual(plain);
        expect(seen).toEqual(seenPlain);
    });

    it("AnalyzeStack decodes each resource once however many stack policies run", async () => {
        const resources = ["a", "b", "c"].map((n, i) => {
            const r = new pb.AnalyzerResource();
            r.setType(TYPE);
            r.setUrn(`urn:pulumi:s::p::${TYPE}::${n}`);
            r.setName(n);
            r.setProperties(Struct.fromJavaScript({ ...PROPS, spec: { ...PROPS.spec, replicas: i + 1 } } as any));
            r.setOptions(new pb.AnalyzerResourceOptions());
            return r;
        });
        const req = new pb.AnalyzeStackRequest();
        req.setResourcesList(resources);
        const wire = pb.AnalyzeStackRequest.deserializeBinary(req.serializeBinary());
        const stackPolicy = (name: string) => ({
            name,
            description: name,
            enforcementLevel: "mandatory",
            validateStack: (args: { resources: { name: string; props: any }[] }, report: (m: string) => void) => {
                for (const r of args.resources) if (r.props.spec.replicas < 2) report(`${name}: ${r.name}`);
                args.resources[0].props.spec.replicas = 50;
            },
        });
        const rpc = server.makeAnalyzeStackRpcFun("pack", "1.0.0", "mandatory", [stackPolicy("one"), stackPolicy("two")]);
        let diagnostics: string[] = [];
        const decodes = await countDecodes(
            () =>
                new Promise<void>((resolve, reject) =>
                    rpc({ request: wire }, (err, res) => {
                        if (err) return reject(err);
                        diagnostics = res.getDiagnosticsList().map((d: any) => d.getMessage());
                        resolve();
                    }),
                ),
        );
        expect(decodes).toBe(3);
        // "two" sees resource a's original props although "one" mutated them.
        expect(diagnostics).toEqual(["one\none: a", "two\ntwo: a"]);
    });

    it("is idempotent and reversible", () => {
        const get = pb.AnalyzeRequest.prototype.getProperties;
        const again = decodePropertiesOnce();
        expect(pb.AnalyzeRequest.prototype.getProperties).toBe(get);
        again();
        expect(pb.AnalyzeRequest.prototype.getProperties).toBe(get);
    });
});
