/**
 * The recording engine's own contract: failures of a program become one ProgramError (never a crash,
 * a hang, or a recording that silently misses resources), and the engine can run again afterwards.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { describe, expect, it } from "vitest";
import { ProgramError } from "../engine/recorder";
import { runProgram } from "./harness";

const provider = () => new aws.Provider("aws", { region: "eu-west-1" });

describe("recording engine failures", () => {
    it("a resource input that rejects fails the program with its message", async () => {
        const failure = await runProgram(() => {
            const p = provider();
            new aws.s3.Bucket("b", { bucket: pulumi.output(Promise.reject(new Error("no bucket name today"))) }, { provider: p });
            return {};
        }).then(
            () => undefined,
            (err: unknown) => err,
        );
        expect(failure).toBeInstanceOf(ProgramError);
        expect((failure as ProgramError).message).toBe('the program failed: error serializing property "bucket": no bucket name today');
        expect((failure as ProgramError).resources.map((r) => r.type)).not.toContain("aws:s3/bucket:Bucket");
    });

    it("a program that throws fails with what it threw", async () => {
        const failure = await runProgram(() => {
            throw new Error("boom");
        }).catch((err: unknown) => err);
        expect((failure as ProgramError).message).toBe("the program failed: boom");
        expect((failure as ProgramError).resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });

    it("runs again normally after a failure, and records every resource", async () => {
        const run = await runProgram(() => {
            const p = provider();
            new aws.s3.Bucket("b", { bucket: "fine" }, { provider: p });
            return { ok: pulumi.secret("yes") };
        });
        expect(run.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack", "pulumi:providers:aws", "aws:s3/bucket:Bucket"]);
        expect(run.inputs(run.one("aws:s3/bucket:Bucket")).bucket).toBe("fine");
        expect(run.outputs().ok).toBe("yes");
        expect(run.recording.outputs.ok).toMatchObject({ value: "yes" });
    });

    it("answers each registration as the SDK's MockMonitor does: outputs, secrets and mock state reach the program", async () => {
        let seen: unknown[] = [];
        let tagsSecret: Promise<boolean> | undefined;
        const run = await runProgram(() => {
            const p = provider();
            const b = new aws.s3.Bucket("b", { bucket: "fine", tags: { owner: "fraud", team: pulumi.secret("t") } }, { provider: p });
            pulumi.all([b.bucket, b.tags, b.arn, b.id]).apply((v) => {
                seen = v;
            });
            tagsSecret = pulumi.isSecret(b.tags);
            return { tags: b.tags, arn: b.arn };
        });
        const bucket = run.one("aws:s3/bucket:Bucket");
        expect(seen.slice(0, 2)).toEqual(["fine", { owner: "fraud", team: "t" }]);
        expect(seen[2]).toBe(bucket.outputs.arn);
        expect(seen[2]).toMatch(/^arn:aws:s3:::fine$/);
        expect(seen[3]).toBe(bucket.id);
        // The secret inside the map makes the whole output secret, as over the wire.
        expect(run.recording.outputs.tags).toMatchObject({ value: { owner: "fraud", team: "t" } });
        expect(await tagsSecret).toBe(true);
        // The recorded state is what a Struct carries: the stand-in response loses nothing a real one would keep.
        expect(Struct.fromJavaScript(bucket.outputs as never).toJavaScript()).toEqual(bucket.outputs);
    });
});
