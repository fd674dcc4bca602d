/**
 * policy/patches/fastStruct.ts: a policy pack decodes a resource's properties straight from the wire, and
 * gets exactly the value google-protobuf (jspb) gives: generated values, hand-made wire forms jspb
 * accepts (unsorted and repeated keys, several kinds in one Value, unknown fields, missing parts), the
 * same error for a Value with no kind, a Struct that still behaves as a Struct everywhere else, and
 * CrossGuard's real Analyze handler reaching the same verdicts.
 */
import * as util from "util";
import fc from "fast-check";
import * as jspb from "google-protobuf";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePropertiesOnce } from "../policy/patches/decodeOnce";
import { decodeStructsFromWire, structToJavaScript } from "../policy/patches/fastStruct";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pb = require("@pulumi/pulumi/proto/analyzer_pb") as Record<string, any>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const grpcPb = require("@pulumi/pulumi/proto/analyzer_grpc_pb") as { AnalyzerService: { analyze: { requestDeserialize(b: Buffer): any } } };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const server = require("@pulumi/policy/server") as {
    makeAnalyzeRpcFun(
        pack: string,
        version: string,
        level: string,
        policies: unknown[],
    ): (call: unknown, cb: (err: unknown, res: any) => void) => Promise<void>;
};

/** Everything about a value that could differ: key order, -0, NaN, types (util.inspect shows them all). */
const shape = (v: unknown) => util.inspect(v, { depth: null, maxArrayLength: null, maxStringLength: null, breakLength: Infinity });

/** jspb's own decoding of a Struct's bytes (the wire decoding is not installed while this runs). */
function jspbValue(bytes: Uint8Array): unknown {
    const struct = Struct.deserializeBinary(bytes);
    if (Object.getOwnPropertySymbols(struct).length) throw new Error("jspbValue: the wire decoding is installed");
    return struct.toJavaScript();
}

// Wire-format builders for forms Struct.fromJavaScript never writes.
const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 0x80) {
        out.push((n & 0x7f) | 0x80);
        n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
};
const delimited = (field: number, payload: number[]) => [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
const str = (field: number, s: string) => delimited(field, [...Buffer.from(s, "utf8")]);
const num = (x: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(x);
    return [(2 << 3) | 1, ...b];
};
const bool = (x: boolean) => [(4 << 3) | 0, x ? 1 : 0];
const nul = () => [(1 << 3) | 0, 0];
const entry = (key: string | undefined, value: number[] | undefined) =>
    delimited(1, [...(key === undefined ? [] : str(1, key)), ...(value === undefined ? [] : delimited(2, value))]);
const structValue = (...entries: number[][]) => delimited(5, entries.flat());
const listValue = (...values: number[][]) =>
    delimited(
        6,
        values.flatMap((v) => delimited(1, v)),
    );

describe("structToJavaScript", () => {
    const key = fc.oneof(fc.string(), fc.constantFrom("0", "10", "2", "-1", "a.b/c", "__proto__x", "é", "😀", ""));
    const leaf = fc.oneof(
        fc.constant(null),
        fc.boolean(),
        fc.double(),
        fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 2 ** 64, 5e-324),
        fc.string({ unit: "grapheme", maxLength: 12 }),
        fc.string({ maxLength: 300 }),
    );
    const value = fc.letrec((tie) => ({
        value: fc.oneof({ depthSize: "small" }, leaf, tie("object"), tie("array")),
        object: fc.dictionary(key, tie("value"), { maxKeys: 6 }),
        array: fc.array(tie("value"), { maxLength: 5 }),
    }));

    it("gives exactly jspb's value for generated properties", () => {
        fc.assert(
            fc.property(fc.dictionary(key, value.value, { maxKeys: 8 }), (props) => {
                const bytes = Struct.fromJavaScript(props as any).serializeBinary();
                expect(shape(structToJavaScript(bytes))).toBe(shape(jspbValue(bytes)));
            }),
            { numRuns: 500, seed: 20261122 },
        );
    });

    it("gives jspb's value for wire forms Struct.fromJavaScript never writes", () => {
        const forms: Record<string, number[]> = {
            "unsorted keys": [...entry("b", num(1)), ...entry("a", num(2)), ...entry("10", num(3)), ...entry("9", num(4))],
            "a repeated key (the last wins)": [...entry("a", num(1)), ...entry("b", bool(true)), ...entry("a", str(3, "last"))],
            "two kinds in one Value (the last wins)": [...entry("a", [...num(1), ...str(3, "s")]), ...entry("b", [...str(3, "s"), ...nul()])],
            "unknown fields everywhere": [...str(9, "x"), ...entry("a", [...str(7, "skip"), ...num(4), (8 << 3) | 0, 150, 1]), ...[(3 << 3) | 5, 1, 2, 3, 4]],
            "a missing key": [...entry(undefined, num(1))],
            "nested structs and lists": [
                ...entry("s", structValue(entry("z", listValue(num(1), nul(), structValue(entry("y", bool(false)), entry("x", str(3, "é😀"))))))),
            ],
            "an empty string, list and struct": [...entry("e", str(3, "")), ...entry("l", listValue()), ...entry("o", structValue())],
        };
        for (const [what, wire] of Object.entries(forms)) {
            const bytes = Uint8Array.from(wire);
            expect(shape(structToJavaScript(bytes)), what).toBe(shape(jspbValue(bytes)));
        }
    });

    it("throws jspb's error for a Value with no kind", () => {
        for (const wire of [entry("a", []), entry("a", undefined), entry("l", listValue([]))]) {
            const bytes = Uint8Array.from(wire);
            expect(() => jspbValue(bytes)).toThrow("Unexpected struct type");
            expect(() => structToJavaScript(bytes)).toThrow("Unexpected struct type");
        }
    });

    it("reports truncated data instead of reading past it", () => {
        const whole = entry("a", str(3, "hello"));
        expect(() => structToJavaScript(Uint8Array.from(whole.slice(0, -2)))).toThrow(/malformed/);
    });
});

describe("decodeStructsFromWire", () => {
    let undo: () => void;
    beforeAll(() => {
        undo = decodeStructsFromWire();
    });
    afterAll(() => undo());

    const PROPS = {
        metadata: { name: "scorer", labels: { team: "fraud", b: "2", a: "1" } },
        spec: { replicas: 3, ports: [8080, 9090], paused: false, strategy: null },
    };
    const request = () => {
        const req = new pb.AnalyzeRequest();
        req.setType("kubernetes:apps/v1:Deployment");
        req.setUrn("urn:pulumi:prod::mlops::kubernetes:apps/v1:Deployment::scorer");
        req.setName("scorer");
        req.setProperties(Struct.fromJavaScript(PROPS as any));
        req.setOptions(new pb.AnalyzerResourceOptions());
        return Buffer.from(req.serializeBinary());
    };

    it("patches the Struct that @pulumi/policy's protocol messages decode, and keeps the entries undecoded until asked", () => {
        const req = grpcPb.AnalyzerService.analyze.requestDeserialize(request());
        const struct = req.getProperties();
        expect(Object.getOwnPropertySymbols(struct).map(String)).toContain("Symbol(mlops.policy.structEntries)");
        expect(struct.toJavaScript()).toEqual(PROPS);
    });

    it("leaves a Struct that behaves as an ordinary one: its map, re-serialisation and toObject", () => {
        const bytes = request();
        const req = pb.AnalyzeRequest.deserializeBinary(bytes);
        expect(Buffer.from(req.serializeBinary()).equals(bytes)).toBe(true);
        const again = pb.AnalyzeRequest.deserializeBinary(bytes);
        expect(again.getProperties().getFieldsMap().get("spec").getStructValue().getFieldsMap().get("replicas").getNumberValue()).toBe(3);
        expect(again.getProperties().toJavaScript()).toEqual(PROPS);
        expect(pb.AnalyzeRequest.deserializeBinary(bytes).toObject()).toEqual(pb.AnalyzeRequest.deserializeBinary(bytes).toObject());
    });

    it("merges into a Struct that already has entries the way jspb does", () => {
        const base = Struct.fromJavaScript({ a: 1, b: "keep" } as any);
        const more = Struct.fromJavaScript({ a: 2, c: true } as any).serializeBinary();
        Struct.deserializeBinaryFromReader(base, new jspb.BinaryReader(more));
        expect(base.toJavaScript()).toEqual({ a: 2, b: "keep", c: true });
    });

    it("is undone for new messages, and a Struct received before the undo still gives its value", () => {
        const before = pb.AnalyzeRequest.deserializeBinary(request()).getProperties();
        undo();
        try {
            const after = pb.AnalyzeRequest.deserializeBinary(request()).getProperties();
            expect(Object.getOwnPropertySymbols(after)).toEqual([]);
            expect(before.toJavaScript()).toEqual(PROPS);
            expect(after.toJavaScript()).toEqual(PROPS);
        } finally {
            undo = decodeStructsFromWire();
        }
    });

    it("gives CrossGuard's Analyze handler the same verdicts as jspb's decoding, with decodePropertiesOnce", async () => {
        const policies = [
            {
                name: "replicas",
                description: "replicas",
                enforcementLevel: "mandatory",
                validateResource: (args: { props: any }, report: (m: string) => void) => {
                    if (args.props.spec.replicas < 4) report(`${args.props.spec.replicas} replicas, labels ${JSON.stringify(args.props.metadata.labels)}`);
                    args.props.spec.replicas = 100;
                },
            },
            {
                name: "ports",
                description: "ports",
                enforcementLevel: "advisory",
                validateResource: (args: { props: any }, report: (m: string) => void) =>
                    report(`${args.props.spec.replicas} replicas, ports ${args.props.spec.ports.join(",")}`),
            },
        ];
        const verdicts = async () => {
            const rpc = server.makeAnalyzeRpcFun("pack", "1.0.0", "mandatory", policies);
            const req = grpcPb.AnalyzerService.analyze.requestDeserialize(request());
            return new Promise<string[]>((resolve, reject) =>
                rpc({ request: req }, (err, res) =>
                    err ? reject(err) : resolve(res.getDiagnosticsList().map((d: any) => `${d.getPolicyname()}|${d.getEnforcementlevel()}|${d.getMessage()}`)),
                ),
            );
        };
        const restoreMemo = decodePropertiesOnce();
        const fast = await verdicts();
        restoreMemo();
        undo();
        const plain = await verdicts();
        undo = decodeStructsFromWire();
        expect(fast).toEqual(plain);
        // Enforcement levels on the wire: 0 advisory, 1 mandatory. The second policy sees 3 replicas: the
        // first one's mutation stayed in its own copy.
        expect(fast).toEqual([`replicas|1|replicas\n3 replicas, labels {"a":"1","b":"2","team":"fraud"}`, "ports|0|ports\n3 replicas, ports 8080,9090"]);
    });
});
