import { beforeAll, describe, expect, it } from "vitest";
import { runStack, type StackRun, STACKS, policyOf } from "./harness";

describe.each(STACKS)("artifact store in %s", (stack) => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack(stack);
    });

    it("creates a bucket with the stable name", () => {
        const bucket = run.one("aws:s3/bucket:Bucket");
        expect(run.inputs(bucket).bucket).toMatch(new RegExp(`^acme-mlops-${stack}-artifacts-\\d{12}-eu-west-1$`));
        expect(run.inputs(bucket).forceDestroy).toBe(false);
    });
});
