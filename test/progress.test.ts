/** Plan progress (engine/progress.ts): plain lines off a terminal, one live line rewritten on a terminal. */
import { describe, expect, it } from "vitest";
import { formatSeconds, Progress } from "../engine/progress";

function sink(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } };
}

describe("progress", () => {
    it("off a terminal: one line per finished phase with its time, nothing while it runs", () => {
        const { writes, stream } = sink(false);
        let t = 0;
        const p = new Progress({ stream, label: "prod", now: () => t });
        p.start("running the program");
        p.count(10, "resources");
        t = 12.34;
        p.done("running the program", "10 resources");
        expect(writes).toEqual(["plan prod: running the program: 10 resources in 12.3s\n"]);
    });

    it("on a terminal: a live line with the running count, cleared before the finished line; overlapping phases keep showing", () => {
        const { writes, stream } = sink(true);
        let t = 0;
        const p = new Progress({ stream, label: "dev", now: () => t, live: true, intervalMs: 1e6 });
        p.start("starting the policy packs");
        p.start("running the program");
        p.count(5, "resources");
        t = 1;
        p.done("starting the policy packs", "3 packs ready");
        expect(writes.at(-2)).toBe("plan dev: starting the policy packs: 3 packs ready in 1.0s\n");
        expect(writes.at(-1)).toBe("\r\x1b[Kplan dev: running the program... 1.0s, 5 resources");
        t = 2;
        p.done("running the program");
        expect(writes.slice(-2)).toEqual(["\r\x1b[K", "plan dev: running the program in 2.0s\n"]);
        p.stop();
    });

    it("formats seconds and minutes", () => {
        expect(formatSeconds(0.04)).toBe("0.0s");
        expect(formatSeconds(65.2)).toBe("1m05s");
    });
});
