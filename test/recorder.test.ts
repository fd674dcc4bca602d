/**
 * The recording engine's own contract: failures of a program become one ProgramError (never a crash,
 * a hang, or a recording that silently misses resources), and the engine can run again afterwards.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
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
});
