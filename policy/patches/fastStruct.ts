/**
 * Decode `google.protobuf.Struct`s straight from their wire bytes in a policy pack's process.
 *
 * Every Analyze request carries a resource's properties, and AnalyzeStack every resource's, as a Struct.
 * google-protobuf (jspb) decodes a Struct into a message tree (a map of `Value` messages, each a
 * message of its own, lists of them...) which CrossGuard then turns into JavaScript with
 * `toJavaScript()`: two passes and an object per value. In a profile of a pack analysing 1,000
 * Kubernetes resources that was about a third of the pack's analysis time.
 *
 * `decodeStructsFromWire()` makes jspb keep a Struct's entries as the bytes they arrived in (no copy:
 * views into the request's buffer) and makes `toJavaScript()` decode those bytes directly into the
 * plain value, in one pass. The value is exactly what jspb gives (`test/policy.fastStruct.test.ts`
 * compares them on generated values and on hand-made wire forms): keys in jspb's order (sorted), the
 * last of repeated keys, the last of several kinds in one `Value`, and the same "Unexpected struct type"
 * error for a `Value` with none. Anything else that reads the Struct (`getFieldsMap()`, and through it
 * serialisation and `toObject()`) first gets the entries decoded the ordinary jspb way, so the message
 * behaves as an ordinary Struct wherever it is used.
 *
 * The patch is on the google-protobuf module that @pulumi/policy's copy of @pulumi/pulumi loads, in the
 * pack's own process only (`servePack` installs it); the returned function undoes it.
 */
import * as path from "path";

/** The parts of jspb's reader the Struct deserialiser uses (all public API). */
interface BinaryReader {
    nextField(): boolean;
    isEndGroup(): boolean;
    getFieldNumber(): number;
    getWireType(): number;
    readBytes(): Uint8Array;
    skipField(): void;
}

interface StructMessage {
    toJavaScript(): Record<string, unknown>;
    getFieldsMap(noLazyCreate?: boolean): unknown;
}

interface StructClass {
    new (): StructMessage;
    prototype: StructMessage;
    deserializeBinaryFromReader(msg: StructMessage, reader: BinaryReader): StructMessage;
}

interface JspbModule {
    BinaryReader: new (bytes: Uint8Array) => BinaryReader;
}

const WIRE = { VARINT: 0, FIXED64: 1, DELIMITED: 2, START_GROUP: 3, END_GROUP: 4, FIXED32: 5 } as const;

/** The entries of a Struct not yet decoded: each the bytes of one `FieldsEntry` message (key, value). */
const RAW = Symbol("mlops.policy.structEntries");
const PATCHED = Symbol.for("mlops.policy.decodeStructsFromWire");

type Pending = StructMessage & { [RAW]?: Uint8Array[] };

// ------------------------------------------------------------------------------------------------
// The decoder: protobuf wire format (https://protobuf.dev/programming-guides/encoding/) of struct.proto.
// One decode at a time (synchronous), so the cursor is module state.
// ------------------------------------------------------------------------------------------------

let buf: Buffer = Buffer.alloc(0);
let pos = 0;

function malformed(what: string): Error {
    return new Error(`google.protobuf.Struct: malformed wire data (${what})`);
}

/** A varint as a number; exact up to 2^53, which covers every length, tag, bool and enum. */
function varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
        if (pos >= buf.length) throw malformed("truncated varint");
        const b = buf[pos++];
        result += (b & 0x7f) * shift;
        if (b < 0x80) return result;
        shift *= 128;
    }
    throw malformed("varint longer than 10 bytes");
}

/** The end of a length-delimited field starting at the cursor (the cursor moves past the length). */
function delimitedEnd(end: number): number {
    const len = varint();
    const stop = pos + len;
    if (stop > end) throw malformed("length past the end of its message");
    return stop;
}

function skip(wireType: number, end: number): void {
    switch (wireType) {
        case WIRE.VARINT:
            varint();
            return;
        case WIRE.FIXED64:
            pos += 8;
            break;
        case WIRE.DELIMITED:
            pos = delimitedEnd(end);
            return;
        case WIRE.FIXED32:
            pos += 4;
            break;
        default:
            // Groups are not part of proto3; jspb cannot skip them in a Struct either.
            throw malformed(`wire type ${wireType}`);
    }
    if (pos > end) throw malformed("fixed-size field past the end of its message");
}

function utf8(end: number): string {
    const stop = delimitedEnd(end);
    const s = buf.toString("utf8", pos, stop);
    pos = stop;
    return s;
}

/** No kind was set: `Value.toJavaScript()` throws exactly this. */
const NOT_SET = Symbol("not set");

/** A `google.protobuf.Value` in [pos, end). The last kind written wins, as in jspb's oneof. */
function value(end: number): unknown {
    let v: unknown = NOT_SET;
    while (pos < end) {
        const tag = varint();
        const wireType = tag & 7;
        switch (tag >>> 3) {
            case 1: // null_value
                if (wireType !== WIRE.VARINT) break;
                varint();
                v = null;
                continue;
            case 2: // number_value
                if (wireType !== WIRE.FIXED64) break;
                if (pos + 8 > end) throw malformed("double past the end of its message");
                v = buf.readDoubleLE(pos);
                pos += 8;
                continue;
            case 3: // string_value
                if (wireType !== WIRE.DELIMITED) break;
                v = utf8(end);
                continue;
            case 4: // bool_value
                if (wireType !== WIRE.VARINT) break;
                v = varint() !== 0;
                continue;
            case 5: // struct_value
                if (wireType !== WIRE.DELIMITED) break;
                v = struct(delimitedEnd(end));
                continue;
            case 6: // list_value
                if (wireType !== WIRE.DELIMITED) break;
                v = list(delimitedEnd(end));
                continue;
        }
        skip(wireType, end);
    }
    if (v === NOT_SET) throw new Error("Unexpected struct type");
    return v;
}

function list(end: number): unknown[] {
    const out: unknown[] = [];
    while (pos < end) {
        const tag = varint();
        if (tag === ((1 << 3) | WIRE.DELIMITED)) out.push(value(delimitedEnd(end)));
        else skip(tag & 7, end);
    }
    return out;
}

/**
 * One `FieldsEntry` in [pos, end) into keys/values. A missing key is "", a missing value a `Value`
 * with no kind (jspb's defaults for a map entry).
 */
function entry(end: number, keys: string[], values: unknown[]): void {
    let key = "";
    let v: unknown = NOT_SET;
    while (pos < end) {
        const tag = varint();
        if (tag === ((1 << 3) | WIRE.DELIMITED)) key = utf8(end);
        else if (tag === ((2 << 3) | WIRE.DELIMITED)) v = value(delimitedEnd(end));
        else skip(tag & 7, end);
    }
    if (v === NOT_SET) throw new Error("Unexpected struct type");
    keys.push(key);
    values.push(v);
}

/**
 * The object of decoded entries, as jspb's `Struct.toJavaScript()` builds it: the entries of a map in
 * sorted key order (jspb's `Map.forEach` sorts), the last value of a repeated key.
 */
function object(keys: string[], values: unknown[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let sorted = true;
    for (let i = 1; i < keys.length; i++) {
        if (keys[i - 1] >= keys[i]) {
            sorted = false;
            break;
        }
    }
    if (sorted) {
        for (let i = 0; i < keys.length; i++) out[keys[i]] = values[i];
        return out;
    }
    const last = new Map<string, unknown>();
    for (let i = 0; i < keys.length; i++) last.set(keys[i], values[i]);
    for (const k of [...last.keys()].sort()) out[k] = last.get(k);
    return out;
}

function struct(end: number): Record<string, unknown> {
    const keys: string[] = [];
    const values: unknown[] = [];
    while (pos < end) {
        const tag = varint();
        if (tag === ((1 << 3) | WIRE.DELIMITED)) entry(delimitedEnd(end), keys, values);
        else skip(tag & 7, end);
    }
    return object(keys, values);
}

function view(bytes: Uint8Array): Buffer {
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A whole Struct message's bytes as the plain value jspb's `Struct.toJavaScript()` gives. */
export function structToJavaScript(bytes: Uint8Array): Record<string, unknown> {
    buf = view(bytes);
    pos = 0;
    try {
        return struct(buf.length);
    } finally {
        buf = Buffer.alloc(0);
    }
}

/** The entries of a Struct kept as bytes (each one `FieldsEntry` message) as the plain value. */
export function entriesToJavaScript(entries: readonly Uint8Array[]): Record<string, unknown> {
    const keys: string[] = [];
    const values: unknown[] = [];
    try {
        for (const e of entries) {
            buf = view(e);
            pos = 0;
            entry(buf.length, keys, values);
        }
    } finally {
        buf = Buffer.alloc(0);
    }
    return object(keys, values);
}

/** The entries as the bytes of a Struct message (field 1, length-delimited, each). */
function entriesToStructBytes(entries: readonly Uint8Array[]): Uint8Array {
    const parts: Buffer[] = [];
    for (const e of entries) {
        const len: number[] = [];
        let n = e.length;
        while (n >= 0x80) {
            len.push((n & 0x7f) | 0x80);
            n >>>= 7;
        }
        len.push(n);
        parts.push(Buffer.from([(1 << 3) | WIRE.DELIMITED, ...len]), view(e));
    }
    return Buffer.concat(parts);
}

// ------------------------------------------------------------------------------------------------
// The patch.
// ------------------------------------------------------------------------------------------------

/** google-protobuf's Struct and reader as @pulumi/policy's copy of @pulumi/pulumi loads them. */
export function policyProtobuf(): { Struct: StructClass; jspb: JspbModule } {
    const policyDir = path.dirname(require.resolve("@pulumi/policy/package.json"));
    const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [policyDir] }));
    /* eslint-disable @typescript-eslint/no-require-imports -- the copies resolved from @pulumi/policy's SDK */
    const structPb = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdkDir] })) as { Struct: StructClass };
    const jspb = require(require.resolve("google-protobuf", { paths: [sdkDir] })) as JspbModule;
    /* eslint-enable @typescript-eslint/no-require-imports */
    return { Struct: structPb.Struct, jspb };
}

/**
 * Installs the wire decoding on `Struct` (idempotent). Returns a function that restores jspb's own
 * decoding. `toJavaScript()` and `getFieldsMap()` stay wrapped (they are jspb's own for a Struct with no
 * kept entries), so a Struct received before the undo still gives its value.
 */
export function decodeStructsFromWire(protobuf: { Struct: StructClass; jspb: JspbModule } = policyProtobuf()): () => void {
    const { Struct, jspb } = protobuf;
    const cls = Struct as StructClass & { [PATCHED]?: { deserialize: StructClass["deserializeBinaryFromReader"] } };
    if (!cls[PATCHED]) {
        const deserialize = Struct.deserializeBinaryFromReader;
        const toJavaScript = Struct.prototype.toJavaScript;
        const getFieldsMap = Struct.prototype.getFieldsMap;
        /** Decodes kept entries the ordinary way, so the message is an ordinary Struct from then on. */
        const materialise = (msg: Pending): void => {
            const entries = msg[RAW];
            if (!entries) return;
            delete msg[RAW];
            deserialize(msg, new jspb.BinaryReader(entriesToStructBytes(entries)));
        };
        Struct.prototype.toJavaScript = function (this: Pending) {
            const entries = this[RAW];
            return entries ? entriesToJavaScript(entries) : toJavaScript.call(this);
        };
        Struct.prototype.getFieldsMap = function (this: Pending, noLazyCreate?: boolean) {
            materialise(this);
            return getFieldsMap.call(this, noLazyCreate);
        };
        cls[PATCHED] = { deserialize };
    }
    const { deserialize } = cls[PATCHED];
    if (Struct.deserializeBinaryFromReader !== deserialize) return () => {};
    Struct.deserializeBinaryFromReader = function (msg: Pending, reader: BinaryReader) {
        // A Struct that already has entries (merging into a used message) takes jspb's own path.
        if (msg[RAW] || (msg.getFieldsMap(true) as { getLength(): number } | undefined)?.getLength()) {
            msg.getFieldsMap();
            return deserialize(msg, reader);
        }
        const entries: Uint8Array[] = [];
        while (reader.nextField()) {
            if (reader.isEndGroup()) break;
            if (reader.getFieldNumber() === 1 && reader.getWireType() === WIRE.DELIMITED) entries.push(reader.readBytes());
            else reader.skipField();
        }
        if (entries.length) msg[RAW] = entries;
        return msg;
    };
    return () => {
        Struct.deserializeBinaryFromReader = deserialize;
    };
}
